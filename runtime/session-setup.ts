/**
 * A session's GPU objects, made once at Session.create: its memory (one GPUBuffer per
 * allocation of a memory-planned plan, else per buffer) with the constants uploaded,
 * one bind group per kernel, and what each entry's runs read from the plan. Each is made inside error scopes, so a device that rejects
 * one fails Session.create with a typed error naming it, never a session that computes zeros.
 */

import { DeviceError, DeviceLimitError } from '../compiler/errors.js';
import type { Plan, PlanBuffer, PlanEntry } from '../compiler/plan-format.js';
import type { KernelDispatch } from './device-errors.js';
import { describeKernel, describeReport, withErrorScopes } from './device-errors.js';
import { constantBytes } from './host-tensor.js';

const USAGE_STORAGE = 0x80;
const USAGE_COPY_SRC = 0x04;
const USAGE_COPY_DST = 0x08;

/**
 * The GPUBuffer of each plan buffer, by id (buffers sharing an allocation share one), and
 * every GPUBuffer made, to destroy. Rejects with a DeviceLimitError when the device is out
 * of memory, a DeviceError for any other rejection; nothing stays allocated then.
 */
export async function allocateMemory(device: GPUDevice, plan: Plan): Promise<{ buffers: GPUBuffer[]; memory: GPUBuffer[] }> {
  const constants = plan.buffers.filter((b) => b.data).map((b) => ({ id: b.id, bytes: constantBytes(b) }));
  const blocks = memoryBlocks(plan);
  const { result: memory, report } = withErrorScopes(device, () => {
    const made = blocks.map(({ label, bytes }) => device.createBuffer({ label, size: bytes, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST }));
    const buffers = plan.buffers.map((b) => made[plan.allocations ? b.allocation! : b.id]!);
    for (const { id, bytes } of constants) device.queue.writeBuffer(buffers[id]!, 0, bytes);
    return made;
  });
  const rejected = await report;
  if (rejected) {
    for (const buffer of memory) buffer.destroy();
    const total = blocks.reduce((sum, b) => sum + b.bytes, 0);
    if (rejected.kind === 'out-of-memory') {
      throw new DeviceLimitError(`Session '${plan.name}': could not allocate the plan's ${total} bytes of buffers (${rejected.message}). Use a smaller batch or model.`);
    }
    throw new DeviceError(`Session '${plan.name}': the GPU device rejected the plan's buffers (${total} bytes) or their constants with ${describeReport(rejected)}: ${rejected.message.trim()}`);
  }
  return { buffers: plan.buffers.map((b) => memory[plan.allocations ? b.allocation! : b.id]!), memory };
}

/** The GPUBuffers a plan needs: one per allocation (labelled by the values it holds), or one per plan buffer. */
function memoryBlocks(plan: Plan): { label: string; bytes: number }[] {
  if (!plan.allocations) return plan.buffers.map((b) => ({ label: b.name, bytes: b.bytes }));
  const names = plan.allocations.map((): string[] => []);
  for (const b of plan.buffers) names[b.allocation!]!.push(b.name);
  return plan.allocations.map(({ bytes }, a) => {
    const held = names[a]!;
    return { label: held.length > 3 ? `${held.slice(0, 3).join(' | ')} | … ${held.length - 3} more` : held.join(' | '), bytes };
  });
}

/** One bind group per kernel, labelled with its name; rejects with a DeviceError naming the first kernel whose bind group the device refused. */
export async function createBindGroups(device: GPUDevice, plan: Plan, buffers: readonly GPUBuffer[], pipelines: readonly GPUComputePipeline[]): Promise<GPUBindGroup[]> {
  const made = plan.kernels.map((kernel, k) =>
    withErrorScopes(device, () =>
      device.createBindGroup({
        label: kernel.name,
        layout: pipelines[k]!.getBindGroupLayout(0),
        // A buffer binds its own bytes of its allocation, which may be larger (shared memory).
        entries: kernel.bindings.map(({ buffer }, binding) => ({ binding, resource: { buffer: buffers[buffer]!, size: plan.buffers[buffer]!.bytes } })),
      }),
    ),
  );
  const reports = await Promise.all(made.map(({ report }) => report));
  const k = reports.findIndex((report) => report !== undefined);
  if (k >= 0) {
    const report = reports[k]!;
    throw new DeviceError(`Session '${plan.name}': the GPU device rejected the bind group of ${describeKernel(plan.kernels[k]!)} with ${describeReport(report)}: ${report.message.trim()}`);
  }
  return made.map(({ result }) => result);
}

/** What a run of one entry needs from the plan, gathered once at Session.create. */
export interface EntryRun {
  readonly name: string;
  readonly entry: PlanEntry;
  /** The entry's inputs with their plan buffers, in the plan's order. */
  readonly inputs: readonly { readonly name: string; readonly id: number; readonly buffer: PlanBuffer }[];
  /** Every output, the default `outputs` of a run. */
  readonly outputNames: readonly string[];
  /** Its dispatches in order: one object per kernel, so a kernel dispatched twice appears twice as the same object. */
  readonly dispatches: readonly KernelDispatch[];
}

/** Each entry's run, by name: a step then reads its inputs, outputs and dispatches without walking the plan. */
export function entryRuns(plan: Plan, pipelines: readonly GPUComputePipeline[], bindGroups: readonly GPUBindGroup[]): Map<string, EntryRun> {
  const dispatches = plan.kernels.map((kernel, k): KernelDispatch => ({ kernel, pipeline: pipelines[k]!, bindGroup: bindGroups[k]! }));
  return new Map(
    Object.entries(plan.entries).map(([name, entry]): [string, EntryRun] => [
      name,
      {
        name,
        entry,
        inputs: Object.entries(entry.inputs).map(([input, id]) => ({ name: input, id, buffer: plan.buffers[id]! })),
        outputNames: Object.keys(entry.outputs),
        dispatches: entry.dispatches.map((k) => dispatches[k]!),
      },
    ]),
  );
}
