/**
 * The playground's worker (bundled as worker.js beside main.js): runs the user's code,
 * compiles, lays out graphs and serves feeds, so the page's thread only draws and runs the
 * GPU session. One handler per method of WorkerApi; a feature adds its line here.
 */

import { compile, describeError } from './compile.js';
import { feeds } from './feeds.js';
import { serve } from './host.js';
import { layout } from './layout.js';
import { onnxDims } from './onnx-source.js';
import { stages, unfusedReport } from './stages.js';
import { values, valuesContext } from './values.js';

serve(
  {
    compile,
    feeds,
    layout,
    onnxDims,
    stages,
    unfusedReport,
    values,
    valuesContext,
  },
  describeError,
);
