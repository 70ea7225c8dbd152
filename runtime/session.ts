/**
 * The runtime: a Session runs a compiled plan on a GPUDevice. Pipelines are created once
 * (in parallel, asynchronously, deduplicated by WGSL), every buffer is allocated once and
 * every bind group built once. A step writes the fed inputs, encodes every dispatch in one
 * compute pass, applies parameter updates by buffer copies, submits once, and reads back
 * only the outputs asked for. Parameters and optimizer state stay on the GPU unless read
 * (`getParams`, `saveCheckpoint`).
 *
 * Every call is checked when it is made (a bad feed, name or checkpoint rejects before
 * anything reaches the GPU, and the session stays usable), its data is copied then (the
 * caller may reuse its arrays at once), and calls run on the GPU in call order.
 */

import { ArgumentError, CheckpointError, DeviceLimitError, FeedError, SessionError } from '../compiler/errors.js';
import type { Plan, PlanBuffer, PlanEntry } from '../compiler/plan-format.js';
import type { Feed, HostTensor } from './host-tensor.js';
import { constantBytes, describeBuffer, feedBytes, toHost } from './host-tensor.js';
import type { NumericsCheckOptions } from './numerics.js';
import { checkNumericsOptions, NumericsMonitor } from './numerics.js';
import { createPipelines } from './pipelines.js';
import { DeviceLossGuard } from './device-loss.js';
import { checkPlanFitsDevice, validatePlan } from '../compiler/plan-check.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export type { Feed, HostTensor } from './host-tensor.js';

export interface RunOptions {
  /** Names of the entry's outputs to read back; default all. `[]` reads nothing back. */
  outputs?: readonly string[];
  /**
   * Also check the feeds' values (default false: it reads every value on the host): NaN
   * and ±Infinity in f32 feeds, and values outside an input's declared range (class labels
   * of softmax cross-entropy, embedding ids), which the graph would ignore without an
   * error, are rejected with a FeedError before anything reaches the GPU.
   */
  checkFeeds?: boolean;
  /** Check this run for NaN and ±Infinity (true), or skip the check the session's schedule asks for (false). */
  checkNumerics?: boolean;
}

export interface SessionOptions {
  /**
   * Check the first run and every `every`-th after it for NaN and ±Infinity on the GPU: a
   * checked run that finds one rejects with a NumericsError naming the first kernel (in
   * dispatch order), its graph nodes and the buffer. Unchecked runs cost nothing extra.
   */
  checkNumerics?: NumericsCheckOptions;
}

export interface LoadCheckpointOptions {
  /**
   * `true` (default): the checkpoint must hold exactly the plan's params and state.
   * `false`: load the tensors both have and ignore the rest (e.g. a training checkpoint,
   * with optimizer state, into a forward-only plan). Dtypes and shapes must match either way.
   */
  strict?: boolean;
}

const USAGE_STORAGE = 0x80;
const USAGE_COPY_SRC = 0x04;
const USAGE_COPY_DST = 0x08;
const USAGE_MAP_READ = 0x01;
const MAP_MODE_READ = 0x01;

interface Write {
  readonly id: number;
  readonly bytes: ArrayBuffer;
}

export class Session {
  readonly plan: Plan;
  readonly device: GPUDevice;
  /** Resolves when the device is lost (or destroyed); every call after that rejects with a DeviceError. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** The GPUBuffer of each plan buffer, by id: buffers sharing an allocation share one. */
  private readonly buffers: GPUBuffer[];
  private readonly pipelines: GPUComputePipeline[];
  private readonly bindGroups: GPUBindGroup[];
  private readonly staging = new Map<number, GPUBuffer>();
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private destroyed = false;
  /** Turns the device's loss into a DeviceError for every wait in flight and every later call. */
  private readonly loss: DeviceLossGuard;
  private readonly numerics: NumericsMonitor;

  private constructor(plan: Plan, device: GPUDevice, buffers: GPUBuffer[], pipelines: GPUComputePipeline[], numerics: NumericsMonitor) {
    this.plan = plan;
    this.loss = new DeviceLossGuard(plan.name);
    this.numerics = numerics;
    this.device = device;
    this.lost = device.lost;
    this.buffers = buffers;
    this.pipelines = pipelines;
    this.bindGroups = plan.kernels.map((kernel, k) =>
      device.createBindGroup({
        label: kernel.name,
        layout: pipelines[k]!.getBindGroupLayout(0),
        // A buffer binds its own bytes of its allocation, which may be larger (shared memory).
        entries: kernel.bindings.map(({ buffer }, binding) => ({ binding, resource: { buffer: buffers[buffer]!, size: plan.buffers[buffer]!.bytes } })),
      }),
    );
    // Weakly held: a device outlives many sessions, and its pending `lost` must not keep them alive.
    const self = new WeakRef(this);
    void device.lost.then((info) => self.deref()?.loss.onLost(info));
  }

