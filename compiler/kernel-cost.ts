/**
 * What each kernel of a plan computes and moves, for the roofline figures of `kiln profile`
 * (achieved GFLOP/s and GB/s). Read from the compilation, never from the WGSL:
 *
 * - FLOPs: the sum over the graph nodes the kernel implements of their op's `flops` (a
 *   matmul's 2·m·n·k, a convolution's 2 per tap, attention's two products, 0 for an op
 *   that only moves data), else one per input element of a reduction and one per output
 *   element of any other op (so one per element per elementwise op fused), none for an alias.
 * - Bytes: the bytes of the buffers it binds at the run's sizes, once each: what it must
 *   read (`read` bindings) and write (`read_write` ones) at least. A matmul that reads a
 *   tile twice moves more through caches; this is the compulsory traffic a roofline uses.
 *
 * Sizes are the run's dims (`{batch: 64}`); a static plan takes `{}`.
 */

import type { Graph } from './graph.js';
import { evaluateDim } from './dims.js';
import { ArgumentError } from './errors.js';
import { getOp } from './ops/op.js';
import type { Plan, PlanKernel } from './plan-format.js';
import { evaluatePlanSize } from './plan-format.js';
import { sizeOf } from './shape.js';

export interface KernelCost {
  /** Arithmetic operations of one dispatch. */
  readonly flops: number;
  /** Bytes of the buffers it only reads. */
  readonly bytesRead: number;
  /** Bytes of the buffers it writes (bound `read_write`). */
  readonly bytesWritten: number;
}

type Dims = Readonly<Record<string, number>>;

/** The arithmetic operations of graph node `id` at `dims` (see the module comment for the rule). */
export function nodeFlops(graph: Graph, id: number, dims: Dims = {}): number {
  const node = graph.node(id);
  const op = getOp(node.op);
  const shapeOf = (nodeId: number): number[] => graph.node(nodeId).shape.map((d) => evaluateDim(d, dims));
  const inputs = node.inputs.map(shapeOf);
  const output = shapeOf(id);
  if (op.flops) return op.flops(inputs, output, node.attrs);
  if (op.reduction) return sizeOf(inputs[0]!);
  return op.lower?.kind === 'alias' ? 0 : sizeOf(output);
}

/** The bytes a kernel's bindings hold at `dims`, read-only and written. */
function kernelBytes(plan: Plan, kernel: PlanKernel, dims: Dims = {}): Omit<KernelCost, 'flops'> {
  let bytesRead = 0;
  let bytesWritten = 0;
  for (const { buffer, access } of kernel.bindings) {
    const bytes = evaluatePlanSize(plan.buffers[buffer]!.bytes, dims);
    if (access === 'read') bytesRead += bytes;
    else bytesWritten += bytes;
  }
  return { bytesRead, bytesWritten };
}

/**
 * The cost of each dispatch of `entryName`, in dispatch order. `graph` is the one the
 * plan's kernels name (`compileStages(...).simplified.graph`). A fusion group lowered to
 * several kernels in a row (a reduction's passes) lists its nodes on each: the first
 * counts their FLOPs, so a step's total counts each node once.
 */
export function entryCosts(plan: Plan, graph: Graph, entryName: string, dims: Dims = {}): KernelCost[] {
  const entry = plan.entries[entryName];
  if (!entry) throw new ArgumentError(`entryCosts: plan '${plan.name}' has no entry '${entryName}' (entries: ${Object.keys(plan.entries).join(', ')}).`);
  let previous = '';
  return entry.dispatches.map((k) => {
    const kernel = plan.kernels[k]!;
    const nodes = kernel.nodes.join(',');
    const flops = nodes === previous ? 0 : kernel.nodes.reduce((sum, id) => sum + nodeFlops(graph, id, dims), 0);
    previous = nodes;
    return { flops, ...kernelBytes(plan, kernel, dims) };
  });
}
