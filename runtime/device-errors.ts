/**
 * Device errors reach the caller. WebGPU reports a call it rejects (validation, out of
 * memory, internal) asynchronously, to the innermost error scope open when the call was
 * made, or else as the device's `uncapturederror` event; the rejected work simply does not
 * happen, so a readback returns whatever its buffer held (zeros). A session therefore opens
 * scopes around what it creates and around the first run of each entry, and every session
 * on a device hears the device's uncaptured errors (runtime/device-guard.ts fails its calls).
 */

import { DeviceError } from '../compiler/errors.js';
import type { PlanKernel } from '../compiler/plan-format.js';

/** An error the device reported: the kind of scope that caught it, and Dawn's (or the browser's) message. */
export interface DeviceReport {
  readonly kind: 'validation' | 'out-of-memory' | 'internal';
  readonly message: string;
}

const SCOPES = ['validation', 'out-of-memory', 'internal'] as const;

/**
 * Runs `work` inside validation, out-of-memory and internal error scopes and returns its
 * result with the first error they caught. `work` must be synchronous: a device has one
 * stack of scopes, so nothing else may push or pop while these are open.
 */
export function withErrorScopes<T>(device: GPUDevice, work: () => T): { result: T; report: Promise<DeviceReport | undefined> } {
  for (const kind of SCOPES) device.pushErrorScope(kind);
  try {
    const result = work();
    return { result, report: popErrorScopes(device) };
  } catch (error) {
    void popErrorScopes(device).catch(() => undefined);
    throw error;
  }
}

/** Pops the scopes (innermost first) and picks the cause: running out of memory or an internal error leaves invalid objects, whose later use is also a validation error. */
function popErrorScopes(device: GPUDevice): Promise<DeviceReport | undefined> {
  const popped = [...SCOPES].reverse().map((kind) => device.popErrorScope().then((error): DeviceReport | undefined => (error ? { kind, message: error.message } : undefined)));
  return Promise.all(popped).then(([internal, outOfMemory, validation]) => outOfMemory ?? internal ?? validation);
}

/** `a validation error`, `out of memory`, `an internal error`: a report's kind in a sentence. */
export function describeReport(report: DeviceReport): string {
  return report.kind === 'out-of-memory' ? 'out of memory' : `${report.kind === 'internal' ? 'an' : 'a'} ${report.kind} error`;
}

/** `kernel k5_matmul (matmul %5)`: how errors name a kernel. */
export function describeKernel(kernel: PlanKernel): string {
  return `kernel ${kernel.name} (${kernel.ops.map((op, i) => `${op} %${kernel.nodes[i]}`).join(', ')})`;
}

/**
 * A kernel's dispatch as a session encodes it. The bind group is replaced when memory it
 * binds grows, and the workgroup counts are those of the current run's dims.
 */
export interface KernelDispatch {
  readonly kernel: PlanKernel;
  readonly pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** The size block's bind group (group 1), for a kernel that reads it. */
  readonly dimsBindGroup?: GPUBindGroup;
  workgroups: readonly [number, number, number];
}

/** Encodes one dispatch into a compute pass. */
export function encodeDispatch(pass: GPUComputePassEncoder, { pipeline, bindGroup, dimsBindGroup, workgroups }: KernelDispatch): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  if (dimsBindGroup) pass.setBindGroup(1, dimsBindGroup);
  pass.dispatchWorkgroups(...workgroups);
}

/**
 * The first of a failed step's kernels that the device rejects when encoded alone, with
 * the device's message for it, or undefined when each encodes cleanly (the step's writes,
 * copies or execution failed). Each is encoded into its own command encoder, finished and
 * never submitted, so nothing runs and the search costs only a failure.
 */
async function firstRejectedKernel(device: GPUDevice, dispatches: readonly KernelDispatch[]): Promise<{ kernel: PlanKernel; report: DeviceReport } | undefined> {
  const reports = dispatches.map(
    (dispatch) =>
      withErrorScopes(device, () => {
        const encoder = device.createCommandEncoder({ label: dispatch.kernel.name });
        const pass = encoder.beginComputePass({ label: dispatch.kernel.name });
        encodeDispatch(pass, dispatch);
        pass.end();
        encoder.finish();
      }).report,
  );
  const found = await Promise.all(reports);
  const first = found.findIndex((report) => report !== undefined);
  return first < 0 ? undefined : { kernel: dispatches[first]!.kernel, report: found[first]! };
}

