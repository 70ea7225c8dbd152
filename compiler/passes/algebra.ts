/**
 * Algebraic identities: operations that give back their operand unchanged are removed,
 * and chains of shape ops collapse into one. A rule fires only when the replacement has
 * the node's exact shape and dtype, so a broadcast (x[3] · ones[2,3]) is never lost.
 * A multiply by 0 is not folded: NaN·0 and ∞·0 are NaN, not 0.
 */

import type { Graph, Node } from '../graph.js';
import { reshapeOp, transposeOp } from '../ops/shape.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { isSplatOf } from './constants.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

type Rule = (node: Node, inputs: readonly Tensor[], graph: Graph) => Tensor | undefined;

/** `x` when it can stand for `node`: same shape and dtype (a broadcast or a dtype change cannot be dropped). */
const ifSameType = (node: Node, x: Tensor): Tensor | undefined =>
  sameShape(x.shape, node.shape) && x.dtype === node.dtype ? x : undefined;

/** The operand of a binary op whose other operand is the splat `identity` (checked on `side`s). */
function identityOperand(node: Node, [a, b]: readonly Tensor[], identity: number, sides: 'either' | 'right'): Tensor | undefined {
  if (isSplatOf(b!, identity)) return ifSameType(node, a!);
  if (sides === 'either' && isSplatOf(a!, identity)) return ifSameType(node, b!);
  return undefined;
}

const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((a, i) => a === i);

/** The input of a unary node's operand when that operand is a node of `op` (neg of neg, ...). */
const operandOf = (x: Tensor, op: string): Tensor | undefined => (x.node.op === op ? x.graph.tensor(x.node.inputs[0]!) : undefined);

const RULES: Readonly<Record<string, Rule>> = {
  // x·1 = 1·x = x exactly (NaN, ±∞ and −0 included).
  mul: (node, inputs) => identityOperand(node, inputs, 1, 'either'),
  // x + 0 = x, but for −0 + 0 = +0: the sign of a zero sum is not worth a kernel (XLA drops it too).
  add: (node, inputs) => identityOperand(node, inputs, 0, 'either'),
  // x − 0 = x (the same zero-sign caveat as add for x − (−0)).
  sub: (node, inputs) => identityOperand(node, inputs, 0, 'right'),
  // x / 1 = x exactly, for f32 and i32.
  div: (node, inputs) => identityOperand(node, inputs, 1, 'right'),
  // −(−x) = x exactly.
  neg: (_, [x]) => operandOf(x!, 'neg'),
  // Two permutations compose into one; a permutation that leaves every axis in place is x.
  transpose: (node, [x], graph) => {
    const outer = node.attrs['perm'] as readonly number[];
    const inner = x!.node.op === 'transpose' ? (x!.node.attrs['perm'] as readonly number[]) : undefined;
    const source = inner ? graph.tensor(x!.node.inputs[0]!) : x!;
    const perm = inner ? outer.map((a) => inner[a]!) : outer;
    if (isIdentityPerm(perm)) return source;
    return inner ? graph.addNode(transposeOp, [source], { perm }) : undefined;
  },
  // Row-major order is unchanged by a reshape, so only the last shape matters; reshaping to x's own shape is x.
  reshape: (node, [x], graph) => {
    const source = operandOf(x!, 'reshape') ?? x!;
    if (sameShape(source.shape, node.shape)) return source;
    return source === x ? undefined : graph.addNode(reshapeOp, [source], { shape: [...node.shape] });
  },
  // Broadcasting to the shape x already has repeats nothing.
  broadcastTo: (node, [x]) => ifSameType(node, x!),
  // Gradients have been taken when the simplifier runs: stopGradient is the identity now.
  stopGradient: (_, [x]) => x,
  // A cast to the dtype x already has converts nothing.
  cast: (node, [x]) => ifSameType(node, x!),
};

const simplifyNode: Rewrite = (node, inputs, graph) => RULES[node.op]?.(node, inputs, graph);

/** Applies every identity once per node; `simplify` repeats it to a fixed point. */
export function simplifyAlgebra(program: GraphProgram): GraphProgram {
  return rebuild(program, simplifyNode);
}
