/**
 * Binding counts, exact once in-place writes are decided, and the split of a group whose
 * kernel would still bind more storage buffers than the device allows.
 */

import type { Graph } from '../../graph.js';
import { sizeOf } from '../../shape.js';
import { isElementwise } from './building.js';
import { readsOf } from './fit.js';
import type { FusionGroup } from './group.js';

/** Whether the group's kernel is code fusion generates, rather than one op's own template (which decides its bindings). */
export function isFusedCode(graph: Graph, group: FusionGroup): boolean {
  if (group.kind === 'row') return true;
  if (group.anchor !== undefined) return group.nodes.length > 1 || group.prologue !== undefined || group.inPlace.length > 0;
  return group.nodes.every((id) => isElementwise(graph.node(id)));
}

/** Distinct buffers that `readers` read from outside `inside` (fit.ts readsOf). */
function externalReads(graph: Graph, readers: readonly number[], inside: ReadonlySet<number> = new Set(readers)): Set<number> {
  return readsOf(graph, readers, (id) => inside.has(id));
}

/**
 * Bindings of one element program (codegen/fused.ts elementCode): each distinct buffer it
 * reads, each in-place target (bound once, even when also read) and each other output.
 */
function elementBindings(graph: Graph, group: FusionGroup, nodes: readonly number[], outputs: readonly number[]): number {
  // An anchor's value arrives as `value`: its own operands are the template's, not the program's.
  const computed = nodes.filter((id) => id !== group.anchor && id !== group.columnSums?.anchor);
  const bound = externalReads(graph, computed, new Set(nodes));
  let count = 0;
  for (const id of outputs) {
    const target = group.inPlace.find((w) => w.value === id)?.target;
    if (target === undefined) count++;
    else bound.add(target);
  }
  return bound.size + count;
}

/**
 * The storage buffers a fused group's kernel binds: a row kernel its distinct reads and
 * its outputs; a loop kernel its element program's; an anchor's template each operand
 * (a prologue's reads instead of the operand it computes; none when an operand holds no
 * element, as the template then stores a constant) and then its epilogue's (and column sums').
 */
export function storageBuffersOf(graph: Graph, group: FusionGroup): number {
  if (group.kind === 'row') return externalReads(graph, group.nodes).size + group.outputs.length;
  const sums = new Set(group.columnSums?.nodes ?? []);
  const main = group.nodes.filter((id) => !sums.has(id));
  let count = elementBindings(graph, group, main, group.outputs.filter((id) => !sums.has(id)));
  if (group.columnSums) count += elementBindings(graph, group, group.columnSums.nodes, group.columnSums.outputs);
  if (group.anchor === undefined) return count;
  const operands = graph.node(group.anchor).inputs;
  const prologue = group.prologue;
  const operandSizes = operands.map((id, k) => sizeOf(graph.node(k === 0 && prologue ? prologue.result : id).shape));
  if (operandSizes.some((size) => size === 0)) return count;
  return count + operands.length - (prologue ? 1 : 0) + (prologue ? externalReads(graph, prologue.nodes).size : 0);
}

/**
 * The groups with exact binding counts; a group binding more than `maxBindings` becomes
 * one group per node (its own lowering each, its updates copied rather than written in
 * place), since fusion counted the group's bindings before knowing its in-place writes.
 */
export function withinBindingLimit(graph: Graph, groups: readonly FusionGroup[], maxBindings: number): FusionGroup[] {
  return groups.flatMap((group): FusionGroup[] => {
    if (!isFusedCode(graph, group)) return [group];
    const storageBuffers = storageBuffersOf(graph, group);
    const inGroup = new Set([...(group.prologue?.nodes ?? []), ...group.nodes]);
    if (storageBuffers <= maxBindings || inGroup.size === 1) return [{ ...group, storageBuffers }];
    const reason =
      `${group.reason}; split into one kernel per node: fused, it would bind ${storageBuffers} storage buffers, ` +
      `over maxStorageBuffersPerShaderStage of ${maxBindings}`;
    return graph.nodes
      .filter((node) => inGroup.has(node.id))
      .map((node) => singleNodeGroup(graph, node.id, reason));
  });
}

/** A group of one node and no fusion: its op's own kernel (an elementwise op as a loop kernel of one). */
export function singleNodeGroup(graph: Graph, id: number, reason: string): FusionGroup {
  const node = graph.node(id);
  const group: FusionGroup = { kind: 'single', reason, nodes: [id], outputs: [id], shape: node.shape, inPlace: [] };
  return isFusedCode(graph, group) ? { ...group, storageBuffers: storageBuffersOf(graph, group) } : group;
}
