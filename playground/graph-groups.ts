/**
 * The DAG's groups, so a graph of hundreds of nodes reads as a few dozen boxes: nodes grouped
 * by name scope (`block0/attn`, nested by `/`; the forward pass, its gradient and the
 * optimizer's updates apart, as each is a stage of its own) or by the kernel that computes
 * them. Pure data, shared by the page (what to draw, what a click expands) and the worker
 * (what to lay out), so both agree on every group's id.
 */

import type { DagModel, DagNode, NodePart } from './graph-model.js';

export type GroupBy = 'scope' | 'kernel';

/** An entry's kernels, for grouping by kernel: each one's name and the nodes it computes. */
export interface KernelNodes {
  readonly name: string;
  readonly nodes: readonly number[];
}

export interface DagGroup {
  /** `g:…`, unique in its grouping and stable across layouts of the same model. */
  readonly id: string;
  /** What its box says: `attn`, `∇ attn`, `update fc1`, `k3_matmul`; a nested group its last segment. */
  readonly label: string;
  /** Its full name: the scope path (`block0/attn`) or the kernel's name. */
  readonly name: string;
  readonly parent?: string;
  /** Nodes directly in it, not in a subgroup. */
  readonly nodes: readonly number[];
  /** Its subgroups' ids. */
  readonly groups: readonly string[];
  /** Nodes in it and in its subgroups. */
  readonly size: number;
}

export interface DagGrouping {
  readonly by: GroupBy;
  readonly groups: ReadonlyMap<string, DagGroup>;
  /** Top-level group ids and ungrouped node ids. */
  readonly top: { readonly groups: readonly string[]; readonly nodes: readonly number[] };
  /** Each grouped node's innermost group. */
  readonly groupOf: ReadonlyMap<number, string>;
}

/** Above this many nodes the groups start collapsed: the whole graph at once is a smudge. */
export const COLLAPSE_ABOVE = 120;

/** Scope groups are split by stage: a layer's gradient runs after the loss, far from its forward nodes. */
const STAGES: Readonly<Record<NodePart, { readonly key: string; readonly prefix: string }>> = {
  input: { key: 'fwd', prefix: '' },
  param: { key: 'fwd', prefix: '' },
  const: { key: 'fwd', prefix: '' },
  forward: { key: 'fwd', prefix: '' },
  gradient: { key: 'grad', prefix: '∇ ' },
  state: { key: 'upd', prefix: 'update ' },
  update: { key: 'upd', prefix: 'update ' },
};

interface Draft {
  id: string;
  label: string;
  name: string;
  parent: string | undefined;
  nodes: number[];
  groups: string[];
}

/**
 * Groups `model`'s nodes by scope (each node under its scope path, per stage) or by
 * `kernels` (a node in the first kernel that computes it). A group of one node is no group:
 * its node joins the group around it.
 */
export function groupNodes(model: DagModel, by: GroupBy, kernels: readonly KernelNodes[] = []): DagGrouping {
  const drafts = new Map<string, Draft>();
  const topGroups: string[] = [];
  const draft = (id: string, label: string, name: string, parent: string | undefined): Draft => {
    let group = drafts.get(id);
    if (!group) {
      group = { id, label, name, parent, nodes: [], groups: [] };
      drafts.set(id, group);
      if (parent === undefined) topGroups.push(id);
      else drafts.get(parent)!.groups.push(id);
    }
    return group;
  };
  const kernelOf = new Map<number, number>();
  kernels.forEach((kernel, position) => kernel.nodes.forEach((id) => kernelOf.has(id) || kernelOf.set(id, position)));
  const innermost = (node: DagNode): Draft | undefined => {
    if (by === 'kernel') {
      const position = kernelOf.get(node.id);
      return position === undefined ? undefined : draft(`g:k:${position}`, kernels[position]!.name, kernels[position]!.name, undefined);
    }
    if (node.scope === undefined || node.part === 'input') return undefined;
    const stage = STAGES[node.part];
    let group: Draft | undefined;
    const segments = node.scope.split('/');
    segments.forEach((segment, depth) => {
      const name = segments.slice(0, depth + 1).join('/');
      group = draft(`g:${stage.key}:${name}`, depth === 0 ? `${stage.prefix}${segment}` : segment, name, group?.id);
    });
    return group;
  };
  for (const node of model.nodes) innermost(node)?.nodes.push(node.id);
  return finish(by, drafts, topGroups, model);
}

/** Dissolves groups of fewer than two nodes (innermost first) and counts sizes. */
function finish(by: GroupBy, drafts: Map<string, Draft>, topGroups: string[], model: DagModel): DagGrouping {
  const sizeOf = (group: Draft): number => group.nodes.length + group.groups.reduce((sum, id) => sum + sizeOf(drafts.get(id)!), 0);
  const dissolve = (group: Draft): void => {
    for (const child of [...group.groups]) dissolve(drafts.get(child)!);
    if (sizeOf(group) >= 2) return;
    const parent = group.parent === undefined ? undefined : drafts.get(group.parent)!;
    // At the top, its node is simply left ungrouped (`top.nodes` is every node no group holds).
    parent?.nodes.push(...group.nodes);
    const siblings = parent?.groups ?? topGroups;
    siblings.splice(siblings.indexOf(group.id), 1);
    drafts.delete(group.id);
  };
  for (const id of [...topGroups]) dissolve(drafts.get(id)!);
  const groupOf = new Map<number, string>();
  const groups = new Map<string, DagGroup>();
  for (const group of drafts.values()) {
    for (const id of group.nodes) groupOf.set(id, group.id);
    groups.set(group.id, { ...group, size: sizeOf(group) });
  }
  const ungrouped = model.nodes.filter((node) => !groupOf.has(node.id)).map((node) => node.id);
  return { by, groups, top: { groups: topGroups, nodes: ungrouped }, groupOf };
}

/** `id` and the groups around it, outermost first. */
export function groupPath(grouping: DagGrouping, id: string): string[] {
  const path: string[] = [];
  for (let group = grouping.groups.get(id); group; group = group.parent === undefined ? undefined : grouping.groups.get(group.parent)) path.unshift(group.id);
  return path;
}

/** What stands for node `id` on screen: its outermost collapsed group's id, or the node's own (`'12'`). */
export function visibleOf(grouping: DagGrouping, expanded: ReadonlySet<string>, id: number): string {
  const group = grouping.groupOf.get(id);
  const collapsed = group === undefined ? undefined : groupPath(grouping, group).find((g) => !expanded.has(g));
  return collapsed ?? String(id);
}

/** The groups to expand so that every node of `ids` is drawn. */
export function groupsShowing(grouping: DagGrouping, ids: Iterable<number>): Set<string> {
  const needed = new Set<string>();
  for (const id of ids) {
    const group = grouping.groupOf.get(id);
    if (group !== undefined) for (const g of groupPath(grouping, group)) needed.add(g);
  }
  return needed;
}

/** Every group expanded for a small graph; none for a large one. */
export function defaultExpanded(model: DagModel, grouping: DagGrouping): Set<string> {
  return model.nodes.length > COLLAPSE_ABOVE ? new Set() : new Set(grouping.groups.keys());
}

/** Each group's nodes, its subgroups' included. */
export function nodesOfGroup(grouping: DagGrouping, id: string): number[] {
  const group = grouping.groups.get(id);
  return group ? [...group.nodes, ...group.groups.flatMap((child) => nodesOfGroup(grouping, child))] : [];
}
