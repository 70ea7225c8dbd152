/**
 * Fusion: partitions the nodes an entry needs into kernels. Each group carries its kind
 * and the reason it exists (the rules are below, one line of why each):
 *
 * - loop fusion: a chain of elementwise ops over one shape is one kernel, since each
 *   element's value can be computed from its inputs without writing the ops in between
 *   to memory (and without a dispatch each).
 * - epilogue fusion: elementwise consumers of a kernel that takes an epilogue (matmul)
 *   run where it stores each output element (bias add, activation, the ReLU mask of the
 *   backward pass, a parameter update), so the product is never written and read again.
 * - multi-output: a group writes every member some node outside it needs, so siblings
 *   and shared intermediates are computed once.
 *
 * A merge is refused when it would make a cycle between kernels (a path that leaves the
 * group and comes back) or bind more storage buffers than the device allows. Work is
 * never duplicated: each node belongs to exactly one group.
 */

import { GraphError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import { roleOf } from '../graph.js';
import { getOp } from '../ops/op.js';
import { sameShape } from '../shape.js';
import type { Shape } from '../shape.js';
import { isAlias, splatValue } from '../node-values.js';

export type FusionKind = 'loop' | 'epilogue' | 'row' | 'single';

export interface FusionGroup {
  readonly kind: FusionKind;
  /** The kernel node an epilogue group is built around. */
  readonly anchor?: number;
  /** Members in topological order (the anchor first). */
  readonly nodes: readonly number[];
  /** Members whose values are needed outside the group. */
  readonly outputs: readonly number[];
  /** The iteration space of loop and epilogue groups. */
  readonly shape: Shape;
  readonly reason: string;
  /**
   * Input fusion: elementwise nodes computing the anchor's first input, evaluated as the
   * anchor reads each element (over `shape`, the input's shape), ending in `result`.
   */
  readonly prologue?: { readonly nodes: readonly number[]; readonly shape: Shape; readonly result: number };
  /**
   * Sibling fusion of a bias gradient with its weight gradient: for an anchor xᵀ·g, the
   * column sums of g (a sum over axis 0, with its own epilogue) come from the same kernel
   * as an extra row. These nodes are also listed in `nodes` and `outputs`.
   */
  readonly columnSums?: { readonly anchor: number; readonly nodes: readonly number[]; readonly outputs: readonly number[] };
}

/** A proposed group, as the fusion checks see it. */
interface Candidate {
  readonly members: ReadonlySet<number>;
  readonly prologue?: Building['prologue'];
  readonly anchor?: number;
  /** Fused column sums: their anchor (a sum) and all their nodes (also in `members`). */
  readonly sumsAnchor?: number;
  readonly sums?: ReadonlySet<number>;
}

interface Building {
  kind: FusionKind;
  anchor?: number;
  members: Set<number>;
  shape: Shape;
  prologue?: { nodes: Set<number>; shape: Shape; result: number };
  columnSums?: Building;
}

const isElementwise = (node: Node): boolean => getOp(node.op).lower?.kind === 'elementwise';

function acceptsEpilogue(node: Node): boolean {
  const lower = getOp(node.op).lower;
  return lower?.kind === 'kernel' && lower.acceptsEpilogue === true;
}

function acceptsPrologue(node: Node): boolean {
  const lower = getOp(node.op).lower;
  return lower?.kind === 'kernel' && lower.acceptsPrologue === true;
}

/**
 * Groups the computed nodes of `needed` (alias nodes excepted: they are views, not work).
 * `externallyRead` holds nodes the entry reads after its kernels (outputs, update values).
 */
export function fuseNodes(
  graph: Graph,
  needed: ReadonlySet<number>,
  externallyRead: ReadonlySet<number>,
  maxBindings: number,
  /** Update value → the param/state it updates: such outputs are usually written in place, binding nothing new. */
  updates: ReadonlyMap<number, number> = new Map(),
): FusionGroup[] {
  const work = graph.nodes.filter((n) => needed.has(n.id) && roleOf(n) === 'computed' && !isAlias(n));
  // Alias nodes count as consumers: a member read through a reshape must be written out.
  const consumers = new Map<number, number[]>();
  for (const node of graph.nodes) {
    if (!needed.has(node.id) || roleOf(node) !== 'computed') continue;
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node.id]);
  }
  const groupOf = new Map<number, Building>();

  /** Every node a group computes: members, fused producers and fused column sums. */
  const nodesOfGroup = (g: Building): number[] => [...g.members, ...(g.prologue?.nodes ?? []), ...(g.columnSums?.members ?? [])];
  /**
   * Whether making `members` one kernel would put it on a cycle of kernels: a path from
   * it, through other groups (each running as a unit) or ungrouped nodes, back into it.
   */
  const createsCycle = (members: ReadonlySet<number>): boolean => {
    const unitOf = (id: number): Building | number => groupOf.get(id) ?? id;
    const seen = new Set<Building | number>();
    const stack: (Building | number)[] = [];
    const visit = (id: number): boolean => {
      for (const c of consumers.get(id) ?? []) {
        if (members.has(c)) return true;
        const unit = unitOf(c);
        if (!seen.has(unit)) {
          seen.add(unit);
          stack.push(unit);
        }
      }
      return false;
    };
    for (const id of members) {
      for (const c of consumers.get(id) ?? []) {
        if (members.has(c)) continue;
        const unit = unitOf(c);
        if (!seen.has(unit)) {
          seen.add(unit);
          stack.push(unit);
        }
      }
    }
    while (stack.length > 0) {
      const unit = stack.pop()!;
      const nodes = typeof unit === 'number' ? [unit] : nodesOfGroup(unit).filter((id) => !members.has(id));
      for (const id of nodes) if (visit(id)) return true;
    }
    return false;
  };
  /** Distinct buffers read by `nodes` from outside `inside` (splat constants are literals). */
  const readsOf = (nodes: Iterable<number>, inside: (id: number) => boolean): Set<number> => {
    const reads = new Set<number>();
    for (const id of nodes) {
      for (const input of graph.node(id).inputs) if (!inside(input) && splatValue(graph.node(input)) === undefined) reads.add(input);
    }
    return reads;
  };
  /**
   * Storage buffers the group's kernel binds: the anchor's operands (each one, even a
   * buffer read twice; a prologue's reads instead of the operand it computes), the
   * distinct reads of each element program (epilogue, column sums) and one per output,
   * except an update written over a param or state that the same program reads.
   */
  const bindingCount = (candidate: Candidate): number => {
    const { members, prologue, anchor, sumsAnchor } = candidate;
    let count = 0;
    if (anchor !== undefined) {
      graph.node(anchor).inputs.forEach((_, k) => {
        if (k === 0 && prologue) count += readsOf(prologue.nodes, (id) => prologue.nodes.has(id)).size;
        else count++;
      });
    }
    const sums = sumsAnchor === undefined ? new Set<number>() : candidate.sums!;
    const parts = anchor === undefined ? [[...members]] : [[...members].filter((id) => id !== anchor && !sums.has(id)), [...sums].filter((id) => id !== sumsAnchor)];
    for (const part of parts) {
      const reads = readsOf(part, (id) => members.has(id));
      count += reads.size;
      for (const id of part) {
        const outside = externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => !members.has(c));
        const target = updates.get(id);
        if (outside && !(target !== undefined && reads.has(target))) count++;
      }
    }
    if (anchor !== undefined) {
      // The anchor's own value, when something outside needs it.
      const outside = externallyRead.has(anchor) || (consumers.get(anchor) ?? []).some((c) => !members.has(c));
      if (outside) count++;
    }
    return count;
  };
  /**
   * Whether a group may be one kernel: no cycle through other kernels, within the binding
   * limit, and no member that the anchor reads (the anchor reads its operands from memory,
   * so a member computed in its epilogue would be read before it is written).
   */
  const fitsCandidate = (candidate: Candidate): boolean => {
    if (candidate.anchor !== undefined && graph.node(candidate.anchor).inputs.some((input) => candidate.members.has(input))) return false;
    // Likewise what a fused producer reads: it runs before the epilogue computes anything.
    for (const id of candidate.prologue?.nodes ?? []) {
      if (graph.node(id).inputs.some((input) => candidate.members.has(input))) return false;
    }
    // Fused producers run inside the kernel too: they are part of it for cycles.
    const all = new Set([...candidate.members, ...(candidate.prologue?.nodes ?? [])]);
    return !createsCycle(all) && bindingCount(candidate) <= maxBindings;
  };
  const fits = (members: ReadonlySet<number>, prologue?: Building['prologue'], anchor?: number): boolean =>
    fitsCandidate({ members, ...(prologue ? { prologue } : {}), ...(anchor === undefined ? {} : { anchor }) });

  /**
   * Input fusion: the loop group computing the anchor's first input is evaluated as the
   * anchor reads it, when nothing else needs that group (else its result is in memory
   * anyway, and reading it is cheaper than computing it again).
   */
  const fusePrologue = (group: Building, anchor: Node): void => {
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
    const usedElsewhere = [...cone].some(
      (id) => externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => c !== anchor.id && !cone.has(c)),
    );
    if (usedElsewhere || cone.size !== producer.members.size) return;
    const prologue = { nodes: cone, shape: input.shape, result: input.id };
    if (!fitsCandidate({ members: group.members, prologue, anchor: anchor.id })) return;
    group.prologue = prologue;
    for (const id of cone) groupOf.set(id, group);
  };

  for (const node of work) {
    if (isElementwise(node)) {
      const candidates = [...new Set(node.inputs.map((id) => groupOf.get(id)).filter((g): g is Building => g !== undefined))].filter(
        (g) => g.kind !== 'single' && sameShape(g.shape, node.shape),
      );
      let joined: Building | undefined;
      for (const group of candidates) {
        const members = new Set([...group.members, node.id]);
        if (!fits(members, group.prologue, group.anchor)) continue;
        group.members = members;
        joined = group;
        break;
      }
      if (joined) {
        // Other groups feeding this node may merge in too (one anchor at most).
        for (const other of candidates) {
          if (other === joined || (other.anchor !== undefined && joined.anchor !== undefined)) continue;
          if (other.prologue && joined.prologue) continue;
          const members = new Set([...joined.members, ...other.members]);
          if (!fits(members, joined.prologue ?? other.prologue, joined.anchor ?? other.anchor)) continue;
          if (other.prologue) joined.prologue = other.prologue;
          joined.members = members;
          if (other.anchor !== undefined) {
            joined.anchor = other.anchor;
            joined.kind = 'epilogue';
          }
          for (const id of nodesOfGroup(other)) groupOf.set(id, joined);
        }
        groupOf.set(node.id, joined);
        continue;
      }
      groupOf.set(node.id, { kind: 'loop', members: new Set([node.id]), shape: node.shape });
    } else if (acceptsEpilogue(node)) {
      const group: Building = { kind: 'epilogue', anchor: node.id, members: new Set([node.id]), shape: node.shape };
      if (acceptsPrologue(node)) fusePrologue(group, node);
      groupOf.set(node.id, group);
    } else {
      groupOf.set(node.id, { kind: 'single', members: new Set([node.id]), shape: node.shape });
    }
  }
  const groups = [...new Set(groupOf.values())];
  fuseColumnSums(graph, groups, groupOf, fitsCandidate);
  fuseRows(graph, groupOf, consumers, fits);
  sinkIntoConsumers(graph, groupOf, consumers, externallyRead, fits);
  return orderGroups(graph, ownedGroups(groupOf), consumers, externallyRead, updates);
}

