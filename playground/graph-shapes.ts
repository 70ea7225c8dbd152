/**
 * What the DAG's boxes say and how big they are, shared by the page (which draws them) and
 * the worker (which lays them out).
 * Pure, no DOM and no layout engine, so neither bundle pulls in the other's code.
 */

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
