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

/** The most ops a recomputed value may hold (its expression is repeated wherever it is read). */
const MAX_RECOMPUTED_OPS = 8;

/**
 * Whether elementwise code reads `node` by recomputing it where it is read instead of
 * loading it from memory: a value that is the same at every element and cheap — a splat
 * const (a literal), an elementwise op with no inputs (`dimSize`: a size from the plan's
 * size block), or a short elementwise chain (at most MAX_RECOMPUTED_OPS ops) over such
 * values, views of them included (a symbolic batch's −1/batch, broadcast over the batch).
 */
export function recomputedWhereRead(graph: Graph, node: Node): boolean {
  return recomputedOps(graph, node, MAX_RECOMPUTED_OPS) !== undefined;
}

/** The ops recomputing `node` takes (0 for a splat), or undefined when it is not recomputed or takes more than `budget`. */
function recomputedOps(graph: Graph, node: Node, budget: number): number | undefined {
  if (splatValue(node) !== undefined) return 0;
  if (roleOf(node) !== 'computed') return undefined;
  if (isAlias(node)) return recomputedOps(graph, graph.node(node.inputs[0]!), budget);
  if (getOp(node.op).lower?.kind !== 'elementwise' || budget < 1) return undefined;
  let used = 1;
  for (const input of node.inputs) {
    const ops = recomputedOps(graph, graph.node(input), budget - used);
    if (ops === undefined) return undefined;
    used += ops;
  }
  return used <= budget ? used : undefined;
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