/**
 * The groups as `groupOf` assigns nodes to them: merges and moves leave the sets of the
 * groups they came from stale, so each group keeps only the nodes it owns, and a group
 * left without nodes is gone.
 */
function ownedGroups(groupOf: ReadonlyMap<number, Building>): Building[] {
  const groups = [...new Set(groupOf.values())];
  for (const g of groups) {
    g.members = new Set([...g.members].filter((id) => groupOf.get(id) === g));
    if (g.prologue) g.prologue.nodes = new Set([...g.prologue.nodes].filter((id) => groupOf.get(id) === g));
  }
  return groups.filter((g) => g.members.size > 0);
}

/** Rows up to this long are held in registers (a private array per value) by a row kernel. */
export const MAX_ROW_LENGTH = 256;

/** Reductions a row kernel computes along its rows. */
const ROW_REDUCTIONS = new Set(['sum', 'mean', 'max', 'min', 'logsumexp']);

/**
 * Whether a node works row by row on [rows, length]: elementwise on [rows, length],
 * [rows, 1] or [rows]; softmax or logSoftmax along the rows; a reduction along them.
 */
function isRowWise(graph: Graph, node: Node, rows: number, length: number): boolean {
  const s = node.shape;
  const full = s.length === 2 && s[0] === rows && s[1] === length;
  const perRow = (s.length === 2 && s[0] === rows && s[1] === 1) || (s.length === 1 && s[0] === rows);
  if (isElementwise(node)) return full || perRow;
  if (node.op === 'softmax' || node.op === 'logSoftmax') return full && node.attrs['axis'] === 1;
  if (ROW_REDUCTIONS.has(node.op)) {
    // Its input must be the rows themselves: a sum over a size-1 axis ([rows, 1] → [rows, 1])
    // is not a reduction along rows of this length.
    const input = graph.node(node.inputs[0]!).shape;
    return perRow && reducesRows(node) && input.length === 2 && input[0] === rows && input[1] === length;
  }
  return false;
}

