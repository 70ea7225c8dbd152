/**
 * A session's GPU objects, made once at Session.create: its memory (one GPUBuffer per
 * allocation of a memory-planned plan, else per buffer) with the constants uploaded,
 * one bind group per kernel, and what each entry's runs read from the plan; and each
 * kernel's dispatch, made once its pipeline is. Each is made inside error scopes, so a
 * device that rejects one fails with a typed error naming it, never a session that computes zeros.
 */

import { DeviceError, DeviceLimitError } from '../compiler/errors.js';
import type { Plan, PlanBuffer, PlanEntry } from '../compiler/plan-format.js';
import type { KernelDispatch } from './device-errors.js';
import { describeKernel, describeReport, withErrorScopes } from './device-errors.js';
import { planSizeNames } from '../compiler/plan-format.js';
import { constantBytes } from './host-tensor.js';
import type { SessionPipelines } from './session-pipelines.js';
import type { RunDims } from './run-dims.js';
import { bufferAt, bytesAt, entryBuffers, entryDimNames } from './run-dims.js';

/** STORAGE | COPY_SRC | COPY_DST */
export const MEMORY_USAGE = 0x80 | 0x04 | 0x08;

/**
 * The GPUBuffer of each plan buffer, by id (buffers sharing an allocation share one), and
 * every GPUBuffer made, to destroy, sized for `dims` (a symbolic buffer whose dims are not
 * given gets its allocation's static bytes until a run grows it). Rejects with a
 * DeviceLimitError when the device is out of memory, a DeviceError for any other
 * rejection; nothing stays allocated then.
 */
