/**
 * The graph as the playground draws it: the simplified graph (the one the kernels' node
 * ids refer to) with each node sorted into the part of the pipeline it belongs to, so the
 * forward pass, its gradient and the optimizer's updates read apart at a glance. Pure
 * data, no DOM: the DAG view lays it out, and tests check it in Node.
 */

import { ancestorsOf } from '../compiler/graph.js';
import type { AttrValue, Attrs } from '../compiler/attrs.js';
import { formatType } from '../compiler/shape.js';
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
  /** Its attributes, short: `axes=[1], keepdims` (empty when it has none). */
  readonly attrs: string;
  /** The name scope it was built in (`block0/attn`), or the one of the param it reads; absent outside any. */
  readonly scope?: string;
  /** The editor line that built it, when known. */
  readonly line?: number;
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
  const scopes = scopesOf(graph.nodes);
  return {
    nodes: shown.map((node) => {
      const assigns = assigned.get(node.id);
      const scope = scopes.get(node.id);
      const line = node.origin?.line;
      return {
        id: node.id,
        op: node.op,
        label: labelOf(node),
        type: formatType(node),
        part: part.get(node.id)!,
        ...(assigns === undefined ? {} : { assigns }),
        attrs: formatAttrs(node.attrs),
        ...(scope === undefined ? {} : { scope }),
        ...(line === undefined ? {} : { line }),
      };
    }),
    edges: [...edges.values()],
  };
}

/**
 * Each node's scope: its origin's, else (a graph built without scopes, or imported) the one
 * its param names spell: `attn.q.kernel` is in `attn/q`, its Adam moment `attn.q.kernel.adam.m`
 * with it, and a computed node that reads a param directly with that param.
 */
function scopesOf(nodes: readonly Node[]): Map<number, string> {
  const scopes = new Map<number, string>();
  const leaves = new Set(nodes.filter((node) => roleOf(node) === 'param' || roleOf(node) === 'state').map((node) => node.id));
  const paramNames = nodes.filter((node) => roleOf(node) === 'param' && node.name !== undefined).map((node) => node.name!);
  // Longest first, so `attn.q.kernel.adam.m` belongs to `attn.q.kernel`, not to a shorter name it starts with.
  paramNames.sort((a, b) => b.length - a.length);
  const nameScope = (name: string): string | undefined => {
    const owner = paramNames.find((param) => name.startsWith(`${param}.`)) ?? name;
    const dot = owner.lastIndexOf('.');
    return dot > 0 ? owner.slice(0, dot).replaceAll('.', '/') : undefined;
  };
  for (const node of nodes) {
    const scope =
      node.origin?.scope ??
      (leaves.has(node.id) ? nameScope(node.name ?? '') : node.inputs.filter((id) => leaves.has(id)).map((id) => scopes.get(id)).find((s) => s !== undefined));
    if (scope !== undefined) scopes.set(node.id, scope);
  }
  return scopes;
}

const ATTRS_SHOWN = 80;

/** `axes=[1], keepdims`: booleans as flags, long lists (a constant's values) cut short. */
function formatAttrs(attrs: Attrs): string {
  const text = Object.entries(attrs)
    .filter(([, value]) => value !== false && value !== null)
    .map(([key, value]) => (value === true ? key : `${key}=${formatValue(value)}`))
    .join(', ');
  return text.length > ATTRS_SHOWN ? `${text.slice(0, ATTRS_SHOWN - 1)}…` : text;
}

function formatValue(value: AttrValue): string {
  if (Array.isArray(value)) return value.length > 8 ? `[${value.slice(0, 8).map(formatValue).join(', ')}, … ${value.length}]` : `[${value.map(formatValue).join(', ')}]`;
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    return `{${Object.entries(value as Attrs).map(([k, v]) => `${k}=${formatValue(v)}`).join(', ')}}`;
  }
  return String(value);
}

function labelOf(node: Node): string {
  return node.name !== undefined && node.op !== 'const' ? node.name : `%${node.id}`;
}
