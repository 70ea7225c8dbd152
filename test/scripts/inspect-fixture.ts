/** A module `kiln inspect` loads by path in the CLI tests: its default export builds a small graph. */

import { Graph } from '../../compiler/graph.js';

export default function scaleAndShift(): Graph {
  const g = new Graph('scale_and_shift');
  const x = g.input('x', [8, 3]);
  const w = g.param('w', [3], { init: 'ones' });
  g.output('y', x.mul(w).add(1).relu());
  return g;
}
