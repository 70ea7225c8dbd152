/**
 * The graph as the playground draws it: the simplified graph (the one the kernels' node
 * ids refer to) with each node sorted into the part of the pipeline it belongs to, so the
 * forward pass, its gradient and the optimizer's updates read apart at a glance. Pure
 * data, no DOM: the DAG view lays it out, and tests check it in Node.
 */

import { ancestorsOf } from '../compiler/graph.js';
import type { GraphProgram, Node } from '../index.js';
import { roleOf } from '../index.js';

/** Where a node comes from: a leaf's role, or the stage that computed it. */
export type NodePart = 'input' | 'param' | 'state' | 'const' | 'forward' | 'gradient' | 'update';

export interface DagNode {
  readonly id: number;
  readonly op: string;
  /** `%12`, or the user's name of an input, param or state. */
  readonly label: string;
  /** `f32[64,128]` */
  readonly type: string;
  readonly part: NodePart;
  /** The param or state this node's value replaces after a step, if any. */
  readonly assigns?: string;
}

export interface DagModel {
  readonly nodes: readonly DagNode[];
  /** Operand → consumer, once per distinct pair. */
  readonly edges: readonly { readonly from: number; readonly to: number }[];
}

/**
 * Sorts the program's nodes into parts: leaves by role; computed nodes that an entry's
 * outputs need are `forward`; of the rest (needed only by updates), those that read
 * optimizer state, depend on such a node or are the assigned values themselves are
 * `update`, and the others `gradient`. Scalar constants are left out, as the SSA text
 * prints them inline.
 */
export function graphModel(program: GraphProgram): DagModel {
  const { graph } = program;
  const forward = ancestorsOf(graph, Object.values(program.entries).flatMap((entry) => Object.values(entry.outputs)));
  const assigned = new Map<number, string>();
  for (const entry of Object.values(program.entries)) {
    for (const [target, value] of entry.assignments) assigned.set(value, labelOf(graph.node(target)));
  }
  const part = new Map<number, NodePart>();
  for (const node of graph.nodes) {
    const role = roleOf(node);
    if (role !== 'computed') part.set(node.id, role);
    else if (forward.has(node.id)) part.set(node.id, 'forward');
    else {
      // Inputs come first in SSA order, so every operand's part is known by now.
      const isUpdate =
        assigned.has(node.id) || node.inputs.some((id) => part.get(id) === 'state' || part.get(id) === 'update');
      part.set(node.id, isUpdate ? 'update' : 'gradient');
    }
  }
  const shown = graph.nodes.filter((node) => !(node.op === 'const' && node.shape.length === 0));
  const shownIds = new Set(shown.map((node) => node.id));
  const edges = new Map<string, { from: number; to: number }>();
  for (const node of shown) {
    for (const from of node.inputs) if (shownIds.has(from)) edges.set(`${from}>${node.id}`, { from, to: node.id });
  }
  return {
    nodes: shown.map((node) => {
      const assigns = assigned.get(node.id);
      return {
        id: node.id,
        op: node.op,
        label: labelOf(node),
        type: `${node.dtype}[${node.shape.join(',')}]`,
        part: part.get(node.id)!,
        ...(assigns === undefined ? {} : { assigns }),
      };
    }),
    edges: [...edges.values()],
  };
}

function labelOf(node: Node): string {
  return node.name !== undefined && node.op !== 'const' ? node.name : `%${node.id}`;
}
