/**
 * Lowering one node to its kernels: an elementwise op as a loop group of one (see
 * fused.ts), a kernel op through its template, an alias to nothing (it shares its input's
 * buffer).
 */

import { GraphError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import type { Attrs } from '../attrs.js';
import type { KernelSpec, LoweringContext } from './kernel.js';
import { getOp } from '../ops/op.js';
import { formatType } from '../shape.js';
import { lowerGroup } from './fused.js';
import type { KernelLimits } from './wgsl.js';
import type { TuningTable } from './tuning.js';
import { sanitize } from './wgsl.js';

/** A const node whose value is one number repeated: inlined as a literal where it is read. */
export function splatValue(node: Node): number | undefined {
  if (node.op !== 'const') return undefined;
  const values = node.attrs['value'] as readonly number[];
  return values.length === 1 ? values[0] : undefined;
}

/** Whether the node's output is just its input's buffer. */
export function isAlias(node: Node): boolean {
  return getOp(node.op).lower?.kind === 'alias';
}

/** Lines of the kernel header comment describing one node (names sanitized). */
export function describeNode(graph: Graph, node: Node): string {
  const args = node.inputs.map((id) => {
    const input = graph.node(id);
    return `${input.name === undefined ? `%${id}` : sanitize(input.name)}:${formatType(input)}`;
  });
  return `%${node.id}:${formatType(node)} = ${node.op} ${args.join(' ')}`;
}

/** The kernels that compute `node` (none for aliases), for a device with `limits`. */
export function lowerNode(graph: Graph, node: Node, limits: KernelLimits, tuning?: TuningTable): readonly KernelSpec[] {
  const def = getOp(node.op);
  const lowering = def.lower;
  if (!lowering) {
    throw new GraphError(`lower: op '${node.op}' (node %${node.id}) has no WGSL lowering.`);
  }
  if (lowering.kind === 'alias') return [];
  const inputs = node.inputs.map((id) => graph.node(id));
  const ctx: LoweringContext<Attrs> = {
    node,
    inputs,
    attrs: node.attrs,
    name: `k${node.id}_${sanitize(node.op)}`,
    limits,
    header: [describeNode(graph, node)],
    ...(tuning ? { tuning } : {}),
  };
  if (lowering.kind === 'elementwise') {
    // One elementwise node is a loop group of one: the same emitter as fused chains.
    const group = { kind: 'single', nodes: [node.id], outputs: [node.id], shape: node.shape, reason: `${node.op}: elementwise`, inPlace: [] } as const;
    return lowerGroup(graph, group, limits, tuning);
  }
  return lowering.emit(ctx);
}