  /**
   * Creates a session: checks the plan (and that it fits this device's limits), allocates
   * its memory (one GPUBuffer per allocation of a memory-planned plan, else per buffer),
   * uploads constants, compiles every kernel and runs the plan's `init` entry (params and
   * state get their initial values). On failure nothing stays allocated.
   */
  static async create(device: GPUDevice, plan: Plan, options: SessionOptions = {}): Promise<Session> {
    if (device === null || typeof device !== 'object' || typeof device.createBuffer !== 'function') {
      throw new ArgumentError(`Session.create: expected a GPUDevice ((await requestDevice()).device), got ${device === null ? 'null' : typeof device}.`);
    }
    if (options === null || typeof options !== 'object' || Object.keys(options).some((key) => key !== 'checkNumerics')) {
      throw new ArgumentError('Session.create: options must be an object {checkNumerics?}; checkNumerics is the only option.');
    }
    const numericsSchedule = checkNumericsOptions(options.checkNumerics);
    validatePlan(plan);
    checkPlanFitsDevice(plan, device.limits);
    const constants = plan.buffers.filter((b) => b.data).map((b) => ({ id: b.id, bytes: constantBytes(b) }));
    const blocks = memoryBlocks(plan);
    device.pushErrorScope('out-of-memory');
    const memory = blocks.map(({ label, bytes }) => device.createBuffer({ label, size: bytes, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST }));
    const outOfMemory = await device.popErrorScope();
    const buffers = plan.buffers.map((b) => memory[plan.allocations ? b.allocation! : b.id]!);
    let session: Session | undefined;
    try {
      if (outOfMemory) {
        const total = blocks.reduce((sum, b) => sum + b.bytes, 0);
        throw new DeviceLimitError(`Session '${plan.name}': could not allocate the plan's ${total} bytes of buffers (${outOfMemory.message}). Use a smaller batch or model.`);
      }
      for (const { id, bytes } of constants) device.queue.writeBuffer(buffers[id]!, 0, bytes);
      const numerics = new NumericsMonitor(device, plan, numericsSchedule);
      session = new Session(plan, device, buffers, await createPipelines(device, plan.kernels), numerics);
      await session.run('init', {}, { outputs: [] });
      return session;
    } catch (error) {
      if (session) session.destroy();
      else for (const buffer of memory) buffer.destroy();
      throw error;
    }
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
   * Runs an entry point: writes the feeds, dispatches its kernels in one compute pass,
   * applies its updates, submits once and reads back the requested outputs (their values
   * before this step's updates). Rejects with a FeedError or ArgumentError, before anything
   * reaches the GPU, if a feed or name is wrong, and with a NumericsError if the run was
   * checked (see SessionOptions.checkNumerics) and produced NaN or ±Infinity.
   */
  run(entryName: string, feeds: Readonly<Record<string, Feed>>, options: RunOptions = {}): Promise<Record<string, HostTensor>> {
    return this.call(() => {
      const { entry, writes, reads } = this.prepareStep(entryName, feeds, options);
      const checkedRun = this.numerics.due(entryName, options.checkNumerics);
      return () => this.executeStep(entryName, entry, writes, reads, checkedRun);
    });
  }

  /** Reads params and state back from the GPU (all, or the named ones). */
  getParams(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.call(() => {
      const wanted = this.persistentBuffers(names);
      return () => this.read(wanted);
    });
  }

  /**
   * Overwrites params or state (e.g. weights from elsewhere). Every value is checked
   * before any is written; the promise resolves once they are queued, after earlier calls.
   */
  setParams(values: Readonly<Record<string, Feed>>): Promise<void> {
    return this.call(() => {
      const writes = this.paramWrites(values);
      return async () => this.write(writes);
    });
  }

  /** Every param and state as a safetensors file, with the plan's name in its metadata. */
  saveCheckpoint(): Promise<Uint8Array> {
    return this.getParams().then((tensors) => encodeSafetensors(tensors, { plan: this.plan.name, producer: 'kiln' }));
  }

  /**
   * Loads a safetensors checkpoint into params and state. Every tensor must match a param
   * or state by name, dtype and shape, and (unless `strict: false`) every param and state
   * must be present; all is checked before anything is written, so a rejected load leaves
   * the session as it was.
   */
  loadCheckpoint(file: Uint8Array, options: LoadCheckpointOptions = {}): Promise<void> {
    return this.call(() => {
      const writes = this.checkpointWrites(decodeSafetensors(file).tensors, options.strict ?? true);
      return async () => this.write(writes);
    });
  }

  /**
   * Frees every GPU buffer of the session once the calls already made have finished;
   * calls after this reject. The device stays usable.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.pending === 0) this.free();
  }

  /**
   * Checks a call now (throwing becomes a rejection) and queues the GPU work it returns
   * behind earlier calls. The work fails fast if the device was lost meanwhile.
   */
  private call<T>(prepare: () => () => Promise<T>): Promise<T> {
    let work: () => Promise<T>;
    try {
      if (this.destroyed) throw new SessionError(`Session '${this.plan.name}' was destroyed; create a new session to run it again.`);
      this.loss.throwIfLost();
      work = prepare();
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending++;
    const result = this.queue.then(() => {
      this.loss.throwIfLost();
      return work();
    });
    this.queue = result
      .catch(() => undefined)
      .then(() => {
        if (--this.pending === 0 && this.destroyed) this.free();
      });
    return result;
  }

  private prepareStep(entryName: string, feeds: Readonly<Record<string, Feed>>, options: RunOptions) {
    const entry = this.plan.entries[entryName];
    if (!entry || !Object.hasOwn(this.plan.entries, entryName)) {
      throw new ArgumentError(`Session '${this.plan.name}': no entry '${entryName}'. This plan has: ${this.entryNames.join(', ')}.`);
    }
    const what = `Session.${entryName}`;
    const outputNames = options.outputs ?? Object.keys(entry.outputs);
    const unknownOutputs = outputNames.filter((name) => !Object.hasOwn(entry.outputs, name));
    if (unknownOutputs.length > 0) {
      throw new ArgumentError(`${what}: no output ${quoteList(unknownOutputs)}. Outputs: ${Object.keys(entry.outputs).join(', ') || 'none'}.`);
    }
    if (feeds === null || typeof feeds !== 'object') throw new FeedError(`${what}: feeds must be an object {inputName: values}, got ${feeds === null ? 'null' : typeof feeds}.`);
    const unknownFeeds = Object.keys(feeds).filter((name) => !Object.hasOwn(entry.inputs, name));
    if (unknownFeeds.length > 0) {
      throw new FeedError(`${what}: ${quoteList(unknownFeeds)} ${unknownFeeds.length > 1 ? 'are not inputs' : 'is not an input'} of this entry. Inputs: ${Object.keys(entry.inputs).join(', ') || 'none'}.`);
    }
    const writes: Write[] = Object.entries(entry.inputs).map(([name, id]) => {
      const buffer = this.plan.buffers[id]!;
      // Own keys only: an input named `constructor` or `toString` is not fed by Object.prototype's.
      const feed = Object.hasOwn(feeds, name) ? feeds[name] : undefined;
      if (feed === undefined) throw new FeedError(`${what}: input '${name}' (${describeBuffer(buffer)}) was not fed.`);
      return { id, bytes: feedBytes(`${what}: input '${name}'`, buffer, feed, options.checkFeeds === true) };
    });
    return { entry, writes, reads: outputNames.map((name) => ({ name, id: entry.outputs[name]! })) };
  }

  private async executeStep(label: string, entry: PlanEntry, writes: readonly Write[], reads: readonly { name: string; id: number }[], checkedRun?: number) {
    // A checked run interleaves checks with the kernels (runtime/numerics.ts); others encode none.
    const check = checkedRun === undefined ? undefined : await this.loss.untilDone(this.numerics.instrument(label, entry, this.buffers));
    this.write(writes);
    const encoder = this.device.createCommandEncoder({ label });
    check?.begin(encoder);
    if (entry.dispatches.length > 0) {
      const pass = encoder.beginComputePass({ label });
      check?.check(pass, -1);
      entry.dispatches.forEach((k, position) => {
        const [x, y, z] = this.plan.kernels[k]!.workgroups;
        pass.setPipeline(this.pipelines[k]!);
        pass.setBindGroup(0, this.bindGroups[k]!);
        pass.dispatchWorkgroups(x, y, z);
        check?.check(pass, position);
      });
      pass.end();
    }
    check?.end(encoder);
    // Outputs are copied out before updates land, so they show this step's values.
    // Outputs that view one buffer (an input and its reshape, say) share one copy and one read.
    const readIds = [...new Set(reads.map(({ id }) => id))];
    for (const id of readIds) encoder.copyBufferToBuffer(this.buffers[id]!, 0, this.stagingFor(id), 0, this.plan.buffers[id]!.bytes);
    for (const { from, to } of entry.copies) encoder.copyBufferToBuffer(this.buffers[from]!, 0, this.buffers[to]!, 0, this.plan.buffers[to]!.bytes);
    this.device.queue.submit([encoder.finish()]);
    // One wait for the outputs and, in a checked run, its flags (or for the work alone when neither is read).
    const readBack = Promise.all(readIds.map((id) => this.readStaging(id)));
    const flags = check ? check.read(checkedRun!) : readIds.length === 0 ? this.device.queue.onSubmittedWorkDone().then(() => undefined) : undefined;
    const [bytes, nonFinite] = await this.loss.untilDone(Promise.all([readBack, flags]));
    if (nonFinite) throw nonFinite;
    if (reads.length === 0) return {};
    const taken = new Set<number>();
    return Object.fromEntries(
      reads.map(({ name, id }) => {
        // Each output gets its own memory: the first takes the read, later views of the same buffer a copy.
        const own = taken.has(id) ? bytes[readIds.indexOf(id)]!.slice(0) : bytes[readIds.indexOf(id)]!;
        taken.add(id);
        return [name, toHost(this.plan.buffers[id]!, own, entry.outputShapes?.[name])];
      }),
    );
  }

  private async read(wanted: readonly PlanBuffer[]): Promise<Record<string, HostTensor>> {
    const encoder = this.device.createCommandEncoder({ label: 'read params' });
    for (const b of wanted) encoder.copyBufferToBuffer(this.buffers[b.id]!, 0, this.stagingFor(b.id), 0, b.bytes);
    this.device.queue.submit([encoder.finish()]);
    const bytes = await this.loss.untilDone(Promise.all(wanted.map((b) => this.readStaging(b.id))));
    return Object.fromEntries(wanted.map((b, i) => [b.name, toHost(b, bytes[i]!)]));
  }

  private write(writes: readonly Write[]): void {
    for (const { id, bytes } of writes) this.device.queue.writeBuffer(this.buffers[id]!, 0, bytes);
  }

  private paramWrites(values: Readonly<Record<string, Feed>>): Write[] {
    if (values === null || typeof values !== 'object') throw new FeedError(`Session.setParams: expected an object {name: values}, got ${values === null ? 'null' : typeof values}.`);
    const buffers = this.persistentBuffers(Object.keys(values));
    return buffers.map((b) => ({ id: b.id, bytes: feedBytes(`Session.setParams: ${b.role} '${b.name}'`, b, values[b.name]!) }));
  }

  private checkpointWrites(tensors: Readonly<Record<string, HostTensor>>, strict: boolean): Write[] {
    const persistent = new Map(this.persistentBuffers().map((b) => [b.name, b]));
    const names = Object.keys(tensors);
    const unknown = names.filter((name) => !persistent.has(name));
    const missing = [...persistent.keys()].filter((name) => !Object.hasOwn(tensors, name));
    const where = `Session.loadCheckpoint: the checkpoint does not fit plan '${this.plan.name}'`;
    if (strict && unknown.length + missing.length > 0) {
      const problems = [
        ...(unknown.length > 0 ? [`it has ${quoteList(unknown)}, which the plan has no param or state for`] : []),
        ...(missing.length > 0 ? [`it lacks ${quoteList(missing)}`] : []),
      ];
      throw new CheckpointError(`${where}: ${problems.join('; ')}. Pass {strict: false} to load only the tensors both have.`);
    }
    const shared = names.filter((name) => persistent.has(name));
    const mismatched = shared.filter((name) => describeBuffer(tensors[name]!) !== describeBuffer(persistent.get(name)!));
    if (mismatched.length > 0) {
      const detail = mismatched.map((name) => `'${name}' is ${describeBuffer(persistent.get(name)!)} in the plan, ${describeBuffer(tensors[name]!)} in the checkpoint`);
      throw new CheckpointError(`${where}: ${detail.join('; ')}.`);
    }
    return shared.map((name) => {
      const buffer = persistent.get(name)!;
      return { id: buffer.id, bytes: feedBytes(`Session.loadCheckpoint: ${buffer.role} '${name}'`, buffer, tensors[name]!) };
    });
  }

  private persistentBuffers(names?: readonly string[]): PlanBuffer[] {
    const persistent = this.plan.buffers.filter((b) => b.role === 'param' || b.role === 'state');
    if (!names) return persistent;
    const unknown = names.filter((name) => !persistent.some((b) => b.name === name));
    if (unknown.length > 0) {
      throw new ArgumentError(`Session '${this.plan.name}': no param or state named ${quoteList(unknown)}. Known: ${persistent.map((b) => b.name).join(', ') || 'none'}.`);
    }
    return [...new Set(names)].map((name) => persistent.find((b) => b.name === name)!);
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

  /** The bytes copied to buffer `id`'s staging buffer by the last submit. */
  private async readStaging(id: number): Promise<ArrayBuffer> {
    const staging = this.staging.get(id)!;
    await staging.mapAsync(MAP_MODE_READ);
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    return copy;
  }

  private free(): void {
    // Buffers that share an allocation share one GPUBuffer: destroy each once.
    for (const buffer of new Set([...this.buffers, ...this.staging.values()])) buffer.destroy();
    this.staging.clear();
    this.numerics.destroy();
  }
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

function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
