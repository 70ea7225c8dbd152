/**
 * Lowering to kernels, for a node or a fusion group: an elementwise op as a loop group of
 * one (see fused.ts), a kernel op through its template, an alias to nothing (it shares
 * its input's buffer), a fused group through fused.ts's emitter.
 */

import { GraphError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import type { Attrs } from '../attrs.js';
import type { KernelSpec, LoweringContext } from './kernel.js';
import { getOp } from '../ops/op.js';
import type { FusionGroup } from '../passes/fuse.js';
import { describeNode, lowerFusedGroup } from './fused.js';
import type { KernelLimits } from './wgsl.js';
import type { TuningTable } from './tuning.js';
import { sanitize } from './wgsl.js';

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
    const group = { kind: 'loop', nodes: [node.id], outputs: [node.id], shape: node.shape, reason: `${node.op}: elementwise` } as const;
    return lowerFusedGroup(graph, group, limits, new Map(), tuning);
  }
  return lowering.emit(ctx);
}

/** The kernels of one fusion group. `writeInto` maps output nodes to the param/state they update in place. */
export function lowerGroup(
  graph: Graph,
  group: FusionGroup,
  limits: KernelLimits,
  writeInto: ReadonlyMap<number, number>,
  tuning?: TuningTable,
): readonly KernelSpec[] {
  if (group.kind === 'single' || (group.kind === 'epilogue' && group.nodes.length === 1 && writeInto.size === 0 && !group.prologue)) {
    return lowerNode(graph, graph.node(group.nodes[0]!), limits, tuning);
  }
  return lowerFusedGroup(graph, group, limits, writeInto, tuning);
}
