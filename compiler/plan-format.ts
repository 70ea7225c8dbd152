/**
 * The plan: everything the runtime needs to run a compiled graph, as plain JSON, so a
 * plan compiled in Node can be shipped and run in a browser without the compiler
 * (ahead-of-time). `runtime/` imports from the compiler only this format and its checks:
 * plan-format.ts, errors.ts, limits.ts, liveness.ts (checkMemoryPlan) and kernel-fit.ts
 * (a kernel against a device's limits), which import nothing outside this set;
 * test/architecture.test.ts holds that list.
 */

import { ArgumentError, PlanError } from './errors.js';
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

/**
 * A size in a plan: a number, or a symbolic size in the plan's dims written as kiln prints
 * it (`"batch"`, `"784*batch"`, `"batch*seq + 1"`): terms joined by ` + ` / ` - `, each a
 * product of an optional integer coefficient and dim names. The runtime evaluates it for
 * a run's dims (`evaluatePlanSize`).
 */
export type PlanSize = number | string;

/** One term of a plan size: a coefficient and the names it multiplies. */
export interface PlanSizeTerm {
  readonly coefficient: number;
  readonly names: readonly string[];
}

const TERM = /^(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*))$/;

/** The terms of a symbolic plan size (`"784*batch + 3"` → 784·batch, 3); a PlanError names a malformed one. */
export function parsePlanSize(text: string): readonly PlanSizeTerm[] {
  // A run evaluates its plan's sizes each step: each distinct text is parsed once.
  let terms = parsedSizes.get(text);
  if (terms === undefined) {
    terms = parseSizeText(text);
    parsedSizes.set(text, terms);
  }
  return terms;
}

const parsedSizes = new Map<string, readonly PlanSizeTerm[]>();

function parseSizeText(text: string): PlanSizeTerm[] {
  const terms: PlanSizeTerm[] = [];
  const parts = text.trim().split(/\s*([+-])\s*/);
  // split with a capture group alternates term, sign, term, …; a leading '-' gives an empty first part.
  let sign = 1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 1) {
      sign = part === '-' ? -1 : 1;
      continue;
    }
    if (part === '' && i === 0) continue;
    let coefficient = sign;
    const names: string[] = [];
    for (const factor of part.split(/\s*\*\s*/)) {
      const match = TERM.exec(factor);
      if (!match) throw new PlanError(`plan size '${text}' is malformed at '${factor}': expected a number or a dim name in a product such as 784*batch.`);
      if (match[1] !== undefined) coefficient *= Number(match[1]);
      else names.push(match[2]!);
    }
    terms.push({ coefficient, names });
  }
  if (terms.length === 0) throw new PlanError(`plan size '${text}' is empty.`);
  return terms;
}

/** The value of a plan size for a run's dims (`{batch: 32}`); a PlanError names a dim the run did not size. */
export function evaluatePlanSize(size: PlanSize, dims: Readonly<Record<string, number>>): number {
  if (!dims || typeof dims !== 'object' || (typeof size !== 'number' && typeof size !== 'string')) {
    throw new ArgumentError(`evaluatePlanSize: expected a plan size (a number or a string such as "784*batch") and dim sizes such as {batch: 32}, got ${JSON.stringify(size)} and ${JSON.stringify(dims)}.`);
  }
  if (typeof size === 'number') return size;
  let total = 0;
  for (const term of parsePlanSize(size)) {
    let value = term.coefficient;
    for (const name of term.names) {
      const d = dims[name];
      if (d === undefined) throw new PlanError(`plan size '${size}' needs dim '${name}', which this run did not size.`);
      value *= d;
    }
    total += value;
  }
  return total;
}

/** The dim names a plan size depends on. */
export function planSizeNames(size: PlanSize): string[] {
  return typeof size === 'number' ? [] : [...new Set(parsePlanSize(size).flatMap((t) => t.names))];
}

/**
 * A workgroup count: a number, or one the runtime computes from a run's dims,
 * ceil(size / per) (`{size: "784*batch", per: 64}`).
 */
export type PlanWorkgroupCount = number | { readonly size: string; readonly per: number };

export interface PlanBuffer {
  readonly id: number;
  /** The user's name for inputs/params/state; a node label such as `%12` otherwise. */
  readonly name: string;
  readonly role: BufferRole;
  readonly dtype: PlanDType;
  /** Its shape; a dim may be a symbolic size (`["batch", 784]`). */
  readonly shape: readonly PlanSize[];
  /**
   * Size in bytes: a number (at least 4, a multiple of 4: WebGPU binds no empty buffers),
   * or a symbolic size the runtime evaluates per run (and rounds up to at least 4).
   */
  readonly bytes: PlanSize;
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
  /**
   * At least the bytes of every static buffer in it. A run's allocation is the largest of
   * this and its symbolic buffers' bytes at the run's dims (the runtime grows it when a
   * larger size arrives).
   */
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
  /** Workgroups dispatched (a count may depend on the run's dims). */
  readonly workgroups: readonly [PlanWorkgroupCount, PlanWorkgroupCount, PlanWorkgroupCount];
  /**
   * The x count may exceed maxComputeWorkgroupsPerDimension: the runtime dispatches
   * x' = min(x, max) by y' = ceil(x / x') (y must be 1), and the kernel computes its flat
   * workgroup index from `@builtin(num_workgroups)`, returning past the end.
   */
  readonly foldX?: boolean;
  /** The kernel reads the plan's size block (`Plan.dims`) at `@group(1) @binding(0)`. */
  readonly readsDims?: boolean;
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
  readonly outputShapes?: Readonly<Record<string, readonly PlanSize[]>>;
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
  /**
   * The symbolic dims of the plan, in the order of its size block: a uniform buffer of one
   * u32 per dim (`struct KilnDims { batch: u32, … }`, padded to 16 bytes) bound at
   * `@group(1) @binding(0)` by the kernels that read it (`PlanKernel.readsDims`). Absent
   * or empty: every size is static.
   */
  readonly dims?: readonly string[];
  /** Largest size of each dim the plan was compiled to accept (`compile`'s `maxDims`); the runtime refuses larger runs. */
  readonly maxDims?: Readonly<Record<string, number>>;
}

export const PLAN_FORMAT = 'kiln-plan';
/**
 * 3: sizes may be symbolic (buffer shapes and bytes, workgroup counts), with the plan's
 * `dims` and kernels' `readsDims`/`foldX`. 2: kernels record bindings as `{buffer, access}`,
 * their `workgroupSize` and `workgroupStorageBytes` (1: bindings were bare buffer ids).
 */
export const PLAN_VERSION = 3;

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
