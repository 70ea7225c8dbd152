/**
 * The runtime: a Session runs a compiled plan on a GPUDevice. Pipelines are created once
 * (in parallel, asynchronously, deduplicated by WGSL), every buffer is allocated once and
 * every bind group built once. A step writes the fed inputs, encodes every dispatch in one
 * compute pass, applies parameter updates by buffer copies, submits once, and reads back
 * only the outputs asked for. Parameters and optimizer state stay on the GPU.
 */

import { FeedError, GraphError, KernelError } from '../compiler/errors.js';
import type { Plan, PlanBuffer, PlanDType, PlanKernel } from '../compiler/plan-format.js';
import { validatePlan } from './plan-check.js';

/** A tensor's values on the host, as a session returns them. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly dtype: PlanDType;
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/** A value fed to an input (or given for a param): flat row-major numbers, or a tensor. */
export type Feed = ArrayLike<number> | HostTensor;

export interface RunOptions {
  /** Names of the entry's outputs to read back; default all. `[]` reads nothing back. */
  outputs?: readonly string[];
}

const USAGE_STORAGE = 0x80;
const USAGE_COPY_SRC = 0x04;
const USAGE_COPY_DST = 0x08;
const USAGE_MAP_READ = 0x01;
const MAP_MODE_READ = 0x01;

export class Session {
  readonly plan: Plan;
  readonly device: GPUDevice;
  /** Resolves if the device is lost; the session cannot run after that. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  private readonly buffers: GPUBuffer[];
  private readonly pipelines: GPUComputePipeline[];
  private readonly bindGroups: GPUBindGroup[];
  private readonly staging = new Map<number, GPUBuffer>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(plan: Plan, device: GPUDevice, buffers: GPUBuffer[], pipelines: GPUComputePipeline[]) {
    this.plan = plan;
    this.device = device;
    this.lost = device.lost;
    this.buffers = buffers;
    this.pipelines = pipelines;
    this.bindGroups = plan.kernels.map((kernel, k) =>
      device.createBindGroup({
        label: kernel.name,
        layout: pipelines[k]!.getBindGroupLayout(0),
        entries: kernel.bindings.map((id, binding) => ({ binding, resource: { buffer: buffers[id]! } })),
      }),
    );
  }

  /**
   * Creates a session: checks the plan, allocates its buffers, uploads constants, compiles
   * every kernel and runs the plan's `init` entry (params and state get their initial values).
   */
  static async create(device: GPUDevice, plan: Plan): Promise<Session> {
    validatePlan(plan);
    const buffers = plan.buffers.map((b) =>
      device.createBuffer({ label: b.name, size: b.bytes, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST }),
    );
    for (const b of plan.buffers) if (b.data) device.queue.writeBuffer(buffers[b.id]!, 0, constantBytes(b));
    const pipelines = await createPipelines(device, plan.kernels);
    const session = new Session(plan, device, buffers, pipelines);
    await session.run('init', {}, { outputs: [] });
    return session;
  }

  /** Names of the plan's entry points (`init`, `forward`, `trainStep`, ...). */
  get entryNames(): string[] {
    return Object.keys(this.plan.entries);
  }

