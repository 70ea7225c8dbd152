/**
 * The runtime: a Session runs a compiled plan on a GPUDevice. Pipelines are created once
 * per device (asynchronously, in the order the first steps need them, kernels identical up
 * to their comments sharing one), every buffer is allocated once and every bind group
 * built once. A step writes the fed inputs, encodes every dispatch in one
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
import type { RunDims } from './run-dims.js';
import { bindRunDims, bufferAt, bytesAt, checkRunFits, dimsKey, shapeAt, workgroupsAt } from './run-dims.js';
import { SessionMemory } from './session-memory.js';
import type { LoadCheckpointOptions, RunOptions, RunOptionsFor, SessionOptions } from './session-options.js';
import { checkOnProgress, sessionMaxDims } from './session-options.js';
import type { EntryCheck } from './numerics.js';
import { checkNumericsOptions, NumericsMonitor } from './numerics.js';
import { bindGroupLayouts } from './pipelines.js';
import { SessionPipelines } from './session-pipelines.js';
import { DeviceGuard } from './device-guard.js';
import type { DeviceReport, KernelDispatch, UncapturedErrors } from './device-errors.js';
import { describeReport, encodeDispatch, rejectedRunError, uncapturedErrorsOf, unlessRejected, withErrorScopes } from './device-errors.js';
import type { EntryRun } from './session-setup.js';
import { createBindGroups, entryRuns, KernelDispatches } from './session-setup.js';
import { checkPlanFitsDevice, validatePlan } from '../compiler/plan-check.js';
import { checkKeys } from '../compiler/ops/args.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { Write } from './persistent-writes.js';
import { checkpointWrites, paramWrites, persistentBuffers, quoteList } from './persistent-writes.js';

export type { Feed, HostTensor } from './host-tensor.js';
export type { LoadCheckpointOptions, RunOptions, RunOptionsFor, SessionOptions } from './session-options.js';
export type { PipelineProgress } from './session-pipelines.js';

const USAGE_COPY_DST = 0x08;
const USAGE_MAP_READ = 0x01;
const MAP_MODE_READ = 0x01;

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
  /**
   * Resolves once every pipeline of the plan is made (Session.create waits only for
   * `init`'s); rejects with the KernelError of the first kernel the device does not
   * compile, which also fails every run of an entry that dispatches it.
   */
  readonly ready: Promise<void>;
  /** The session's memory: the GPUBuffer of each plan buffer (buffers sharing an allocation share one), grown for larger runs. */
  private readonly memory: SessionMemory;
  /** Each kernel's dispatch, made once its pipeline is; each entry's inputs and outputs, by entry name. */
  private readonly dispatches: KernelDispatches;
  private readonly entryRuns: ReadonlyMap<string, EntryRun>;
  /** Largest size of each dim (the plan's and the session's maxDims, the smaller of the two). */
  private readonly maxDims: RunDims;
  /**
   * Workgroup counts of each entry's dispatches, by entry and dims: its keys are the runs
   * already checked to fit the device and sized in memory (memory only grows, so they stay so).
   */
  private readonly workgroups = new Map<string, (readonly [number, number, number])[]>();
  /** Counts the times memory grew, so per-size caches (numerics checks) know their bind groups are stale. */
  private generation = 0;
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

  private constructor(plan: Plan<Forward, TrainStep>, device: GPUDevice, memory: SessionMemory, dispatches: KernelDispatches, ready: Promise<void>, numerics: NumericsMonitor, maxDims: RunDims) {
    this.plan = plan;
    this.loss = new DeviceGuard(plan.name);
    this.numerics = numerics;
    this.device = device;
    this.lost = device.lost;
    this.memory = memory;
    this.ready = ready;
    this.maxDims = maxDims;
    this.dispatches = dispatches;
    this.entryRuns = entryRuns(plan);
    this.uncaptured = uncapturedErrorsOf(device);
    this.uncaptured.add(this.loss);
    // Weakly held: a device outlives many sessions, and its pending `lost` must not keep them alive.
    const self = new WeakRef(this);
    void device.lost.then((info) => self.deref()?.loss.onLost(info));
  }

  /**
   * Creates a session: checks the plan (and that it fits this device's limits), starts
   * compiling its kernels (`init`'s first, then `trainStep`'s and `forward`'s in dispatch
   * order), allocates its memory (one GPUBuffer per allocation of a memory-planned plan,
   * else per buffer), uploads constants and runs the plan's `init` entry (params and state
   * get their initial values); it resolves then, the other pipelines still compiling
   * (`ready`, `options.onProgress`): a run waits for its own entry's only. On failure
   * nothing stays allocated: a PlanError or DeviceLimitError before anything reaches the
   * GPU, a KernelError for an `init` kernel the device does not compile (another entry's
   * fails that entry's runs, and `ready`), a DeviceError (naming the kernel) for anything
   * else it rejects.
   */
  static async create<Forward extends string, TrainStep extends string>(device: GPUDevice, plan: Plan<Forward, TrainStep>, options: SessionOptions = {}): Promise<Session<Forward, TrainStep>> {
    if (device === null || typeof device !== 'object' || typeof device.createBuffer !== 'function') {
      throw new ArgumentError(`Session.create: expected a GPUDevice ((await requestDevice()).device), got ${device === null ? 'null' : typeof device}.`);
    }
    checkKeys('Session.create', options, ['checkNumerics', 'maxDims', 'onProgress']);
    const numericsSchedule = checkNumericsOptions(options.checkNumerics);
    const onProgress = checkOnProgress(options.onProgress);
    validatePlan(plan);
    checkPlanFitsDevice(plan, device.limits);
    const maxDims = sessionMaxDims(plan, options.maxDims);
    // Compiling starts first: it takes longest, and a failure later leaves only cached pipelines behind.
    const pipelines = new SessionPipelines(device, plan, onProgress);
    const memory = await SessionMemory.create(device, plan, options.maxDims ?? {});
    let session: Session<Forward, TrainStep> | undefined;
    try {
      const numerics = new NumericsMonitor(device, plan, numericsSchedule);
      const layouts = await bindGroupLayouts(device, plan.kernels);
      const bindGroups = await createBindGroups(device, plan, memory.buffers, layouts);
      const dispatches = new KernelDispatches(device, plan, pipelines, layouts, bindGroups, memory.dimsBindGroup);
      session = new Session(plan, device, memory, dispatches, pipelines.ready, numerics, maxDims);
      await session.run('init', {}, { outputs: [] });
      return session;
    } catch (error) {
      if (session) session.destroy();
      else for (const buffer of memory.all()) buffer.destroy();
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
      const { step, writes, reads, dims } = this.prepareStep(entryName, feeds, options);
      const checkedRun = this.numerics.due(entryName, options.checkNumerics);
      return () => this.executeStep(step, dims, writes, reads, checkedRun);
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
    // Own keys only: an input named `constructor` or `toString` is not fed by Object.prototype's.
    const unfed = step.inputs.find(({ name }) => (Object.hasOwn(feeds, name) ? feeds[name] : undefined) === undefined);
    if (unfed) throw new FeedError(`${what}: input '${unfed.name}' (${describeBuffer(unfed.buffer)}) was not fed.`);
    const dims = step.dims.length === 0 && options.dims === undefined ? {} : bindRunDims(what, this.plan, step.inputs, feeds, options.dims, step.dims, this.maxDims);
    if (!this.workgroups.has(`${entryName} ${dimsKey(dims)}`)) checkRunFits(what, this.plan, entry, dims, this.device.limits);
    const writes: Write[] = step.inputs.map(({ name, id, buffer }) => ({ id, bytes: feedBytes(`${what}: input '${name}'`, bufferAt(buffer, dims), feeds[name]!, options.checkFeeds === true) }));
    return { step, writes, dims, reads: outputNames.map((name) => ({ name, id: entry.outputs[name]! })) };
  }

  /** Grows memory the run's dims need (rebuilding the bind groups of the kernels that bind it) and sets its dispatches' workgroup counts. */
  private async sizeFor(step: EntryRun, dispatches: readonly KernelDispatch[], dims: RunDims): Promise<void> {
    if (step.dims.length === 0) return;
    const key = `${step.name} ${dimsKey(dims)}`;
    const sized = this.workgroups.get(key);
    if (sized) {
      dispatches.forEach((dispatch, i) => (dispatch.workgroups = sized[i]!));
      return;
    }
    const moved = await this.memory.grow(`Session '${this.plan.name}' ${step.name}`, step.buffers, dims);
    if (moved.size > 0) {
      this.generation++;
      await this.dispatches.rebind(this.memory.buffers, moved);
    }
    const counts = dispatches.map(({ kernel }) => workgroupsAt(kernel, dims, this.device.limits.maxComputeWorkgroupsPerDimension));
    if (this.workgroups.size >= 64) this.workgroups.clear();
    this.workgroups.set(key, counts);
    dispatches.forEach((dispatch, i) => (dispatch.workgroups = counts[i]!));
  }

  private async executeStep(step: EntryRun, dims: RunDims, writes: readonly Write[], reads: readonly { name: string; id: number }[], checkedRun?: number) {
    const { name: label, entry } = step;
    // This entry's pipelines only: one still compiling for another entry never delays it (and once made, a step waits for none).
    const dispatches = this.dispatches.made(label) ?? (await this.loss.untilDone(() => this.dispatches.of(label)));
    await this.sizeFor(step, dispatches, dims);
    // A checked run interleaves checks with the kernels (runtime/numerics.ts); others encode none.
    const check = checkedRun === undefined ? undefined : await this.loss.untilDone(this.numerics.instrument(label, entry, this.memory.buffers, dims, this.generation));
    // Outputs that view one buffer (an input and its reshape, say) share one copy and one read.
    const readIds = [...new Set(reads.map(({ id }) => id))];
    const run = check ? `${label} checked` : label;
    const explain = (report: DeviceReport) => this.runError(step, dispatches, report);
    const [bytes, nonFinite] = await this.loss.untilDone(() => {
      // A run's first time, or one that makes a readback buffer, is scoped; a later one rests on the uncaptured-error listener.
      const sizes = readIds.map((id) => bytesAt(this.plan.buffers[id]!, dims));
      const fresh = !this.ranClean.has(run) || readIds.some((id, i) => (this.staging.get(id)?.size ?? 0) < sizes[i]!);
      const submitted = this.submit(fresh, () => this.encodeStep(step, dispatches, dims, writes, readIds, sizes, check));
      // One wait for the outputs and, in a checked run, its flags (or for the work alone when neither is read).
      const readBack = Promise.all(readIds.map((id, i) => this.readStaging(id, sizes[i]!)));
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
        const view = entry.outputShapes?.[name];
        return [name, toHost(bufferAt(this.plan.buffers[id]!, dims), own, view && shapeAt(view, dims))];
      }),
    );
  }

  /** Writes the feeds and encodes and submits the step: one compute pass, the output copies, the updates. */
  private encodeStep({ name: label, entry }: EntryRun, dispatches: readonly KernelDispatch[], dims: RunDims, writes: readonly Write[], readIds: readonly number[], sizes: readonly number[], check: EntryCheck | undefined): void {
    this.memory.writeDims(dims);
    this.write(writes);
    const encoder = this.device.createCommandEncoder({ label });
    check?.begin(encoder);
    if (dispatches.length > 0) {
      const pass = encoder.beginComputePass({ label });
      check?.check(pass, -1);
      dispatches.forEach((dispatch, position) => {
        encodeDispatch(pass, dispatch);
        check?.check(pass, position);
      });
      pass.end();
    }
    check?.end(encoder);
    // Outputs are copied out before updates land, so they show this step's values.
    const buffers = this.memory.buffers;
    readIds.forEach((id, i) => encoder.copyBufferToBuffer(buffers[id]!, 0, this.stagingFor(id, sizes[i]!), 0, sizes[i]!));
    for (const { from, to } of entry.copies) encoder.copyBufferToBuffer(buffers[from]!, 0, buffers[to]!, 0, bytesAt(this.plan.buffers[to]!, {}));
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
  private runError(step: EntryRun, dispatches: readonly KernelDispatch[], report: DeviceReport): Promise<DeviceError> {
    return rejectedRunError(this.device, `Session '${this.plan.name}' ${step.name}`, [...new Set(dispatches)], report);
  }

  private async read(wanted: readonly PlanBuffer[]): Promise<Record<string, HostTensor>> {
    const explain = (report: DeviceReport) => new DeviceError(`Session '${this.plan.name}': the GPU device rejected reading params and state back with ${describeReport(report)}: ${report.message.trim()}`);
    const bytes = await this.loss.untilDone(() => {
      // Params and state are static: their sizes need no dims.
      const sized = wanted.map((b) => bufferAt(b));
      const submitted = this.submit(wanted.some((b) => !this.staging.has(b.id)), () => {
        const encoder = this.device.createCommandEncoder({ label: 'read params' });
        for (const b of sized) encoder.copyBufferToBuffer(this.memory.buffers[b.id]!, 0, this.stagingFor(b.id, b.bytes), 0, b.bytes);
        this.device.queue.submit([encoder.finish()]);
      });
      return unlessRejected(submitted, Promise.all(sized.map((b) => this.readStaging(b.id, b.bytes))), explain);
    }, explain);
    return Object.fromEntries(wanted.map((b, i) => [b.name, toHost(bufferAt(b), bytes[i]!)]));
  }

  private write(writes: readonly Write[]): void {
    for (const { id, bytes } of writes) this.device.queue.writeBuffer(this.memory.buffers[id]!, 0, bytes);
  }

  /** Buffer `id`'s staging buffer, at least `bytes` long (replaced by a larger one for a larger run). */
  private stagingFor(id: number, bytes: number): GPUBuffer {
    let buffer = this.staging.get(id);
    if (!buffer || buffer.size < bytes) {
      buffer?.destroy();
      buffer = this.device.createBuffer({ label: `${this.plan.buffers[id]!.name} readback`, size: bytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
      this.staging.set(id, buffer);
    }
    return buffer;
  }

  /** The first `bytes` copied to buffer `id`'s staging buffer by the last submit (a run's bytes, not the buffer's). */
  private async readStaging(id: number, bytes: number): Promise<ArrayBuffer> {
    const staging = this.staging.get(id)!;
    await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    return copy;
  }

  private free(): void {
    // Buffers that share an allocation share one GPUBuffer: destroy each once.
    for (const buffer of new Set([...this.memory.all(), ...this.staging.values()])) buffer.destroy();
    this.staging.clear();
    this.numerics.destroy();
  }
}
