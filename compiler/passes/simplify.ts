/**
 * The simplification pipeline: every rewrite pass in turn, repeated until the program
 * stops changing (one rewrite exposes another: folding the seed cotangent to a splat
 * lets the next reshape fold too), with dead code removed last in every round. It runs
 * after autodiff and the optimizer (it removes stopGradient, which only matters to grad).
 */

import { simplifyAlgebra } from './algebra.js';
import { cleanupBroadcastReduce } from './broadcast-reduce.js';
import { fingerprint } from './canonical.js';
import { eliminateCommonSubexpressions } from './common-subexpressions.js';
import { eliminateDeadCode } from './dead-code.js';
import { foldConstants } from './fold-constants.js';
import { rewriteLogSoftmax } from './log-softmax.js';
import { expandOneHots } from './one-hot.js';
import { mergeReductions } from './merge-reductions.js';
import { maskFromRelu } from './relu-mask.js';
import type { GraphProgram, Pass } from './program.js';
import { requireProgram } from './program.js';
import { foldTransposesIntoMatmul } from './transpose-matmul.js';

/** One round, in order: rewrites first, then CSE over their results, then DCE of what they left dead. */
export const SIMPLIFY_PASSES: readonly Pass[] = [
  cleanupBroadcastReduce,
  foldConstants,
  simplifyAlgebra,
  mergeReductions,
  foldTransposesIntoMatmul,
  rewriteLogSoftmax,
  expandOneHots,
  maskFromRelu,
  eliminateCommonSubexpressions,
  eliminateDeadCode,
];

/** Rounds are bounded so a pair of rules that undo each other cannot loop forever. */
export const MAX_SIMPLIFY_ROUNDS = 16;

/** Runs `SIMPLIFY_PASSES` until a round changes nothing (at most `MAX_SIMPLIFY_ROUNDS`). */
export function simplify(program: GraphProgram): GraphProgram {
  requireProgram('simplify', program);
  let current = eliminateDeadCode(program);
  let before = fingerprint(current);
  for (let round = 0; round < MAX_SIMPLIFY_ROUNDS; round++) {
    current = SIMPLIFY_PASSES.reduce((p, pass) => pass(p), current);
    const after = fingerprint(current);
    if (after === before) break;
    before = after;
  }
  return current;
}
