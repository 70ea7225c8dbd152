/**
 * Runs a plan's entries on the shared device without a Session, at given dim values: every
 * buffer sized at those values (its own memory: compile with `{memory: false}`), each
 * kernel's pipeline created with an explicit layout (group 0 its storage bindings, group 1
 * the size block when it reads one: one u32 per plan dim, padded to 16 bytes), its grid
 * computed as the runtime does (ceil(size / per); a folded x past the limit into y). So the
 * code generator's symbolic kernels can be checked against their static plans before the
 * Session runs symbolic plans.
 */

import type { Plan } from '../../compiler/plan-format.js';
import { evaluatePlanSize, fromPlanNumber } from '../../compiler/plan-format.js';
import { workgroupsAt } from '../../runtime/run-dims.js';
import { gpu } from './harness.js';
import { pipelineFor } from './symbolic-kernel-runner.js';

/** Creates a plan kernel's pipeline with an explicit layout (the template runner's); rejects with the WGSL's compile errors. */
export const planPipeline = pipelineFor;

export type HostData = Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;

/** An array of `length` elements as a buffer of `dtype` stores them (bool as u32). */
const typed = (dtype: string, length: number): HostData =>
  dtype === 'f32' ? new Float32Array(length) : dtype === 'i32' ? new Int32Array(length) : new Uint32Array(length);

/**
 * Runs the plan's `init` entry, then `entry` with `feeds`, at dim values `sizes`; returns
 * the entry's outputs (f32, i32, or bool as u32) and, after its update copies, the
 * buffers named in `read` (params, say).
 */
export async function runPlanAt(
  plan: Plan,
  entry: string,
  feeds: Readonly<Record<string, ArrayLike<number>>>,
  sizes: Readonly<Record<string, number>> = {},
  read: readonly string[] = [],
): Promise<Record<string, HostData>> {
  const { device } = await gpu();
  if (plan.allocations) throw new Error('runPlanAt runs unplanned plans: compile with {memory: false}');
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffers = plan.buffers.map((b) => {
    const bytes = evaluatePlanSize(b.bytes, sizes);
    const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    if (b.data) {
      const values = b.data.map(fromPlanNumber);
      const elements = bytes / 4;
      const data = typed(b.dtype, elements);
      for (let i = 0; i < elements; i++) data[i] = values.length === 1 ? values[0]! : values[i]!;
      device.queue.writeBuffer(buffer, 0, data);
    }
    return buffer;
  });
  const block = new Uint32Array(Math.max(4, Math.ceil((plan.dims ?? []).length / 4) * 4));
  (plan.dims ?? []).forEach((name, i) => (block[i] = sizes[name]!));
  const uniform = device.createBuffer({ size: block.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, block);
  const steps = plan.entries[entry]!;
  for (const [name, id] of Object.entries(steps.inputs)) {
    const b = plan.buffers[id]!;
    const data = typed(b.dtype, feeds[name]!.length);
    data.set(Array.from(feeds[name]!));
    device.queue.writeBuffer(buffers[id]!, 0, data);
  }
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  const encoder = device.createCommandEncoder();
  for (const k of [...plan.entries['init']!.dispatches, ...steps.dispatches]) {
    const kernel = plan.kernels[k]!;
    const pipeline = await planPipeline(kernel);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    const entries = kernel.bindings.map(({ buffer }, binding) => ({ binding, resource: { buffer: buffers[buffer]! } }));
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    if (kernel.readsDims) pass.setBindGroup(1, device.createBindGroup({ layout: pipeline.getBindGroupLayout(1), entries: [{ binding: 0, resource: { buffer: uniform } }] }));
    pass.dispatchWorkgroups(...workgroupsAt(kernel, sizes, max));
    pass.end();
  }
  for (const { from, to } of steps.copies) encoder.copyBufferToBuffer(buffers[from]!, 0, buffers[to]!, 0, Math.min(buffers[from]!.size, buffers[to]!.size));
  const named = read.map((name): [string, number] => [name, plan.buffers.find((b) => b.name === name)!.id]);
  const staging = [...Object.entries(steps.outputs), ...named].map(([name, id]) => {
    const copy = device.createBuffer({ size: buffers[id]!.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffers[id]!, 0, copy, 0, buffers[id]!.size);
    return { name, id, copy };
  });
  device.queue.submit([encoder.finish()]);
  const results: Record<string, HostData> = {};
  for (const { name, id, copy } of staging) {
    await copy.mapAsync(GPUMapMode.READ);
    const b = plan.buffers[id]!;
    const shape = steps.outputShapes?.[name] ?? b.shape;
    const elements = shape.reduce<number>((n, d) => n * evaluatePlanSize(d, sizes), 1);
    const bytes = copy.getMappedRange().slice(0, elements * 4);
    results[name] = b.dtype === 'f32' ? new Float32Array(bytes) : b.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
    copy.unmap();
    copy.destroy();
  }
  for (const buffer of buffers) buffer.destroy();
  uniform.destroy();
  return results;
}
