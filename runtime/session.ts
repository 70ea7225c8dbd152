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

import { ArgumentError, DeviceError, FeedError, SessionError } from '../compiler/errors.js';
import type { Plan, PlanBuffer } from '../compiler/plan-format.js';
import type { Feed, HostTensor } from './host-tensor.js';
import { describeBuffer, feedBytes, toHost } from './host-tensor.js';
import type { EntryCheck, NumericsCheckOptions } from './numerics.js';
import { checkNumericsOptions, NumericsMonitor } from './numerics.js';
import { createPipelines } from './pipelines.js';
import { DeviceGuard } from './device-guard.js';
import type { DeviceReport, UncapturedErrors } from './device-errors.js';
import { describeReport, rejectedRunError, uncapturedErrorsOf, unlessRejected, withErrorScopes } from './device-errors.js';
import type { EntryRun } from './session-setup.js';
import { allocateMemory, createBindGroups, entryRuns } from './session-setup.js';
import { checkPlanFitsDevice, validatePlan } from '../compiler/plan-check.js';
import { checkKeys } from '../compiler/ops/args.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { Write } from './persistent-writes.js';
import { checkpointWrites, paramWrites, persistentBuffers, quoteList } from './persistent-writes.js';

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

const USAGE_COPY_DST = 0x08;
const USAGE_MAP_READ = 0x01;
const MAP_MODE_READ = 0x01;


/** Run options that name the outputs to read back: the result holds exactly those. */
export type RunOptionsFor<Names extends string> = RunOptions & { outputs: readonly Names[] };

/**
 * `Forward` and `TrainStep` name the outputs of the plan's `forward` and `trainStep`
 * entries (from `compile`), so `forward()` and `trainStep()` resolve to records with
 * exactly those keys, or the ones `outputs` names.
 */
export class Session<Forward extends string = string, TrainStep extends string = string> {
  readonly plan: Plan<Forward, TrainStep>;
  readonly device: GPUDevice;
  /** Resolves when the device is lost (or destroyed); every call after that rejects with a DeviceError. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** The GPUBuffer of each plan buffer, by id: buffers sharing an allocation share one. */
  private readonly buffers: GPUBuffer[];
  /** Each entry's inputs, outputs and dispatches, by entry name. */
  private readonly entryRuns: ReadonlyMap<string, EntryRun>;
  private readonly staging = new Map<number, GPUBuffer>();
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private destroyed = false;
  /** Turns the device's loss, or an error it reports to no scope, into a DeviceError for the waits in flight or the next call. */
  private readonly loss: DeviceGuard;
  private readonly uncaptured: UncapturedErrors;
  /** The runs (`forward`, `forward checked`, ...) that ran once inside error scopes without an error: later ones skip the scopes. */
  private readonly ranClean = new Set<string>();
  private readonly numerics: NumericsMonitor;

  private constructor(plan: Plan<Forward, TrainStep>, device: GPUDevice, buffers: GPUBuffer[], pipelines: GPUComputePipeline[], bindGroups: GPUBindGroup[], numerics: NumericsMonitor) {
    this.plan = plan;
    this.loss = new DeviceGuard(plan.name);
    this.numerics = numerics;
    this.device = device;
    this.lost = device.lost;
    this.buffers = buffers;
    this.entryRuns = entryRuns(plan, pipelines, bindGroups);
    this.uncaptured = uncapturedErrorsOf(device);
    this.uncaptured.add(this.loss);
    // Weakly held: a device outlives many sessions, and its pending `lost` must not keep them alive.
    const self = new WeakRef(this);
    void device.lost.then((info) => self.deref()?.loss.onLost(info));
  }

