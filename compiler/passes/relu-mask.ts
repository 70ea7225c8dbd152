/**
 * greater(x, 0) → greater(relu(x), 0) where relu(x) is computed anyway: the two masks are
 * equal (relu(x) > 0 exactly when x > 0), but the backward pass of a ReLU layer can then
 * read the activation it keeps for the weight gradient instead of a stored mask (or the
 * pre-activation), so neither needs memory of its own. CSE merges the new relu with the
 * existing one.
 */

import { greater } from '../ops/binary.js';
import { relu } from '../ops/unary.js';
import { isSplatOf } from './constants.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

export function maskFromRelu(program: GraphProgram): GraphProgram {
  const activated = new Set(program.graph.nodes.filter((n) => n.op === 'relu').map((n) => n.inputs[0]!));
  const rewrite: Rewrite = (node, [x, zero]) => {
    if (node.op !== 'greater' || !activated.has(node.inputs[0]!) || !isSplatOf(zero!, 0) || x!.node.op === 'relu') return undefined;
    return greater(relu(x!), zero!);
  };
  return rebuild(program, rewrite);
}