/** A reduction along axis 1 of a 2-D input. */
function reducesRows(node: Node): boolean {
  const axes = node.attrs['axes'] as readonly number[];
  return axes.length === 1 && axes[0] === 1 && node.shape.length >= 1;
}

/**
 * Row fusion: a softmax, or a reduction along rows, and the elementwise work and row
 * reductions around it (a loss and its gradient; a layer norm's mean, variance and
 * scaling) run as one kernel with one invocation per row, the row held in registers,
 * instead of a kernel per reduction with the rows written between them.
 */
function fuseRows(
  graph: Graph,
  groupOf: Map<number, Building>,
  consumers: ReadonlyMap<number, readonly number[]>,
  fits: (members: ReadonlySet<number>) => boolean,
): void {
  // A seed, the [rows, length] it works over, and whether it is a reduction (not a softmax).
  const seeds: { id: number; shape: readonly number[]; reduction?: boolean }[] = [];
  for (const id of groupOf.keys()) {
    const node = graph.node(id);
    if ((node.op === 'softmax' || node.op === 'logSoftmax') && node.shape.length === 2) seeds.push({ id, shape: node.shape });
    const input = node.inputs.length === 1 ? graph.node(node.inputs[0]!) : undefined;
    if (ROW_REDUCTIONS.has(node.op) && input?.shape.length === 2 && reducesRows(node)) seeds.push({ id, shape: input.shape, reduction: true });
  }
  for (const seed of seeds) {
    const [rows, length] = seed.shape as [number, number];
    // A row of one element (or none) has nothing to share between its elements.
    if (length > MAX_ROW_LENGTH || length < 2 || rows === 0) continue;
    const start = groupOf.get(seed.id)!;
    if (start.kind === 'row') continue;
    const rowWise = (g: Building): boolean =>
      !g.columnSums && [...g.members, ...(g.prologue?.nodes ?? [])].every((id) => isRowWise(graph, graph.node(id), rows, length));
    if (!rowWise(start)) continue;
    const region: Building = { kind: 'row', members: new Set([...start.members, ...(start.prologue?.nodes ?? [])]), shape: [rows, length] };
    const before = new Map<number, Building>();
    const absorb = (g: Building): void => {
      for (const id of [...g.members, ...(g.prologue?.nodes ?? [])]) {
        before.set(id, groupOf.get(id)!);
        region.members.add(id);
        groupOf.set(id, region);
      }
    };
    absorb(start);
    for (let grew = true; grew; ) {
      grew = false;
      const neighbours = new Set<Building>();
      for (const id of region.members) {
        for (const other of [...graph.node(id).inputs, ...(consumers.get(id) ?? [])]) {
          const g = groupOf.get(other);
          if (g && g !== region) neighbours.add(g);
        }
      }
      for (const g of neighbours) {
        if (!rowWise(g)) continue;
        const members = new Set([...region.members, ...g.members, ...(g.prologue?.nodes ?? [])]);
        if (!fits(members)) continue;
        absorb(g);
        grew = true;
      }
    }
    // A row kernel pays off when it walks the row again after reducing it (a softmax by
    // hand, a norm's scaling, a variance after a mean); a reduction with only work before
    // and after it keeps its reduction kernel (input fusion, trees for long rows).
    if (seed.reduction && !revisitsRows(graph, region.members, rows, length)) for (const [id, g] of before) groupOf.set(id, g);
  }
}

