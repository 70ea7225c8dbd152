/**
 * Group formation, node by node in topological order:
 *
 * - loop fusion: a chain of elementwise ops over one shape is one kernel, since each
 *   element's value can be computed from its inputs without writing the ops in between
 *   to memory (and without a dispatch each).
 * - epilogue fusion: elementwise consumers of a kernel that takes an epilogue (matmul)
 *   run where it stores each output element (bias add, activation, the ReLU mask of the
 *   backward pass, a parameter update), so the product is never written and read again.
 * - input fusion: the loop group computing a reduction's input runs as the reduction
 *   reads each element (see fusePrologue).
 * - multi-output: a group writes every member some node outside it needs, so siblings
 *   and shared intermediates are computed once.
 *
 * Work is never duplicated: each node belongs to exactly one group.
 */

import type { Node } from '../../graph.js';
import { sameShape } from '../../shape.js';
import type { Building, Fusion } from './building.js';
import { acceptsEpilogue, acceptsPrologue, isElementwise } from './building.js';
import { fitsCandidate } from './fit.js';
import { Summaries } from './summary.js';

/** Assigns every node of `work` (computed, no aliases, in topological order) to a group in `fusion.groupOf`. */
export function formGroups(fusion: Fusion, work: readonly Node[]): void {
  const { groupOf } = fusion;
  // Joins are checked incrementally (summary.ts): a chain's group grows a node at a time.
  const summaries = new Summaries(fusion);
  for (const node of work) {
    if (isElementwise(node)) {
      if (!joinProducers(summaries, node)) groupOf.set(node.id, { kind: 'loop', members: new Set([node.id]), shape: node.shape });
    } else if (acceptsEpilogue(node)) {
      const group: Building = { kind: 'epilogue', anchor: node.id, members: new Set([node.id]), shape: node.shape };
      if (acceptsPrologue(node)) fusePrologue(fusion, group, node);
      groupOf.set(node.id, group);
    } else {
      groupOf.set(node.id, { kind: 'single', members: new Set([node.id]), shape: node.shape });
    }
  }
}

/**
 * Loop and epilogue fusion of an elementwise node: it joins the first group feeding it
 * (over its shape) that it fits, and other groups feeding it merge in too (one anchor and
 * one prologue at most). False when it joins none.
 */
function joinProducers(summaries: Summaries, node: Node): boolean {
  const { groupOf } = summaries.fusion;
  const candidates = [...new Set(node.inputs.map((id) => groupOf.get(id)).filter((g): g is Building => g !== undefined))].filter(
    (g) => g.kind !== 'single' && sameShape(g.shape, node.shape),
  );
  const joined = candidates.find((group) => summaries.tryJoin(group, node.id));
  if (!joined) return false;
  for (const other of candidates) {
    if (other === joined || (other.anchor !== undefined && joined.anchor !== undefined)) continue;
    if (other.prologue && joined.prologue) continue;
    const moved = summaries.tryMerge(joined, other, node.id);
    if (!moved) continue;
    for (const id of [...moved, ...(other.prologue?.nodes ?? [])]) groupOf.set(id, joined);
    if (other.prologue) joined.prologue = other.prologue;
    if (other.anchor !== undefined) {
      joined.anchor = other.anchor;
      joined.kind = 'epilogue';
    }
  }
  groupOf.set(node.id, joined);
  return true;
}

/**
 * Input fusion: the loop group computing the anchor's first input is evaluated as the
 * anchor reads it, when nothing else needs that group (else its result is in memory
 * anyway, and reading it is cheaper than computing it again).
 */
function fusePrologue(fusion: Fusion, group: Building, anchor: Node): void {
  const { graph, groupOf, consumers, externallyRead } = fusion;
  const input = graph.node(anchor.inputs[0]!);
  const producer = groupOf.get(input.id);
  if (!producer || producer.kind !== 'loop' || !sameShape(producer.shape, input.shape)) return;
  const cone = new Set<number>();
  const stack = [input.id];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (cone.has(id) || !producer.members.has(id)) continue;
    cone.add(id);
    stack.push(...graph.node(id).inputs);
  }
  const usedElsewhere = [...cone].some((id) => externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => c !== anchor.id && !cone.has(c)));
  if (usedElsewhere || cone.size !== producer.members.size) return;
  const prologue = { nodes: cone, shape: input.shape, result: input.id };
  if (!fitsCandidate(fusion, { members: group.members, prologue, anchor: anchor.id }, anchor.id)) return;
  group.prologue = prologue;
  for (const id of cone) groupOf.set(id, group);
}
