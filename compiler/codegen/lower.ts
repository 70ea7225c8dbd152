/**
 * Lowering to kernels, for a node or a fusion group: an elementwise op as a loop group of
 * one (see fused.ts), a kernel op through its template, an alias to nothing (it shares
 * its input's buffer), a fused group through fused.ts's emitter.
 */

import { GraphError, KernelError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import { graphDims } from '../graph.js';
import type { Attrs } from '../attrs.js';
import type { KernelSpec, LoweringContext } from './kernel.js';
import { getOp } from '../ops/op.js';
import type { FusionGroup } from '../passes/fusion/group.js';
import { describeNode, lowerFusedGroup } from './fused.js';
import type { KernelLimits } from './wgsl.js';
import type { TuningTable } from './tuning.js';
import { sanitize } from './wgsl.js';

/** The kernels that compute `node` (none for aliases), for a device with `limits`; `dims`: the plan's (default: the graph's). */
export function lowerNode(graph: Graph, node: Node, limits: KernelLimits, tuning?: TuningTable, dims: readonly string[] = graphDims(graph)): readonly KernelSpec[] {
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
    dims,
  };
  if (lowering.kind === 'elementwise') {
    // One elementwise node is a loop group of one: the same emitter as fused chains.
    const group = { kind: 'single', nodes: [node.id], outputs: [node.id], shape: node.shape, reason: `${node.op}: elementwise`, inPlace: [] } as const;
    return lowerFusedGroup(graph, group, limits, tuning, dims);
  }
  return lowering.emit(ctx);
}

/**
 * The kernels of one fusion group. Every decision is the group's (fusion's): an op alone
 * that is not elementwise is its template's lowering, anything else the fused emitter's.
 * The kernels must bind exactly the storage buffers fusion counted; a difference is a
 * fusion bug, reported rather than left to fail on a device with a tight limit.
 */
export function lowerGroup(graph: Graph, group: FusionGroup, limits: KernelLimits, tuning?: TuningTable, dims: readonly string[] = graphDims(graph)): readonly KernelSpec[] {
  const alone = group.kind !== 'row' && group.nodes.length === 1 && !group.prologue && group.inPlace.length === 0;
  const elementwise = group.anchor === undefined && group.nodes.every((id) => getOp(graph.node(id).op).lower?.kind === 'elementwise');
  const kernels = alone && !elementwise ? lowerNode(graph, graph.node(group.nodes[0]!), limits, tuning, dims) : lowerFusedGroup(graph, group, limits, tuning, dims);
  const wrong = kernels.find((spec) => group.storageBuffers !== undefined && spec.bindings.length !== group.storageBuffers);
  if (wrong) {
    throw new KernelError(
      `lowerGroup: kernel ${wrong.name} (${group.reason}) binds ${wrong.bindings.length} storage buffers, but fusion counted ` +
        `${group.storageBuffers} (a fusion bug: compile with {fuse: false} to work around it).`,
    );
  }
  return kernels;
}