/** Whether some full-row member of the region depends on a reduction of the region. */
function revisitsRows(graph: Graph, members: ReadonlySet<number>, rows: number, length: number): boolean {
  const afterReduction = new Set<number>();
  for (const id of [...members].sort((a, b) => a - b)) {
    const node = graph.node(id);
    const reduces = ROW_REDUCTIONS.has(node.op) || node.op === 'softmax' || node.op === 'logSoftmax';
    if (!reduces && !node.inputs.some((input) => afterReduction.has(input))) continue;
    const full = node.shape.length === 2 && node.shape[0] === rows && node.shape[1] === length;
    if (!reduces && full) return true;
    afterReduction.add(id);
  }
  return false;
}

/**
 * Sinking: an elementwise member written out only for one other group is moved into that
 * group, when everything it reads is in memory anyway (the ReLU mask of the backward
 * pass, computed from the stored activation where it is used). The value then needs no
 * buffer, and the read it replaces is of the same size.
 */
function sinkIntoConsumers(
  graph: Graph,
  groupOf: Map<number, Building>,
  consumers: ReadonlyMap<number, readonly number[]>,
  externallyRead: ReadonlySet<number>,
  fits: (members: ReadonlySet<number>, prologue?: Building['prologue'], anchor?: number) => boolean,
): void {
  const inMemory = (id: number, group: Building): boolean => {
    if (!group.members.has(id)) return true;
    return externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => !group.members.has(c) && groupOf.get(c) !== group);
  };
  for (const [id, group] of [...groupOf]) {
    if (group.kind !== 'loop' && group.kind !== 'epilogue') continue;
    if (id === group.anchor || !group.members.has(id) || externallyRead.has(id)) continue;
    const node = graph.node(id);
    if (!isElementwise(node)) continue;
    const users = consumers.get(id) ?? [];
    const targets = new Set(users.map((c) => groupOf.get(c)));
    if (targets.size !== 1 || targets.has(undefined) || targets.has(group)) continue;
    const target = [...targets][0]!;
    if ((target.kind !== 'loop' && target.kind !== 'epilogue') || target.columnSums || !sameShape(target.shape, node.shape)) continue;
    if (users.some((c) => target.prologue?.nodes.has(c))) continue;
    if (!node.inputs.every((input) => splatValue(graph.node(input)) !== undefined || inMemory(input, group))) continue;
    const members = new Set([...target.members, id]);
    if (!fits(members, target.prologue, target.anchor)) continue;
    group.members.delete(id);
    target.members.add(id);
    groupOf.set(id, target);
  }
}