export async function allocateMemory(device: GPUDevice, plan: Plan, dims: RunDims = {}): Promise<{ buffers: GPUBuffer[]; memory: GPUBuffer[] }> {
  const constants = plan.buffers.filter((b) => b.data).map((b) => ({ id: b.id, bytes: constantBytes(bufferAt(b)) }));
  const members = blockMembers(plan);
  const blocks = members.map((ids, a) => ({ label: blockLabel(plan, ids), bytes: blockBytes(plan, a, ids, dims) }));
  const { result: memory, report } = withErrorScopes(device, () => {
    const made = blocks.map(({ label, bytes }) => device.createBuffer({ label, size: bytes, usage: MEMORY_USAGE }));
    const buffers = plan.buffers.map((b) => made[blockOf(plan, b)]!);
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
  return { buffers: plan.buffers.map((b) => memory[blockOf(plan, b)]!), memory };
}

/** The block of device memory a plan buffer lives in: its allocation in a memory-planned plan, else its own. */
export function blockOf(plan: Plan, b: PlanBuffer): number {
  return plan.allocations ? b.allocation! : b.id;
}

/** The plan buffers of each block. */
export function blockMembers(plan: Plan): number[][] {
  const members = (plan.allocations ?? plan.buffers).map((): number[] => []);
  for (const b of plan.buffers) members[blockOf(plan, b)]!.push(b.id);
  return members;
}

/**
 * The bytes a block needs at `dims`: its static part (the allocation's bytes, which cover
 * its static buffers) or more for a symbolic buffer in it; those whose dims are not all
 * given are not counted (no run has used them yet).
 */
export function blockBytes(plan: Plan, block: number, members: readonly number[], dims: RunDims): number {
  let bytes = plan.allocations ? plan.allocations[block]!.bytes : 4;
  for (const id of members) {
    const b = plan.buffers[id]!;
    if (typeof b.bytes === 'number' || planSizeNames(b.bytes).every((name) => dims[name] !== undefined)) bytes = Math.max(bytes, bytesAt(b, dims));
  }
  return bytes;
}

/** A block's label: the values it holds. */
export function blockLabel(plan: Plan, members: readonly number[]): string {
  const held = members.map((id) => plan.buffers[id]!.name);
  return held.length > 3 ? `${held.slice(0, 3).join(' | ')} | … ${held.length - 3} more` : held.join(' | ');
}

/**
 * The bind groups (group 0) of `kernels` (indices, default all), labelled with their names,
 * on each kernel's layout (`layouts`, by kernel index: made from its bindings, so no
 * pipeline is needed); rejects with a DeviceError naming the first kernel whose bind group
 * the device refused. A static buffer binds its own bytes of its allocation (which may be
 * larger: shared memory); a symbolic one binds its whole allocation, so the bind group
 * serves every run until that memory grows.
 */
export async function createBindGroups(device: GPUDevice, plan: Plan, buffers: readonly GPUBuffer[], layouts: readonly GPUBindGroupLayout[], kernels: readonly number[] = plan.kernels.map((_, k) => k)): Promise<GPUBindGroup[]> {
  const bindingLimit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const made = kernels.map((k) =>
    withErrorScopes(device, () =>
      device.createBindGroup({
        label: plan.kernels[k]!.name,
        layout: layouts[k]!,
        entries: plan.kernels[k]!.bindings.map(({ buffer }, binding) => {
          const bytes = plan.buffers[buffer]!.bytes;
          return { binding, resource: { buffer: buffers[buffer]!, size: typeof bytes === 'number' ? bytes : Math.min(buffers[buffer]!.size, bindingLimit) } };
        }),
      }),
    ),
  );
  const reports = await Promise.all(made.map(({ report }) => report));
  const k = reports.findIndex((report) => report !== undefined);
  if (k >= 0) {
    const report = reports[k]!;
    throw new DeviceError(`Session '${plan.name}': the GPU device rejected the bind group of ${describeKernel(plan.kernels[kernels[k]!]!)} with ${describeReport(report)}: ${report.message.trim()}`);
  }
  return made.map(({ result }) => result);
}

/**
 * Each kernel's dispatch (pipeline, bind groups, the workgroups of a static plan), made when
 * the first entry that dispatches it is about to run, once that entry's pipelines are made:
 * one object per kernel, shared by every entry that dispatches it (a kernel dispatched twice
 * appears twice as the same object).
 */
export class KernelDispatches {
  private readonly kernels: (KernelDispatch | undefined)[] = [];
  private readonly entries = new Map<string, readonly KernelDispatch[]>();

  constructor(
    private readonly device: GPUDevice,
    private readonly plan: Plan,
    private readonly pipelines: SessionPipelines,
    private readonly layouts: readonly GPUBindGroupLayout[],
    private readonly bindGroups: GPUBindGroup[],
    private readonly dimsBindGroup: GPUBindGroup | undefined,
  ) {}

  /** The entry's dispatches if they are made (every run after its first): no wait on a step's path. */
  made(entryName: string): readonly KernelDispatch[] | undefined {
    return this.entries.get(entryName);
  }

  /** The entry's dispatches in order, once its own pipelines are made (rejects with the KernelError of one that failed). */
  async of(entryName: string): Promise<readonly KernelDispatch[]> {
    const ready = this.entries.get(entryName);
    if (ready) return ready;
    const pipelines = await this.pipelines.entry(entryName);
    const dispatches = this.plan.entries[entryName]!.dispatches.map((k, i) => (this.kernels[k] ??= this.dispatchOf(k, pipelines[i]!)));
    this.entries.set(entryName, dispatches);
    return dispatches;
  }

  /** Rebuilds the bind groups of the kernels that bind a plan buffer in `moved` (its memory grew). */
  async rebind(buffers: readonly GPUBuffer[], moved: ReadonlySet<number>): Promise<void> {
    const kernels = this.plan.kernels.flatMap((kernel, k) => (kernel.bindings.some(({ buffer }) => moved.has(buffer)) ? [k] : []));
    const bindGroups = await createBindGroups(this.device, this.plan, buffers, this.layouts, kernels);
    kernels.forEach((k, i) => {
      this.bindGroups[k] = bindGroups[i]!;
      const dispatch = this.kernels[k];
      if (dispatch) dispatch.bindGroup = bindGroups[i]!;
    });
  }

  private dispatchOf(k: number, pipeline: GPUComputePipeline): KernelDispatch {
    const kernel = this.plan.kernels[k]!;
    return {
      kernel,
      pipeline,
      bindGroup: this.bindGroups[k]!,
      ...(kernel.readsDims && this.dimsBindGroup ? { dimsBindGroup: this.dimsBindGroup } : {}),
      // Symbolic counts are set per run, at the run's dims.
      workgroups: kernel.workgroups.map((count) => (typeof count === 'number' ? count : 0)) as [number, number, number],
    };
  }
}

/** What a run of one entry needs from the plan, gathered once at Session.create. */
export interface EntryRun {
  readonly name: string;
  readonly entry: PlanEntry;
  /** The entry's inputs with their plan buffers, in the plan's order. */
  readonly inputs: readonly { readonly name: string; readonly id: number; readonly buffer: PlanBuffer }[];
  /** Every output, the default `outputs` of a run. */
  readonly outputNames: readonly string[];
  /** The dims a run must bind (none for a static plan). */
  readonly dims: readonly string[];
  /** The plan buffers it touches. */
  readonly buffers: readonly number[];
}

/** Each entry's run, by name: a step then reads its inputs, outputs and dispatches without walking the plan. */
export function entryRuns(plan: Plan): Map<string, EntryRun> {
  return new Map(
    Object.entries(plan.entries).map(([name, entry]): [string, EntryRun] => [
      name,
      {
        name,
        entry,
        inputs: Object.entries(entry.inputs).map(([input, id]) => ({ name: input, id, buffer: plan.buffers[id]! })),
        outputNames: Object.keys(entry.outputs),
        dims: entryDimNames(plan, entry),
        buffers: [...entryBuffers(plan, entry)],
      },
    ]),
  );
}
