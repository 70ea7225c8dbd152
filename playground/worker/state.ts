/**
 * The worker's last successful compile: the user's model (with its `feeds`), every stage
 * and the plan. Handlers after `compile` (feeds, layout, values, stages) read it here, so
 * the page never sends a graph back; a failed compile leaves the previous one in place,
 * as the page keeps showing it.
 */

import type { CompileStages } from '../../index.js';
import type { UserModel } from '../user-code.js';

export interface LastCompile {
  readonly user: UserModel;
  /** Every stage, the plan (`stages.plan`) among them. */
  readonly stages: CompileStages;
  /** Whether it was compiled with fusion (the page's fused/unfused toggle). */
  readonly fuse: boolean;
  /** The limits it was compiled for (the page's device's, or WebGPU's defaults). */
  readonly limits: Readonly<Record<string, number>> | undefined;
}

let last: LastCompile | undefined;

export function rememberCompile(compile: LastCompile): void {
  last = compile;
}

/** The last compile; throws (a message for the page) when nothing has compiled yet. */
export function lastCompile(what: string): LastCompile {
  if (!last) throw new Error(`${what}: nothing has compiled yet. Fix: compile the code first (Compile, or Ctrl+Enter).`);
  return last;
}