/** sum(g, axis 0) of a 2-D g (its result is 1-D). */
function isColumnSum(node: Node, g: number): boolean {
  const axes = node.attrs['axes'] as readonly number[] | undefined;
  return node.op === 'sum' && node.inputs[0] === g && node.shape.length === 1 && axes?.length === 1 && axes[0] === 0;
}

/**
 * Sibling fusion: a weight gradient xᵀ·g and a bias gradient sum(g, 0) read the same g
 * and sum over the same batch axis, so one kernel computes both (the bias as a row of
 * ones in xᵀ), with each one's epilogue (its optimizer update) still fused.
 */
function fuseColumnSums(
  graph: Graph,
  groups: readonly Building[],
  groupOf: Map<number, Building>,
  fits: (candidate: Candidate) => boolean,
): void {
  for (const group of groups) {
    if (group.anchor === undefined || group.columnSums) continue;
    const anchor = graph.node(group.anchor);
    if (anchor.op !== 'matmul' || anchor.shape.length !== 2 || anchor.attrs['transposeA'] !== true || anchor.attrs['transposeB'] !== false) continue;
    const g = anchor.inputs[1]!;
    const sibling = groups.find(
      (other) => other !== group && other.anchor !== undefined && !other.prologue && !other.columnSums && groupOf.get(other.anchor) === other && isColumnSum(graph.node(other.anchor), g),
    );
    if (!sibling) continue;
    const members = new Set([...group.members, ...sibling.members]);
    const candidate = { members, anchor: group.anchor, sumsAnchor: sibling.anchor!, sums: sibling.members };
    if (!fits(group.prologue ? { ...candidate, prologue: group.prologue } : candidate)) continue;
    group.columnSums = sibling;
    for (const id of sibling.members) groupOf.set(id, group);
  }
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
 * Kahn's algorithm over group dependencies. Among ready groups, those computing no
 * parameter update go first (updates are sinks, and running them last lets them write in
 * place after every reader of the old value); then the group whose first node comes first.
 */
function orderGroups(
  graph: Graph,
  groups: readonly Building[],
  consumers: ReadonlyMap<number, readonly number[]>,
  externallyRead: ReadonlySet<number>,
  updates: ReadonlyMap<number, number>,
): FusionGroup[] {
  const first = (g: Building): number => Math.min(...g.members);
  const updating = (g: Building): number => ([...g.members, ...(g.columnSums?.members ?? [])].some((id) => updates.has(id)) ? 1 : 0);
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
  const ordered: FusionGroup[] = [];
  const done = new Set<Building>();
  while (done.size < groups.length) {
    const ready = groups.filter((g) => !done.has(g) && [...deps.get(g)!].every((d) => done.has(d)));
    if (ready.length === 0) throw new GraphError('fuse: the kernels depend on each other in a cycle (a fusion bug; compile with {fuse: false} to work around it).');
    ready.sort((x, y) => updating(x) - updating(y) || first(x) - first(y));
    const next = ready[0]!;
    done.add(next);
    const members = new Set(allMembers(next));
    const isOutput = (id: number): boolean => externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => !members.has(c));
    const main = [...next.members].sort((a, b) => a - b);
    const sums = [...(next.columnSums?.members ?? [])].sort((a, b) => a - b);
    const nodes = [...main, ...sums];
    const outputs = nodes.filter(isOutput);
    ordered.push({
      kind: next.kind,
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
    });
  }
  return ordered;
}
