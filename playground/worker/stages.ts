/**
 * The worker's `stages` and `unfusedReport`: the compiler's own stages of the last compile
 * as text (printStage: the graph as written, with modes specialized, simplified; the
 * fusion groups; the fused kernels) and the same program compiled without fusion (one
 * kernel per op), for the page's Stages tab and its kernels' fused/unfused toggle. The
 * compile the page did not ask for is made on demand, once per compile.
 */

import { compileStages, printStage, reportOfStages } from '../../index.js';
import type { CompileReport, CompileStages } from '../../index.js';
import type { StageView } from '../stage-names.js';
import type { Handled } from './host.js';
import { lastCompile } from './state.js';
import type { LastCompile } from './state.js';

/** The other compile (with fusion when the page's was without, and the reverse), per last compile. */
const otherCompiles = new WeakMap<LastCompile, CompileStages>();

/** The last compile's stages with fusion on or off. */
function stagesOf(fuse: boolean): CompileStages {
  const last = lastCompile('Stages');
  if (last.fuse === fuse) return last.stages;
  let other = otherCompiles.get(last);
  if (!other) {
    other = compileStages(last.user.model, { fuse, ...(last.limits ? { limits: last.limits } : {}) });
    otherCompiles.set(last, other);
  }
  return other;
}

export function stages(args: { readonly stage: StageView }): Handled<{ readonly text: string }> {
  const { stage } = args;
  switch (stage) {
    case 'written':
    case 'specialized':
    case 'simplified':
      return { result: { text: printStage(lastCompile('Stages').stages, stage) } };
    case 'fusion':
      return { result: { text: printStage(stagesOf(true), 'fusion') } };
    case 'fused':
      return { result: { text: printStage(stagesOf(true), 'kernels') } };
    case 'unfused':
      return { result: { text: printStage(stagesOf(false), 'kernels') } };
    default:
      throw new Error(`Stages: unknown stage '${String(stage)}'. Fix: one of written, specialized, simplified, fusion, fused, unfused.`);
  }
}

/** The last compile's report without fusion: its kernels are one op each, over the same simplified graph. */
export function unfusedReport(): Handled<CompileReport> {
  return { result: reportOfStages(stagesOf(false)) };
}
