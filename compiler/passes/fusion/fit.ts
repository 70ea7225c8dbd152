/**
 * Whether a proposed group may be one kernel. A merge is refused when it would make a
 * cycle between kernels (a path that leaves the group and comes back), bind more storage
 * buffers than the device allows, or have the anchor (or its prologue) read a member:
 * the anchor reads its operands from memory, so a member computed in its epilogue would
 * be read before it is written.
 */

import { recomputedWhereRead } from '../../node-values.js';
import type { Graph } from '../../graph.js';
import type { Building, Candidate, Fusion } from './building.js';
import { neededOutside, nodesOfGroup } from './building.js';

/**
 * Whether making `members` one kernel would put it on a cycle of kernels: a path from
 * it, through other groups (each running as a unit) or ungrouped nodes, back into it.
 * `bound`, while groups are formed in topological order: no node after it is grouped yet.
 */
export function createsCycle(fusion: Fusion, members: ReadonlySet<number>, bound?: number): boolean {
  const starts: number[] = [];
  for (const id of members) for (const c of fusion.consumers.get(id) ?? []) if (!members.has(c)) starts.push(c);
  return createsCycleFrom(fusion, (id) => members.has(id), starts, bound);
}

/**
 * createsCycle for the group of the nodes `inside` says are in it, searching from
 * `starts`, the nodes outside it that read it. An ungrouped node after `bound` is a dead
 * end: every node after it is ungrouped too, and outside the group (which is grouped but
 * for the node being placed, `bound` itself), so no path through it comes back.
 */
export function createsCycleFrom(fusion: Fusion, inside: (id: number) => boolean, starts: Iterable<number>, bound = Infinity): boolean {
  const unitOf = (id: number): Building | number => fusion.groupOf.get(id) ?? id;
  const seen = new Set<Building | number>();
  const stack: (Building | number)[] = [];
  const enqueue = (consumer: number): void => {
    const unit = unitOf(consumer);
    if (!seen.has(unit) && !(typeof unit === 'number' && unit > bound)) {
      seen.add(unit);
      stack.push(unit);
    }
  };
  for (const c of starts) enqueue(c);
  while (stack.length > 0) {
    const unit = stack.pop()!;
    const nodes = typeof unit === 'number' ? [unit] : nodesOfGroup(unit).filter((id) => !inside(id));
    for (const id of nodes) {
      for (const c of fusion.consumers.get(id) ?? []) {
        if (inside(c)) return true;
        enqueue(c);
      }
    }
  }
  return false;
}

/** Distinct buffers read by `nodes` from outside `inside` (splat constants are literals). */
export function readsOf(graph: Graph, nodes: Iterable<number>, inside: (id: number) => boolean): Set<number> {
  const reads = new Set<number>();
  for (const id of nodes) {
    for (const input of graph.node(id).inputs) if (!inside(input) && !recomputedWhereRead(graph, graph.node(input))) reads.add(input);
  }
  return reads;
}

/**
 * Storage buffers a candidate's kernel would bind, as groups are formed: the anchor's
 * operands (each one, even a buffer read twice; a prologue's reads instead of the operand
 * it computes), the distinct reads of each element program (epilogue, column sums) and
 * one per output, except an update over a param or state that the same program reads
 * (likely written in place; bindings.ts counts exactly once in-place writes are decided,
 * and splits a group this estimate let through).
 */
export function estimatedBindings(fusion: Fusion, candidate: Candidate): number {
  const { graph } = fusion;
  const { members, prologue, anchor, sumsAnchor } = candidate;
  let count = 0;
  if (anchor !== undefined) {
    graph.node(anchor).inputs.forEach((_, k) => {
      if (k === 0 && prologue) count += readsOf(graph, prologue.nodes, (id) => prologue.nodes.has(id)).size;
      else count++;
    });
  }
  const sums = sumsAnchor === undefined ? new Set<number>() : candidate.sums!;
  const parts = anchor === undefined ? [[...members]] : [[...members].filter((id) => id !== anchor && !sums.has(id)), [...sums].filter((id) => id !== sumsAnchor)];
  for (const part of parts) {
    const reads = readsOf(graph, part, (id) => members.has(id));
    count += reads.size;
    for (const id of part) {
      const target = fusion.updates.get(id);
      if (neededOutside(fusion, id, members) && !(target !== undefined && reads.has(target))) count++;
    }
  }
  // The anchor's own value, when something outside needs it.
  if (anchor !== undefined && neededOutside(fusion, anchor, members)) count++;
  return count;
}

/** Whether a candidate may be one kernel (see the module comment); `bound` as for createsCycle. */
export function fitsCandidate(fusion: Fusion, candidate: Candidate, bound?: number): boolean {
  if (!fitsIfAcyclic(fusion, candidate)) return false;
  // Fused producers run inside the kernel too: they are part of it for cycles.
  const all = new Set([...candidate.members, ...(candidate.prologue?.nodes ?? [])]);
  return !createsCycle(fusion, all, bound);
}

/** fitsCandidate for a candidate that cannot be on a cycle (the caller says why): the reads and the binding count. */
export function fitsIfAcyclic(fusion: Fusion, candidate: Candidate): boolean {
  const { graph } = fusion;
  if (candidate.anchor !== undefined && graph.node(candidate.anchor).inputs.some((input) => candidate.members.has(input))) return false;
  // Likewise what a fused producer reads: it runs before the epilogue computes anything.
  for (const id of candidate.prologue?.nodes ?? []) {
    if (graph.node(id).inputs.some((input) => candidate.members.has(input))) return false;
  }
  return estimatedBindings(fusion, candidate) <= fusion.maxBindings;
}
