/**
 * The plan: everything the runtime needs to run a compiled graph, as plain JSON, so a
 * plan compiled in Node can be shipped and run in a browser without the compiler
 * (ahead-of-time). `runtime/` imports from the compiler only this format and its checks:
 * plan-format.ts, errors.ts, limits.ts, liveness.ts (checkMemoryPlan) and kernel-fit.ts
 * (a kernel against a device's limits), which import nothing outside this set;
 * test/architecture.test.ts holds that list.
 */

import { PlanError } from './errors.js';
import type { KernelLimits } from './limits.js';

/** Element types as stored in device buffers. `bool` is stored as u32 (0/1). */
export type PlanDType = 'f32' | 'i32' | 'bool';

/** Where a buffer's contents come from and how long they live. */
export type BufferRole = 'input' | 'param' | 'state' | 'const' | 'transient';

/** A number as a plan stores it: JSON numbers, plus the three values JSON cannot spell. */
export type PlanNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** Encodes a number for a plan (NaN and ±Infinity as strings). */
export function toPlanNumber(value: number): PlanNumber {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** Decodes a plan number. */
export function fromPlanNumber(value: PlanNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

export interface PlanBuffer {
  readonly id: number;
  /** The user's name for inputs/params/state; a node label such as `%12` otherwise. */
  readonly name: string;
  readonly role: BufferRole;
  readonly dtype: PlanDType;
  readonly shape: readonly number[];
  /** Allocation size in bytes (at least 4, a multiple of 4: WebGPU binds no empty buffers). */
  readonly bytes: number;
  /**
   * Row-major values of a const buffer (one value: a splat), uploaded once at session
   * creation. JSON has no NaN or ±Infinity, so those are written as strings.
   */
  readonly data?: readonly PlanNumber[];
  /**
   * The index in `Plan.allocations` of the memory this buffer lives in (set by the memory
   * planner). Buffers whose live ranges never overlap share one; without it, its own.
   */
  readonly allocation?: number;
  /**
   * Inputs only: the values a feed must lie in, inclusive, as an op of the graph declared
   * them (class labels in [0, classes − 1]). Checked when a step runs with `checkFeeds`.
   */
  readonly valueRange?: { readonly min: number; readonly max: number; readonly reason: string };
}

/** A block of device memory (one GPUBuffer) that one or more plan buffers live in, one at a time. */
export interface PlanAllocation {
  /** At least the bytes of every buffer in it. */
  readonly bytes: number;
}

/**
 * The rule that formed a kernel, in one vocabulary from fusion (compiler/passes/fusion,
 * whose groups carry it) to the plan: loop, input (prologue into a reduction), epilogue,
 * sibling (column sums as an extra row), row; `single` is one op alone, `init` fills a
 * param or state.
 */
export type KernelKind = 'loop' | 'input' | 'epilogue' | 'sibling' | 'row' | 'single' | 'init';

/** How a kernel uses a bound buffer: only reads it (`var<storage, read>`) or may write it (`var<storage, read_write>`). */
export type PlanAccess = 'read' | 'read_write';

/** One storage binding of a kernel: `@group(0) @binding(i)` for the i-th in `PlanKernel.bindings`. */
export interface PlanBinding {
  /** The buffer id bound. */
  readonly buffer: number;
  /** As the WGSL declares it: the runtime, memory planner and report read this, never the WGSL. */
  readonly access: PlanAccess;
}

/** One compute shader and its dispatch. */
export interface PlanKernel {
  /** WGSL-safe name, e.g. `k7_matmul`. */
  readonly name: string;
  readonly wgsl: string;
  /** The buffers bound, in binding order (`@group(0) @binding(i)`), with their access. */
  readonly bindings: readonly PlanBinding[];
  /** Workgroups dispatched. */
  readonly workgroups: readonly [number, number, number];
  /** `@workgroup_size(x, y, z)` as the WGSL declares it. */
  readonly workgroupSize: readonly [number, number, number];
  /** Bytes of workgroup memory the WGSL declares (each `var<workgroup>` rounded up to 16, as WebGPU counts it); 0 for none. */
  readonly workgroupStorageBytes: number;
  /** The graph nodes this kernel implements and their ops, for error messages and inspection. */
  readonly nodes: readonly number[];
  readonly ops: readonly string[];
  /** Which rule formed the kernel, and the rule's one-line reason: for inspection only (the runtime ignores them). */
  readonly kind?: KernelKind;
  readonly reason?: string;
  /** Each output element depends only on same-index elements of same-shaped inputs (in-place safe). */
  readonly elementwise?: boolean;
}

/** Whether `kernel` binds buffer `id` (to read or write it). */
export function bindsBuffer(kernel: Pick<PlanKernel, 'bindings'>, id: number): boolean {
  return kernel.bindings.some((binding) => binding.buffer === id);
}

/** A way to run the plan: `init`, `forward`, `trainStep`. `Outputs`: the names of its outputs. */
export interface PlanEntry<Outputs extends string = string> {
  /** Input name → buffer id: written from the caller's feeds before the dispatches. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Output name → buffer id: readable after the step. */
  readonly outputs: Readonly<Record<Outputs, number>>;
  /**
   * Shapes of outputs that are views of a buffer with another shape (a reshape of an
   * input, say: aliases share their root's buffer). Other outputs have their buffer's shape.
   */
  readonly outputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Kernel indices, dispatched in order inside one compute pass. */
  readonly dispatches: readonly number[];
  /** Buffer copies after the pass: param/state `to` takes the new value in `from`. */
  readonly copies: readonly { readonly from: number; readonly to: number }[];
  /**
   * Updates computed in place: `from` lives in `to`'s memory, so `to` holds the new value
   * after the pass without a copy (and its old value is read by no dispatch after `from`'s first).
   */
  readonly inPlace?: readonly { readonly from: number; readonly to: number }[];
}

/**
 * A compiled graph or training program. `Forward` and `TrainStep` name the outputs of
 * its `forward` and `trainStep` entries (what `compile` knew of them), so a Session
 * created from it returns results typed by those names; a plan parsed from JSON is a
 * `Plan` (any names) unless you say which it is (`JSON.parse(text) as Plan<'logits'>`).
 */
export interface Plan<Forward extends string = string, TrainStep extends string = string> {
  readonly format: 'kiln-plan';
  readonly version: typeof PLAN_VERSION;
  readonly name: string;
  readonly buffers: readonly PlanBuffer[];
  readonly kernels: readonly PlanKernel[];
  readonly entries: Readonly<Record<string, PlanEntry>> & { readonly forward?: PlanEntry<Forward>; readonly trainStep?: PlanEntry<TrainStep> };
  /** Device memory blocks, when memory is planned (see `PlanBuffer.allocation`); else one per buffer. */
  readonly allocations?: readonly PlanAllocation[];
  /**
   * The device limits the plan was compiled for (`compile`'s `limits`, WebGPU's defaults
   * for those not given): a device whose limits are smaller may be unable to run it, and
   * the error says which were assumed. A plan compiled without `limits` records
   * `DEFAULT_LIMITS` and runs on every adapter.
   */
  readonly limits: KernelLimits;
}

export const PLAN_FORMAT = 'kiln-plan';
/** 2: kernels record bindings as `{buffer, access}`, their `workgroupSize` and `workgroupStorageBytes` (1: bindings were bare buffer ids). */
export const PLAN_VERSION = 2;

/**
 * Throws a PlanError unless `value` has a plan's outline (buffers, kernels and entries):
 * the cheap check of the functions that read a plan (`printPlan`, `planMemory`, ...), so a
 * wrong argument is named there. `validatePlan` checks every field.
 */
export function requirePlan(where: string, value: unknown): asserts value is Plan {
  const plan = value as Partial<Plan> | null;
  if (plan === null || typeof plan !== 'object' || !Array.isArray(plan.buffers) || !Array.isArray(plan.kernels) || plan.entries === null || typeof plan.entries !== 'object') {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object without buffers, kernels and entries' : typeof value;
    throw new PlanError(`${where}: expected a plan (what compile() returns), got ${got}.`);
  }
}
