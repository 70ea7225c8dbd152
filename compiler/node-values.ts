/**
 * What a node's value is, as fusion and code generation both need to know it: a constant
 * holding one number (inlined as a literal where it is read), or an alias of its input's
 * buffer. A module of its own so that passes/ and codegen/ share it without importing
 * each other.
 */

import type { Graph, Node } from './graph.js';
import { roleOf } from './graph.js';
import { getOp } from './ops/op.js';

/** A const node whose value is one number repeated: inlined as a literal where it is read. */
export function splatValue(node: Node): number | undefined {
  if (node.op !== 'const') return undefined;
  const values = node.attrs['value'] as readonly number[];
  return values.length === 1 ? values[0] : undefined;
}

/**
 * Whether elementwise code reads `node` by recomputing it where it is read instead of
 * loading it from memory: a splat const (a literal), or an elementwise op with no inputs
 * (`dimSize`: a size from the plan's size block), whose value costs nothing to recompute.
 */
export function recomputedWhereRead(node: Node): boolean {
  if (splatValue(node) !== undefined) return true;
  return roleOf(node) === 'computed' && node.inputs.length === 0 && getOp(node.op).lower?.kind === 'elementwise';
}

/** Whether the node's output is just its input's buffer. */
export function isAlias(node: Node): boolean {
  return getOp(node.op).lower?.kind === 'alias';
}

/** A node's buffer owner: itself, or the value its chain of aliases (reshapes, stopGradient) views. */
export function aliasRoot(graph: Graph, id: number): number {
  let node = graph.node(id);
  while (roleOf(node) === 'computed' && isAlias(node)) node = graph.node(node.inputs[0]!);
  return node.id;
}