  /**
   * Creates a session: checks the plan (and that it fits this device's limits), allocates
   * its memory (one GPUBuffer per allocation of a memory-planned plan, else per buffer),
   * uploads constants, compiles every kernel and runs the plan's `init` entry (params and
   * state get their initial values). On failure nothing stays allocated: a PlanError or
   * DeviceLimitError before anything reaches the GPU, a KernelError for a kernel the device
   * does not compile, a DeviceError (naming the kernel) for anything else it rejects.
   */
  static async create<Forward extends string, TrainStep extends string>(device: GPUDevice, plan: Plan<Forward, TrainStep>, options: SessionOptions = {}): Promise<Session<Forward, TrainStep>> {
    if (device === null || typeof device !== 'object' || typeof device.createBuffer !== 'function') {
      throw new ArgumentError(`Session.create: expected a GPUDevice ((await requestDevice()).device), got ${device === null ? 'null' : typeof device}.`);
    }
    checkKeys('Session.create', options, ['checkNumerics']);
    const numericsSchedule = checkNumericsOptions(options.checkNumerics);
    validatePlan(plan);
    checkPlanFitsDevice(plan, device.limits);
    const { buffers, memory } = await allocateMemory(device, plan);
    let session: Session<Forward, TrainStep> | undefined;
    try {
      const numerics = new NumericsMonitor(device, plan, numericsSchedule);
      const pipelines = await createPipelines(device, plan.kernels);
      session = new Session(plan, device, buffers, pipelines, await createBindGroups(device, plan, buffers, pipelines), numerics);
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

  /** Runs the `forward` entry: every output, or those `options.outputs` names. */
  forward<Names extends Forward>(feeds: Readonly<Record<string, Feed>>, options: RunOptionsFor<Names>): Promise<Record<Names, HostTensor>>;
  forward(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<Forward, HostTensor>>;
  forward(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<string, HostTensor>> {
    return this.run('forward', feeds, options);
  }

  /** Runs the `trainStep` entry, one step of forward, backward and updates: every output, or those `options.outputs` names. */
  trainStep<Names extends TrainStep>(feeds: Readonly<Record<string, Feed>>, options: RunOptionsFor<Names>): Promise<Record<Names, HostTensor>>;
  trainStep(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<TrainStep, HostTensor>>;
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
      const { step, writes, reads } = this.prepareStep(entryName, feeds, options);
      const checkedRun = this.numerics.due(entryName, options.checkNumerics);
      return () => this.executeStep(step, writes, reads, checkedRun);
    });
  }

  /** Reads params and state back from the GPU (all, or the named ones). */
  getParams(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.call(() => {
      const wanted = persistentBuffers(this.plan, names);
      return () => this.read(wanted);
    });
  }

  /**
   * Overwrites params or state (e.g. weights from elsewhere). Every value is checked
   * before any is written; the promise resolves once they are queued, after earlier calls.
   */
  setParams(values: Readonly<Record<string, Feed>>): Promise<void> {
    return this.call(() => {
      const writes = paramWrites(this.plan, values);
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
      const writes = checkpointWrites(this.plan, decodeSafetensors(file).tensors, options.strict ?? true);
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
      this.loss.throwIfFailed();
      work = prepare();
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending++;
    const result = this.queue.then(() => {
      this.loss.throwIfFailed();
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
    const step = this.entryRuns.get(entryName);
    if (!step) {
      throw new ArgumentError(`Session '${this.plan.name}': no entry '${entryName}'. This plan has: ${this.entryNames.join(', ')}.`);
    }
    const { entry } = step;
    const what = `Session.${entryName}`;
    const outputNames = options.outputs ?? step.outputNames;
    const unknownOutputs = outputNames.filter((name) => !Object.hasOwn(entry.outputs, name));
    if (unknownOutputs.length > 0) {
      throw new ArgumentError(`${what}: no output ${quoteList(unknownOutputs)}. Outputs: ${step.outputNames.join(', ') || 'none'}.`);
    }
    if (feeds === null || typeof feeds !== 'object') throw new FeedError(`${what}: feeds must be an object {inputName: values}, got ${feeds === null ? 'null' : typeof feeds}.`);
    const unknownFeeds = Object.keys(feeds).filter((name) => !Object.hasOwn(entry.inputs, name));
    if (unknownFeeds.length > 0) {
      throw new FeedError(`${what}: ${quoteList(unknownFeeds)} ${unknownFeeds.length > 1 ? 'are not inputs' : 'is not an input'} of this entry. Inputs: ${step.inputs.map(({ name }) => name).join(', ') || 'none'}.`);
    }
    const writes: Write[] = step.inputs.map(({ name, id, buffer }) => {
      // Own keys only: an input named `constructor` or `toString` is not fed by Object.prototype's.
      const feed = Object.hasOwn(feeds, name) ? feeds[name] : undefined;
      if (feed === undefined) throw new FeedError(`${what}: input '${name}' (${describeBuffer(buffer)}) was not fed.`);
      return { id, bytes: feedBytes(`${what}: input '${name}'`, buffer, feed, options.checkFeeds === true) };
    });
    return { step, writes, reads: outputNames.map((name) => ({ name, id: entry.outputs[name]! })) };
  }

  private async executeStep(step: EntryRun, writes: readonly Write[], reads: readonly { name: string; id: number }[], checkedRun?: number) {
    const { name: label, entry } = step;
    // A checked run interleaves checks with the kernels (runtime/numerics.ts); others encode none.
    const check = checkedRun === undefined ? undefined : await this.loss.untilDone(this.numerics.instrument(label, entry, this.buffers));
    // Outputs that view one buffer (an input and its reshape, say) share one copy and one read.
    const readIds = [...new Set(reads.map(({ id }) => id))];
    const run = check ? `${label} checked` : label;
    const explain = (report: DeviceReport) => this.runError(step, report);
    const [bytes, nonFinite] = await this.loss.untilDone(() => {
      // A run's first time, or one that makes a readback buffer, is scoped; a later one rests on the uncaptured-error listener.
      const submitted = this.submit(!this.ranClean.has(run) || readIds.some((id) => !this.staging.has(id)), () => this.encodeStep(step, writes, readIds, check));
      // One wait for the outputs and, in a checked run, its flags (or for the work alone when neither is read).
      const readBack = Promise.all(readIds.map((id) => this.readStaging(id)));
      const flags = check ? check.read(checkedRun!) : readIds.length === 0 ? this.device.queue.onSubmittedWorkDone().then(() => undefined) : undefined;
      return unlessRejected(submitted, Promise.all([readBack, flags]), explain);
    }, explain);
    this.ranClean.add(run);
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

  /** Writes the feeds and encodes and submits the step: one compute pass, the output copies, the updates. */
  private encodeStep({ name: label, entry, dispatches }: EntryRun, writes: readonly Write[], readIds: readonly number[], check: EntryCheck | undefined): void {
    this.write(writes);
    const encoder = this.device.createCommandEncoder({ label });
    check?.begin(encoder);
    if (dispatches.length > 0) {
      const pass = encoder.beginComputePass({ label });
      check?.check(pass, -1);
      dispatches.forEach(({ kernel, pipeline, bindGroup }, position) => {
        const [x, y, z] = kernel.workgroups;
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(x, y, z);
        check?.check(pass, position);
      });
      pass.end();
    }
    check?.end(encoder);
    // Outputs are copied out before updates land, so they show this step's values.
    for (const id of readIds) encoder.copyBufferToBuffer(this.buffers[id]!, 0, this.stagingFor(id), 0, this.plan.buffers[id]!.bytes);
    for (const { from, to } of entry.copies) encoder.copyBufferToBuffer(this.buffers[from]!, 0, this.buffers[to]!, 0, this.plan.buffers[to]!.bytes);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Runs `encode` (which submits once), inside error scopes when `scoped`, and resolves with what they caught. */
  private submit(scoped: boolean, encode: () => void): Promise<DeviceReport | undefined> {
    this.uncaptured.submitting(this.loss);
    if (scoped) return withErrorScopes(this.device, encode).report;
    encode();
    return Promise.resolve(undefined);
  }

  /** The DeviceError of a run the device rejected, naming the first of its kernels that the device rejects alone. */
  private runError(step: EntryRun, report: DeviceReport): Promise<DeviceError> {
    return rejectedRunError(this.device, `Session '${this.plan.name}' ${step.name}`, [...new Set(step.dispatches)], report);
  }

  private async read(wanted: readonly PlanBuffer[]): Promise<Record<string, HostTensor>> {
    const explain = (report: DeviceReport) => new DeviceError(`Session '${this.plan.name}': the GPU device rejected reading params and state back with ${describeReport(report)}: ${report.message.trim()}`);
    const bytes = await this.loss.untilDone(() => {
      const submitted = this.submit(wanted.some((b) => !this.staging.has(b.id)), () => {
        const encoder = this.device.createCommandEncoder({ label: 'read params' });
        for (const b of wanted) encoder.copyBufferToBuffer(this.buffers[b.id]!, 0, this.stagingFor(b.id), 0, b.bytes);
        this.device.queue.submit([encoder.finish()]);
      });
      return unlessRejected(submitted, Promise.all(wanted.map((b) => this.readStaging(b.id))), explain);
    }, explain);
    return Object.fromEntries(wanted.map((b, i) => [b.name, toHost(b, bytes[i]!)]));
  }

  private write(writes: readonly Write[]): void {
    for (const { id, bytes } of writes) this.device.queue.writeBuffer(this.buffers[id]!, 0, bytes);
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
