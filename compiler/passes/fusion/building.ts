/**
 * Groups while fusion forms them, and what every rule reads: the graph, who consumes
 * each node, which group owns it, and what the entry reads after its kernels.
 */

import type { Graph, Node } from '../../graph.js';
import { getOp } from '../../ops/op.js';
import type { Shape } from '../../shape.js';

/** How a group under construction was formed; orderGroups turns it into a KernelKind. */
export type FormedBy = 'loop' | 'epilogue' | 'row' | 'single';

export interface Prologue {
  nodes: Set<number>;
  shape: Shape;
  result: number;
}

export interface Building {
  kind: FormedBy;
  anchor?: number;
  members: Set<number>;
  shape: Shape;
  prologue?: Prologue;
  columnSums?: Building;
}

/** A proposed group, as the fit checks see it. */
export interface Candidate {
  readonly members: ReadonlySet<number>;
  readonly prologue?: Prologue;
  readonly anchor?: number;
  /** Fused column sums: their anchor (a sum) and all their nodes (also in `members`). */
  readonly sumsAnchor?: number;
  readonly sums?: ReadonlySet<number>;
}

/** The state every fusion rule reads and the group assignment they change. */
export interface Fusion {
  readonly graph: Graph;
  /** Consumers of each node the entry needs; alias nodes count (a member read through a reshape must be written out). */
  readonly consumers: ReadonlyMap<number, readonly number[]>;
  /** Nodes the entry reads after its kernels (outputs, update values). */
  readonly externallyRead: ReadonlySet<number>;
  /** Update value → the param/state it updates. */
  readonly updates: ReadonlyMap<number, number>;
  readonly maxBindings: number;
  readonly groupOf: Map<number, Building>;
}

export const isElementwise = (node: Node): boolean => getOp(node.op).lower?.kind === 'elementwise';

export function acceptsEpilogue(node: Node): boolean {
  const lower = getOp(node.op).lower;
  return lower?.kind === 'kernel' && lower.acceptsEpilogue === true;
}

export function acceptsPrologue(node: Node): boolean {
  const lower = getOp(node.op).lower;
  return lower?.kind === 'kernel' && lower.acceptsPrologue === true;
}

/** Every node a group computes: members, fused producers and fused column sums. */
export const nodesOfGroup = (g: Building): number[] => [...g.members, ...(g.prologue?.nodes ?? []), ...(g.columnSums?.members ?? [])];

/** Whether a member's value is needed outside `members` (read after the entry, or by another kernel). */
export function neededOutside(fusion: Fusion, id: number, members: ReadonlySet<number>): boolean {
  return fusion.externallyRead.has(id) || (fusion.consumers.get(id) ?? []).some((c) => !members.has(c));
}