  /** Runs the `forward` entry. */
  forward(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<string, HostTensor>> {
    return this.run('forward', feeds, options);
  }

  /** Runs the `trainStep` entry: one step of forward, backward and updates. */
  trainStep(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<string, HostTensor>> {
    return this.run('trainStep', feeds, options);
  }

  /**
   * Runs an entry point: validates and writes the feeds, dispatches its kernels in one
   * compute pass, applies its updates, submits once and reads back the requested outputs.
   * Steps run in call order; a bad feed throws before anything reaches the GPU.
   */
  run(entryName: string, feeds: Readonly<Record<string, Feed>>, options: RunOptions = {}): Promise<Record<string, HostTensor>> {
    const step = this.queue.then(() => this.runNow(entryName, feeds, options));
    this.queue = step.catch(() => undefined);
    return step;
  }

  private async runNow(entryName: string, feeds: Readonly<Record<string, Feed>>, options: RunOptions): Promise<Record<string, HostTensor>> {
    this.checkAlive();
    const entry = this.plan.entries[entryName];
    if (!entry) {
      throw new GraphError(`Session: no entry '${entryName}'. This plan has: ${this.entryNames.join(', ')}.`);
    }
    const outputNames = options.outputs ?? Object.keys(entry.outputs);
    for (const name of outputNames) {
      if (!(name in entry.outputs)) {
        throw new GraphError(`Session.${entryName}: no output '${name}'. Outputs: ${Object.keys(entry.outputs).join(', ') || 'none'}.`);
      }
    }
    for (const name of Object.keys(feeds)) {
      if (!(name in entry.inputs)) {
        throw new FeedError(`Session.${entryName}: '${name}' is not an input of this entry. Inputs: ${Object.keys(entry.inputs).join(', ') || 'none'}.`);
      }
    }
    const writes = Object.entries(entry.inputs).map(([name, id]) => {
      const feed = feeds[name];
      const buffer = this.plan.buffers[id]!;
      if (feed === undefined) {
        throw new FeedError(`Session.${entryName}: input '${name}' (${describe(buffer)}) was not fed.`);
      }
      return { id, bytes: feedBytes(`input '${name}'`, buffer, feed) };
    });
    for (const { id, bytes } of writes) this.device.queue.writeBuffer(this.buffers[id]!, 0, bytes);

    const encoder = this.device.createCommandEncoder({ label: entryName });
    if (entry.dispatches.length > 0) {
      const pass = encoder.beginComputePass({ label: entryName });
      for (const k of entry.dispatches) {
        const [x, y, z] = this.plan.kernels[k]!.workgroups;
        pass.setPipeline(this.pipelines[k]!);
        pass.setBindGroup(0, this.bindGroups[k]!);
        pass.dispatchWorkgroups(x, y, z);
      }
      pass.end();
    }
    // Outputs are copied out before updates land, so they show this step's values.
    const reads = outputNames.map((name) => ({ name, id: entry.outputs[name]! }));
    for (const { id } of reads) encoder.copyBufferToBuffer(this.buffers[id]!, 0, this.stagingFor(id), 0, this.plan.buffers[id]!.bytes);
    for (const { from, to } of entry.copies) encoder.copyBufferToBuffer(this.buffers[from]!, 0, this.buffers[to]!, 0, this.plan.buffers[to]!.bytes);
    this.device.queue.submit([encoder.finish()]);

    if (reads.length === 0) {
      await this.device.queue.onSubmittedWorkDone();
      return {};
    }
    const values = await Promise.all(reads.map(({ id }) => this.readStaging(id)));
    return Object.fromEntries(reads.map(({ name }, i) => [name, values[i]!]));
  }

  /** Reads params and state back from the GPU (all, or the named ones). */
  getParams(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    const step = this.queue.then(async () => {
      this.checkAlive();
      const wanted = this.persistentBuffers(names);
      const encoder = this.device.createCommandEncoder({ label: 'getParams' });
      for (const b of wanted) encoder.copyBufferToBuffer(this.buffers[b.id]!, 0, this.stagingFor(b.id), 0, b.bytes);
      this.device.queue.submit([encoder.finish()]);
      const values = await Promise.all(wanted.map((b) => this.readStaging(b.id)));
      return Object.fromEntries(wanted.map((b, i) => [b.name, values[i]!]));
    });
    this.queue = step.catch(() => undefined);
    return step;
  }

  /** Overwrites params or state (e.g. loaded weights). Every value is checked before any is written. */
  setParams(values: Readonly<Record<string, Feed>>): void {
    this.checkAlive();
    const writes = Object.entries(values).map(([name, value]) => {
      const [buffer] = this.persistentBuffers([name]);
      return { id: buffer!.id, bytes: feedBytes(`${buffer!.role} '${name}'`, buffer!, value) };
    });
    for (const { id, bytes } of writes) this.device.queue.writeBuffer(this.buffers[id]!, 0, bytes);
  }

  /** Frees every GPU buffer of the session; it cannot run afterwards. The device stays usable. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const buffer of [...this.buffers, ...this.staging.values()]) buffer.destroy();
    this.staging.clear();
  }

  private persistentBuffers(names?: readonly string[]): PlanBuffer[] {
    const persistent = this.plan.buffers.filter((b) => b.role === 'param' || b.role === 'state');
    if (!names) return persistent;
    return names.map((name) => {
      const buffer = persistent.find((b) => b.name === name);
      if (!buffer) {
        throw new GraphError(`Session: no param or state named '${name}'. Known: ${persistent.map((b) => b.name).join(', ') || 'none'}.`);
      }
      return buffer;
    });
  }

  private stagingFor(id: number): GPUBuffer {
    let buffer = this.staging.get(id);
    if (!buffer) {
      const plan = this.plan.buffers[id]!;
      buffer = this.device.createBuffer({ label: `${plan.name} readback`, size: plan.bytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
      this.staging.set(id, buffer);
    }
    return buffer;
  }

  private async readStaging(id: number): Promise<HostTensor> {
    const staging = this.staging.get(id)!;
    const plan = this.plan.buffers[id]!;
    await staging.mapAsync(MAP_MODE_READ);
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    return toHost(plan, copy);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new GraphError('Session: this session was destroyed; create a new one.');
  }
}

function describe(buffer: PlanBuffer): string {
  return `${buffer.dtype}[${buffer.shape.join(',')}]`;
}

function elementCount(buffer: PlanBuffer): number {
  return buffer.shape.reduce((a, b) => a * b, 1);
}

/** Validates a feed against its buffer and converts it to the bytes the buffer holds. */
export function feedBytes(what: string, buffer: PlanBuffer, feed: Feed): ArrayBuffer {
  const expected = describe(buffer);
  let values: ArrayLike<number>;
  if (typeof feed === 'object' && feed !== null && 'data' in feed && 'shape' in feed && 'dtype' in feed) {
    const given = `${feed.dtype}[${feed.shape.join(',')}]`;
    if (given !== expected) throw new FeedError(`${what}: expected ${expected}, got ${given}.`);
    values = feed.data;
  } else if (feed !== null && typeof feed === 'object' && typeof (feed as ArrayLike<number>).length === 'number') {
    values = feed as ArrayLike<number>;
  } else {
    throw new FeedError(`${what}: expected an array of numbers or a typed array for ${expected}, got ${feed === null ? 'null' : typeof feed}.`);
  }
  const count = elementCount(buffer);
  if (values.length !== count) {
    throw new FeedError(`${what}: expected ${count} values for ${expected}, got ${values.length}. Feed a flat array in row-major order.`);
  }
  const bytes = new ArrayBuffer(Math.max(4, count * 4));
  if (buffer.dtype === 'f32') {
    new Float32Array(bytes).set(values);
  } else {
    const target = buffer.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
    for (let i = 0; i < count; i++) {
      const v = values[i]!;
      const ok = buffer.dtype === 'i32' ? Number.isInteger(v) : v === 0 || v === 1;
      if (!ok) {
        throw new FeedError(`${what}: ${buffer.dtype} values must be ${buffer.dtype === 'i32' ? 'integers' : '0 or 1'}; element ${i} is ${v}.`);
      }
      target[i] = v;
    }
  }
  return bytes;
}

function constantBytes(buffer: PlanBuffer): ArrayBuffer {
  const data = buffer.data!;
  const count = elementCount(buffer);
  const values = data.length === 1 ? new Array<number>(count).fill(data[0]!) : data;
  return feedBytes(`const ${buffer.name}`, buffer, values);
}

function toHost(buffer: PlanBuffer, bytes: ArrayBuffer): HostTensor {
  const count = elementCount(buffer);
  const shape = [...buffer.shape];
  if (buffer.dtype === 'f32') return { shape, dtype: 'f32', data: new Float32Array(bytes, 0, count) };
  if (buffer.dtype === 'i32') return { shape, dtype: 'i32', data: new Int32Array(bytes, 0, count) };
  return { shape, dtype: 'bool', data: Uint8Array.from(new Uint32Array(bytes, 0, count)) };
}

/** Compiles every distinct WGSL once, in parallel; reports compile errors with the kernel, its ops and the WGSL line. */
async function createPipelines(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<GPUComputePipeline[]> {
  const byWgsl = new Map<string, Promise<GPUComputePipeline>>();
  const pipelineFor = (kernel: PlanKernel): Promise<GPUComputePipeline> => {
    let pipeline = byWgsl.get(kernel.wgsl);
    if (!pipeline) {
      pipeline = compileKernel(device, kernel);
      byWgsl.set(kernel.wgsl, pipeline);
    }
    return pipeline;
  };
  return Promise.all(kernels.map(pipelineFor));
}

async function compileKernel(device: GPUDevice, kernel: PlanKernel): Promise<GPUComputePipeline> {
  const where = `kernel ${kernel.name} (${kernel.ops.map((op, i) => `${op} %${kernel.nodes[i]}`).join(', ')})`;
  const module = device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = kernel.wgsl.split('\n');
    const detail = errors.map((m) => `line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n  ');
    throw new KernelError(`${where}: WGSL does not compile:\n  ${detail}`);
  }
  try {
    return await device.createComputePipelineAsync({ label: kernel.name, layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (error) {
    throw new KernelError(`${where}: pipeline creation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
