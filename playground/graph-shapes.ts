/**
 * What the DAG's boxes say and how big they are, shared by the page (which draws them) and
 * the worker (which lays them out).
 * Pure, no DOM and no layout engine, so neither bundle pulls in the other's code.
 */

import type { DagGroup } from './graph-groups.js';
import type { DagNode } from './graph-model.js';

export const NODE_HEIGHT = 30;
const CHAR_WIDTH = 6.2;

/** Two lines: a leaf's name and type, or a computed node's id and op, and its type (and what it replaces). */
export function nodeText(node: DagNode): [string, string] {
  const isLeaf = node.part === 'input' || node.part === 'param' || node.part === 'state' || node.part === 'const';
  const title = isLeaf && node.op !== 'const' ? node.label : `${node.label} ${node.op}`;
  return [title, node.assigns ? `${node.type} → ${node.assigns}` : node.type];
}

export function nodeWidth(node: DagNode): number {
  const [title, detail] = nodeText(node);
  return Math.ceil(Math.max(title.length, detail.length) * CHAR_WIDTH + 12);
}

const GROUP_HEIGHT = 40;
const GROUP_CHAR_WIDTH = 7;

/** A collapsed group's two lines: its label, and how many nodes it holds. */
export function groupText(group: DagGroup): [string, string] {
  return [group.label, `${group.size} nodes${group.groups.length > 0 ? ` · ${group.groups.length} groups` : ''}`];
}

/** A collapsed group's box, sized to its text. */
export function groupBoxSize(group: DagGroup): { width: number; height: number } {
  const [title, detail] = groupText(group);
  return { width: Math.ceil(Math.max(title.length, detail.length) * GROUP_CHAR_WIDTH + 24), height: GROUP_HEIGHT };
}
