/**
 * In-place writes, decided once the groups are ordered: an update value may be written
 * straight into its param/state (value id → target id), saving a buffer and a copy.
 */

import type { Graph } from '../../graph.js';
import { sameShape } from '../../shape.js';
import { isElementwise } from './building.js';
import type { FusionGroup, InPlaceWrite } from './group.js';

/** What the in-place rule reads of an entry. */
export interface EntryUpdates {
  readonly needed: ReadonlySet<number>;
  /** Nodes the entry reads back after its kernels. */
  readonly outputs: readonly number[];
  /** `[target, value]`: after the entry, param/state `target` holds node `value`. */
  readonly assignments: readonly (readonly [number, number])[];
}

/**
 * Whether a group's outputs are stored by element code (a loop kernel, or an anchor's
 * epilogue), the only code that can store an output into another node's binding; a row
 * kernel or an op's own template stores into the node's own buffer.
 */
function storesByElement(graph: Graph, group: FusionGroup): boolean {
  return group.kind !== 'row' && (group.anchor !== undefined || group.nodes.every((id) => isElementwise(graph.node(id))));
}

/**
 * The groups with their in-place writes. A value is written in place when its group
 * stores it by element code; it has no other reader (a reader elsewhere would need its
 * own buffer); every other kernel reading the target runs earlier (it needs the old
 * value); and inside the group the target is read only elementwise at the element
 * written: never by the anchor or its prologue (whose invocations read other elements),
 * nor through an alias (a reshape of the target), nor over another shape (broadcast).
 */
export function decideInPlace(graph: Graph, groups: readonly FusionGroup[], entry: EntryUpdates, rootOf: (id: number) => number): FusionGroup[] {
  const writes = groups.map((): InPlaceWrite[] => []);
  const taken = new Set<number>();
  // What the rule asks of each update, indexed once (asked per update, it is quadratic in a large model).
  const targets = new Set(entry.assignments.map(([target]) => target));
  const values = new Set(entry.assignments.map(([, value]) => value));
  const lastReader = new Map<number, number>();
  const producer = new Map<number, number>();
  groups.forEach((g, position) => {
    for (const id of [...g.nodes, ...(g.prologue?.nodes ?? [])]) {
      for (const input of graph.node(id).inputs) {
        const root = rootOf(input);
        if (targets.has(root)) lastReader.set(root, position);
      }
    }
    for (const id of g.outputs) if (values.has(id) && !producer.has(id)) producer.set(id, position);
  });
  const readersOf = new Map<number, number[]>();
  for (const n of graph.nodes) {
    if (!entry.needed.has(n.id)) continue;
    for (const input of new Set(n.inputs)) {
      if (!values.has(input)) continue;
      const readers = readersOf.get(input) ?? [];
      readers.push(n.id);
      readersOf.set(input, readers);
    }
  }
  const outputIds = new Set(entry.outputs.map(rootOf));
  for (const [target, value] of entry.assignments) {
    const position = producer.get(value) ?? -1;
    const group = groups[position];
    if (!group || !storesByElement(graph, group) || outputIds.has(value) || taken.has(target)) continue;
    const members = new Set(group.nodes);
    if ((readersOf.get(value) ?? []).some((id) => !members.has(id))) continue;
    if ((lastReader.get(target) ?? -1) > position) continue;
    const anchorReads = [...(group.anchor === undefined ? [] : [group.anchor]), ...(group.prologue?.nodes ?? [])];
    if (anchorReads.some((id) => graph.node(id).inputs.some((input) => rootOf(input) === target))) continue;
    const aliasRead = group.nodes.some((id) => graph.node(id).inputs.some((input) => input !== target && rootOf(input) === target));
    const partShape = group.columnSums?.nodes.includes(value) ? graph.node(group.columnSums.anchor).shape : group.shape;
    if (aliasRead || !sameShape(graph.node(target).shape, partShape)) continue;
    writes[position]!.push({ value, target });
    taken.add(target);
  }
  return groups.map((group, k) => ({ ...group, inPlace: writes[k]! }));
}
