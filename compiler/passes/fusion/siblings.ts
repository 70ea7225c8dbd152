/**
 * Sibling fusion: a weight gradient xᵀ·g and a bias gradient sum(g, 0) read the same g
 * and sum over the same batch axis, so one kernel computes both (the bias as a row of
 * ones in xᵀ), with each one's epilogue (its optimizer update) still fused.
 */

import type { Node } from '../../graph.js';
import type { Building, Fusion } from './building.js';
import { fitsCandidate } from './fit.js';
import { acceptsColumnSums } from '../../ops/op.js';
import { isColumnSum as sumsColumns } from '../../ops/reduce.js';

/** sum(g, axis 0) of a 2-D g (its result is 1-D). */
function isColumnSum(node: Node, g: number): boolean {
  return node.inputs[0] === g && sumsColumns(node);
}

/** Gives each weight-gradient group among `groups` its column-sums sibling, where one fits. */
export function fuseColumnSums(fusion: Fusion, groups: readonly Building[]): void {
  const { graph, groupOf } = fusion;
  // The groups anchored by a column sum, by the g they sum, in order (a scan of every group per weight gradient is quadratic).
  const sumsOf = new Map<number, Building[]>();
  for (const other of groups) {
    if (other.anchor === undefined) continue;
    const g = graph.node(other.anchor).inputs[0];
    if (g === undefined || !isColumnSum(graph.node(other.anchor), g)) continue;
    const list = sumsOf.get(g) ?? [];
    list.push(other);
    sumsOf.set(g, list);
  }
  for (const group of groups) {
    if (group.anchor === undefined || group.columnSums) continue;
    const anchor = graph.node(group.anchor);
    if (anchor.shape.length !== 2 || !acceptsColumnSums(anchor)) continue;
    const g = anchor.inputs[1]!;
    const sibling = (sumsOf.get(g) ?? []).find((other) => other !== group && !other.prologue && !other.columnSums && groupOf.get(other.anchor!) === other);
    if (!sibling) continue;
    const members = new Set([...group.members, ...sibling.members]);
    const candidate = { members, anchor: group.anchor, sumsAnchor: sibling.anchor!, sums: sibling.members };
    if (!fitsCandidate(fusion, group.prologue ? { ...candidate, prologue: group.prologue } : candidate)) continue;
    group.columnSums = sibling;
    for (const id of sibling.members) groupOf.set(id, group);
  }
}
