/**
 * Fusion: partitions the nodes an entry needs into kernels and makes every decision about
 * them, each group carrying its kind and the reason it exists. Stages, in order (one
 * module each, with the one-line why of each rule):
 *
 * 1. form.ts: loop, epilogue and input fusion, node by node (fit.ts refuses a merge that
 *    would make a cycle between kernels or bind more storage buffers than the device allows);
 * 2. siblings.ts: a bias gradient's column sums as an extra row of its weight gradient;
 * 3. rows.ts: softmax and row reductions with the work around them, one invocation per row;
 * 4. sinking.ts: an elementwise value moved into the one group that reads it;
 * 5. order.ts: the groups in the order their kernels run;
 * 6. in-place.ts: update values written straight into their param/state;
 * 7. bindings.ts: exact binding counts, and a split of a group still over the limit.
 *
 * Unfused ({fuse: false}), each node is a group of its own, with the same in-place rule.
 */

import { roleOf } from '../../graph.js';
import type { Graph, Node } from '../../graph.js';
import { aliasRoot, isAlias, recomputedWhereRead } from '../../node-values.js';
import type { KernelLimits } from '../../limits.js';
import type { Building, Fusion } from './building.js';
import { isElementwise } from './building.js';
import { formGroups } from './form.js';
import type { FusionGroup } from './group.js';
import type { EntryUpdates } from './in-place.js';
import { decideInPlace } from './in-place.js';
import { orderGroups, ownedGroups } from './order.js';
import { fuseColumnSums } from './siblings.js';
import { fuseRows } from './rows.js';
import { sinkIntoConsumers } from './sinking.js';
import { singleNodeGroup, withinBindingLimit } from './bindings.js';

export type { FusionGroup, InPlaceWrite, KernelKind } from './group.js';
export type { EntryUpdates } from './in-place.js';
export { MAX_ROW_LENGTH } from './rows.js';

export interface FusionOptions {
  /** Fuse (default true); false gives one group per node, the reference for fused results. */
  readonly fuse?: boolean;
  readonly limits: Pick<KernelLimits, 'maxStorageBuffersPerShaderStage'>;
}

/**
 * The kernels of one entry, in dispatch order: the computed nodes of `entry.needed`
 * (alias nodes excepted: they are views, not work) partitioned into groups. Each entry
 * is fused on its own: a forward pass never runs (or writes) training work.
 */
/** Each needed node's computed consumers among `needed`. */
function consumersIn(graph: Graph, needed: ReadonlySet<number>): Map<number, number[]> {
  const consumers = new Map<number, number[]>();
  for (const node of graph.nodes) {
    if (!needed.has(node.id) || roleOf(node) !== 'computed') continue;
    for (const input of node.inputs) {
      const readers = consumers.get(input) ?? [];
      readers.push(node.id);
      consumers.set(input, readers);
    }
  }
  return consumers;
}

/**
 * The nodes of `work` no kernel computes: values elementwise code recomputes where it reads
 * them (`recomputedWhereRead`: a dimSize, a short chain over sizes and splats) when every
 * reader, seen through views, is elementwise code and nothing reads them after the entry.
 * Such a value needs no dispatch of its own, nor a buffer.
 */
export function inlinedValues(graph: Graph, work: readonly Node[], consumers: ReadonlyMap<number, readonly number[]>, externallyRead: ReadonlySet<number>): Set<number> {
  const readers = (id: number): number[] => (consumers.get(id) ?? []).flatMap((c) => (isAlias(graph.node(c)) ? readers(c) : [c]));
  return new Set(
    work
      .filter((node) => node.op !== 'const' && !externallyRead.has(node.id) && recomputedWhereRead(graph, node))
      .filter((node) => readers(node.id).every((c) => isElementwise(graph.node(c))))
      .map((node) => node.id),
  );
}

/** The nodes an entry needs that no kernel computes (see `inlinedValues`), for the stage checks. */
export function inlinedValuesOf(graph: Graph, entry: Pick<EntryUpdates, 'needed' | 'outputs' | 'assignments'>): Set<number> {
  const work = graph.nodes.filter((n) => entry.needed.has(n.id) && roleOf(n) === 'computed' && !isAlias(n));
  const externallyRead = new Set([...entry.outputs, ...entry.assignments.map(([, value]) => value)].map((id) => aliasRoot(graph, id)));
  return inlinedValues(graph, work, consumersIn(graph, entry.needed), externallyRead);
}

export function fuseEntry(graph: Graph, entry: EntryUpdates, options: FusionOptions): FusionGroup[] {
  const rootOf = (id: number): number => aliasRoot(graph, id);
  const work = graph.nodes.filter((n) => entry.needed.has(n.id) && roleOf(n) === 'computed' && !isAlias(n));
  const maxBindings = options.limits.maxStorageBuffersPerShaderStage;
  if (options.fuse === false) {
    const groups = work.map((node) => singleNodeGroup(graph, node.id, `${node.op}: unfused`));
    return withinBindingLimit(graph, decideInPlace(graph, groups, entry, rootOf), maxBindings);
  }
  const consumers = consumersIn(graph, entry.needed);
  const externallyRead = new Set([...entry.outputs, ...entry.assignments.map(([, value]) => value)].map(rootOf));
  const inlined = inlinedValues(graph, work, consumers, externallyRead);
  const fusion: Fusion = {
    graph,
    consumers,
    externallyRead,
    updates: new Map(entry.assignments.map(([target, value]) => [value, target])),
    maxBindings,
    groupOf: new Map<number, Building>(),
  };
  formGroups(
    fusion,
    work.filter((node) => !inlined.has(node.id)),
  );
  fuseColumnSums(fusion, [...new Set(fusion.groupOf.values())]);
  fuseRows(fusion);
  sinkIntoConsumers(fusion);
  const ordered = orderGroups(fusion, ownedGroups(fusion.groupOf));
  return withinBindingLimit(graph, decideInPlace(graph, ordered, entry, rootOf), maxBindings);
}
