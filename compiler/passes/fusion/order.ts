/**
 * Ordering: the groups as FusionGroups (plain data, kind and reason named) in an order
 * their kernels can run in.
 */

import { GraphError } from '../../errors.js';
import type { Graph } from '../../graph.js';
import type { Building, Fusion } from './building.js';
import type { FusionGroup, KernelKind } from './group.js';
import { MinHeap } from '../../min-heap.js';

/**
 * The groups as `groupOf` assigns nodes to them: merges and moves leave the sets of the
 * groups they came from stale, so each group keeps only the nodes it owns, and a group
 * left without nodes is gone.
 */
export function ownedGroups(groupOf: ReadonlyMap<number, Building>): Building[] {
  const groups = [...new Set(groupOf.values())];
  for (const g of groups) {
    g.members = new Set([...g.members].filter((id) => groupOf.get(id) === g));
    if (g.prologue) g.prologue.nodes = new Set([...g.prologue.nodes].filter((id) => groupOf.get(id) === g));
  }
  return groups.filter((g) => g.members.size > 0);
}

/**
 * The rule that formed a group, as the plan names it: input and sibling fusion by name;
 * a group of one op is `single`, except a row kernel (a softmax alone still runs one
 * invocation per row, the row in registers).
 */
function kernelKind(group: Building): KernelKind {
  if (group.prologue) return 'input';
  if (group.columnSums) return 'sibling';
  return group.members.size === 1 && group.kind !== 'row' ? 'single' : group.kind;
}

function describe(group: Building, graph: Graph): string {
  const ops = [...group.members].map((id) => graph.node(id).op);
  if (group.kind === 'single') return `${ops[0]}: a kernel of its own (no fusion rule applies)`;
  if (group.prologue) {
    const before = [...group.prologue.nodes].map((id) => graph.node(id).op).join(', ');
    const after = ops.slice(1);
    return `input fusion: ${before} computed as ${ops[0]} reads its input${after.length > 0 ? `; epilogue: ${after.join(', ')}` : ''}`;
  }
  if (group.columnSums) {
    const sums = [...group.columnSums.members].map((id) => graph.node(id).op);
    return `sibling fusion: ${ops.join(', ')} with the column sums ${sums.join(', ')} as an extra row of the same product`;
  }
  if (group.kind === 'row') {
    return `row fusion: ${ops.join(', ')} with one invocation per row of [${group.shape.join(',')}], the row in registers`;
  }
  if (group.kind === 'epilogue') {
    return group.members.size === 1
      ? `${ops[0]}: kernel with no fusible consumers`
      : `epilogue fusion: ${ops.slice(1).join(', ')} applied as ${ops[0]} stores each element`;
  }
  return group.members.size === 1 ? `${ops[0]}: elementwise, alone` : `loop fusion: ${ops.join(', ')} in one pass over [${group.shape.join(',')}]`;
}

/**
 * Kahn's algorithm over group dependencies, the ready groups in a heap. Among ready groups, those computing no
 * parameter update go first (updates are sinks, and running them last lets them write in
 * place after every reader of the old value); then the group whose first node comes first.
 */
export function orderGroups(fusion: Fusion, groups: readonly Building[]): FusionGroup[] {
  const { graph, consumers, externallyRead, updates } = fusion;
  const owner = new Map<number, Building>();
  const allMembers = (g: Building): number[] => [...g.members, ...(g.columnSums?.members ?? [])];
  for (const g of groups) {
    for (const id of allMembers(g)) owner.set(id, g);
    for (const id of g.prologue?.nodes ?? []) owner.set(id, g);
  }
  // A group depends on the groups owning its members' inputs, seen through alias nodes.
  const producerGroups = (id: number, seen = new Set<number>()): Building[] => {
    if (seen.has(id)) return [];
    seen.add(id);
    const o = owner.get(id);
    if (o) return [o];
    return graph.node(id).inputs.flatMap((input) => producerGroups(input, seen));
  };
  const deps = new Map<Building, Set<Building>>();
  for (const g of groups) {
    const set = new Set<Building>();
    const reads = [...allMembers(g), ...(g.prologue?.nodes ?? [])];
    for (const id of reads) for (const input of graph.node(id).inputs) for (const p of producerGroups(input)) if (p !== g) set.add(p);
    deps.set(g, set);
  }
  // The sort key of a ready group (its first node is unique to it, so the order is total).
  const key = new Map<Building, { readonly updating: number; readonly first: number }>();
  const dependents = new Map<Building, Building[]>(groups.map((g) => [g, []]));
  const waitingFor = new Map<Building, number>();
  for (const g of groups) {
    let first = Infinity;
    for (const id of g.members) first = Math.min(first, id);
    key.set(g, { updating: allMembers(g).some((id) => updates.has(id)) ? 1 : 0, first });
    for (const d of deps.get(g)!) dependents.get(d)!.push(g);
    waitingFor.set(g, deps.get(g)!.size);
  }
  const ready = new MinHeap<Building>((x, y) => {
    const [a, b] = [key.get(x)!, key.get(y)!];
    return a.updating - b.updating < 0 || (a.updating === b.updating && a.first < b.first);
  });
  for (const g of groups) if (waitingFor.get(g) === 0) ready.push(g);
  const ordered: FusionGroup[] = [];
  while (ordered.length < groups.length) {
    const next = ready.pop();
    if (!next) throw new GraphError('fuse: the kernels depend on each other in a cycle (a fusion bug; compile with {fuse: false} to work around it).');
    for (const d of dependents.get(next)!) {
      waitingFor.set(d, waitingFor.get(d)! - 1);
      if (waitingFor.get(d) === 0) ready.push(d);
    }
    const members = new Set(allMembers(next));
    const isOutput = (id: number): boolean => externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => !members.has(c));
    const main = [...next.members].sort((a, b) => a - b);
    const sums = [...(next.columnSums?.members ?? [])].sort((a, b) => a - b);
    const nodes = [...main, ...sums];
    const outputs = nodes.filter(isOutput);
    ordered.push({
      kind: kernelKind(next),
      ...(next.anchor === undefined ? {} : { anchor: next.anchor }),
      nodes: next.anchor === undefined ? nodes : [next.anchor, ...nodes.filter((id) => id !== next.anchor)],
      ...(next.columnSums
        ? {
            columnSums: {
              anchor: next.columnSums.anchor!,
              nodes: [next.columnSums.anchor!, ...sums.filter((id) => id !== next.columnSums!.anchor)],
              outputs: sums.filter(isOutput),
            },
          }
        : {}),
      outputs,
      shape: next.shape,
      reason: describe(next, graph),
      ...(next.prologue
        ? { prologue: { nodes: [...next.prologue.nodes].sort((a, b) => a - b), shape: next.prologue.shape, result: next.prologue.result } }
        : {}),
      inPlace: [],
    });
  }
  return ordered;
}
