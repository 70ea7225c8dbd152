/**
 * A session's device memory across runs of different sizes. A plan with symbolic dims is
 * allocated for the sizes seen: when a run needs more bytes in a block (an allocation
 * holding a symbolic buffer), that block's GPUBuffer is replaced by a larger one and the
 * caller rebuilds only the bind groups that bind it. Memory never shrinks, and params,
 * state and consts never move (their sizes are static, so their blocks never grow). The
 * size block (one u32 per plan dim, padded to 16 bytes) is one uniform buffer, written
 * only when a run's dims differ from the last written.
 */

import { DeviceError, DeviceLimitError } from '../compiler/errors.js';
import type { Plan } from '../compiler/plan-format.js';
import { describeReport, withErrorScopes } from './device-errors.js';
import { dimsBindGroupLayout } from './pipelines.js';
import type { RunDims } from './run-dims.js';
import { allocateMemory, blockBytes, blockLabel, blockMembers, blockOf, MEMORY_USAGE } from './session-setup.js';

const USAGE_UNIFORM = 0x40;
const USAGE_COPY_DST = 0x08;

export class SessionMemory {
  /** The block each plan buffer lives in, and each block's plan buffers. */
  private readonly blockOf: readonly number[];
  private readonly members: readonly (readonly number[])[];
  /** The size block's values as last written (one per plan dim). */
  private written: readonly number[] | undefined;

  private constructor(
    private readonly device: GPUDevice,
    private readonly plan: Plan,
    /** The GPUBuffer of each plan buffer, by id: replaced in place when its block grows. */
    readonly buffers: GPUBuffer[],
    /** The GPUBuffer of each block. */
    private readonly memory: GPUBuffer[],
    private readonly dimsBuffer: GPUBuffer | undefined,
    /** Group 1 of the kernels that read the size block. */
    readonly dimsBindGroup: GPUBindGroup | undefined,
  ) {
    this.blockOf = plan.buffers.map((b) => blockOf(plan, b));
    this.members = blockMembers(plan);
  }

  /** Allocates the plan's memory for `dims` (a session's maxDims, or none: static sizes until a run grows them) and the size block. */
  static async create(device: GPUDevice, plan: Plan, dims: RunDims): Promise<SessionMemory> {
    const { buffers, memory } = await allocateMemory(device, plan, dims);
    const names = plan.dims ?? [];
    if (names.length === 0) return new SessionMemory(device, plan, buffers, memory, undefined, undefined);
    const size = Math.ceil((names.length * 4) / 16) * 16;
    const dimsBuffer = device.createBuffer({ label: `${plan.name} dims`, size, usage: USAGE_UNIFORM | USAGE_COPY_DST });
    const bindGroup = device.createBindGroup({ label: `${plan.name} dims`, layout: dimsBindGroupLayout(device), entries: [{ binding: 0, resource: { buffer: dimsBuffer } }] });
    return new SessionMemory(device, plan, buffers, memory, dimsBuffer, bindGroup);
  }

  /**
   * Grows every block holding one of `used` (plan buffer ids) that is too small at `dims`,
   * and returns the plan buffers whose GPUBuffer was replaced (their bind groups must be
   * rebuilt). A block the device cannot allocate rejects with a DeviceLimitError and leaves
   * the memory as it was.
   */
  async grow(what: string, used: readonly number[], dims: RunDims): Promise<Set<number>> {
    const blocks = [...new Set(used.map((id) => this.blockOf[id]!))];
    const growing = blocks
      .map((a) => ({ a, bytes: blockBytes(this.plan, a, this.members[a]!, dims) }))
      .filter(({ a, bytes }) => bytes > this.memory[a]!.size);
    const moved = new Set<number>();
    if (growing.length === 0) return moved;
    const { result: made, report } = withErrorScopes(this.device, () =>
      growing.map(({ a, bytes }) => this.device.createBuffer({ label: blockLabel(this.plan, this.members[a]!), size: bytes, usage: MEMORY_USAGE })),
    );
    const rejected = await report;
    if (rejected) {
      for (const buffer of made) buffer.destroy();
      const total = growing.reduce((sum, { bytes }) => sum + bytes, 0);
      const sizes = Object.entries(dims).map(([name, size]) => `${name} = ${size}`).join(', ');
      if (rejected.kind === 'out-of-memory') throw new DeviceLimitError(`${what}: could not grow the session's memory to ${total} bytes for ${sizes} (${rejected.message}). Run a smaller batch.`);
      throw new DeviceError(`${what}: the GPU device rejected growing the session's memory for ${sizes} with ${describeReport(rejected)}: ${rejected.message.trim()}`);
    }
    growing.forEach(({ a }, i) => {
      // Work already submitted keeps the old buffer until it completes (WebGPU defers its destruction).
      this.memory[a]!.destroy();
      this.memory[a] = made[i]!;
      for (const id of this.members[a]!) {
        this.buffers[id] = made[i]!;
        moved.add(id);
      }
    });
    return moved;
  }

  /** Writes the size block for a run (dims it does not bind keep their last value), unless it already holds those values. */
  writeDims(dims: RunDims): void {
    if (!this.dimsBuffer) return;
    const values = (this.plan.dims ?? []).map((name, i) => dims[name] ?? this.written?.[i] ?? 1);
    if (this.written && values.every((v, i) => v === this.written![i])) return;
    const block = new Uint32Array(this.dimsBuffer.size / 4);
    block.set(values);
    this.device.queue.writeBuffer(this.dimsBuffer, 0, block);
    this.written = values;
  }

  /** Every GPUBuffer held, to destroy with the session. */
  all(): GPUBuffer[] {
    return [...this.memory, ...(this.dimsBuffer ? [this.dimsBuffer] : [])];
  }
}