/** The work's result, unless the device rejected what it reads back: then that holds stale values (or fails), and `explain` says why. */
export async function unlessRejected<T>(report: Promise<DeviceReport | undefined>, work: Promise<T>, explain: (report: DeviceReport) => Promise<Error> | Error): Promise<T> {
  const [rejected] = await Promise.all([report, work.catch(() => undefined)]);
  if (rejected) throw await explain(rejected);
  return work;
}

/**
 * The DeviceError of a run (`where`: `Session 'mlp' forward`) the device rejected with
 * `report`, naming the first of its kernels that the device rejects alone.
 */
export async function rejectedRunError(device: GPUDevice, where: string, dispatches: readonly KernelDispatch[], report: DeviceReport): Promise<DeviceError> {
  const rejected = await firstRejectedKernel(device, dispatches);
  if (!rejected) {
    return new DeviceError(
      `${where}: the GPU device rejected the run with ${describeReport(report)}, so it returns no values; each of its kernels encodes cleanly alone, ` +
        `so its writes, copies or readback failed. The device says: ${report.message.trim()}`,
    );
  }
  return new DeviceError(
    `${where}: the GPU device rejected ${describeKernel(rejected.kernel)} with ${describeReport(rejected.report)}, so the run returns no values. ` +
      'Recompile the plan with compile() for this device (a plan from compile() that fails here is a kiln bug: please report it with the plan). ' +
      `The device says: ${rejected.report.message.trim()}`,
  );
}

/** What hears a device's uncaptured errors: a session's DeviceGuard. */
export interface UncapturedErrorListener {
  /** Whether it waits for GPU work now. */
  readonly busy: boolean;
  onUncapturedError(report: DeviceReport): void;
}

/**
 * A device's uncaptured errors, delivered to the sessions that may have caused them: each
 * with GPU work in flight, or, when none has, the one that submitted last (its next call
 * fails). WebGPU does not say which work an uncaptured error came from. Listeners are held
 * weakly: a device outlives many sessions.
 */
export class UncapturedErrors {
  private readonly listeners = new Set<WeakRef<UncapturedErrorListener>>();
  private lastSubmitter: WeakRef<UncapturedErrorListener> | undefined;

  constructor(device: GPUDevice) {
    device.addEventListener('uncapturederror', (event) => {
      const { error } = event as GPUUncapturedErrorEvent;
      this.deliver({ kind: errorKind(error), message: error.message });
    });
  }

  add(listener: UncapturedErrorListener): void {
    for (const held of this.listeners) if (!held.deref()) this.listeners.delete(held);
    this.listeners.add(new WeakRef(listener));
  }

  /** Records that `listener`'s work is the device's latest, called just before its submit. */
  submitting(listener: UncapturedErrorListener): void {
    if (this.lastSubmitter?.deref() !== listener) this.lastSubmitter = new WeakRef(listener);
  }

  private deliver(report: DeviceReport): void {
    const busy = [...this.listeners].map((held) => held.deref()).filter((listener) => listener?.busy === true);
    const to = busy.length > 0 ? busy : [this.lastSubmitter?.deref()];
    for (const listener of to) listener?.onUncapturedError(report);
  }
}

function errorKind(error: GPUError): DeviceReport['kind'] {
  if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) return 'out-of-memory';
  if (typeof GPUInternalError !== 'undefined' && error instanceof GPUInternalError) return 'internal';
  return 'validation';
}

const uncapturedErrors = new WeakMap<GPUDevice, UncapturedErrors>();

/** The device's uncaptured-error delivery (one event listener per device, however many sessions). */
export function uncapturedErrorsOf(device: GPUDevice): UncapturedErrors {
  let errors = uncapturedErrors.get(device);
  if (!errors) {
    errors = new UncapturedErrors(device);
    uncapturedErrors.set(device, errors);
  }
  return errors;
}
