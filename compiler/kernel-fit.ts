/**
 * What a kernel asks of a device (its bindings, dispatch and workgroup size, and its
 * workgroup storage, all recorded beside its WGSL), and which of the device's limits it
 * exceeds. `compile` checks every kernel it emits with it, and `checkPlanFitsDevice` every
 * kernel of a plan before a session runs it (after `validatePlan` has checked, with
 * `kernelResources`, that the WGSL declares the recorded bindings, workgroup size and
 * workgroup storage). Workgroup storage is counted as WebGPU counts it: each
 * `var<workgroup>` rounded up to 16 bytes.
 */

import type { KernelLimits } from './limits.js';
import { DEFAULT_LIMITS } from './limits.js';

/** The device resources one kernel uses. */
export interface KernelResources {
  /** `@workgroup_size(x, y, z)`; undefined if the WGSL does not spell it with integer literals. */
  readonly workgroupSize?: readonly [number, number, number];
  /** Bytes of workgroup memory; undefined if a variable's type is not one this module can size. */
  readonly workgroupStorageBytes?: number;
}

/** A limit a kernel exceeds: which, what the kernel needs, and the problem in words. */
export interface LimitProblem {
  readonly limit: keyof KernelLimits;
  readonly needs: number;
  /** e.g. `binds 9 storage buffers, over this device's maxStorageBuffersPerShaderStage of 8`. */
  readonly problem: string;
}

/** Bytes a workgroup variable of `bytes` counts for against maxComputeWorkgroupStorageSize. */
export function workgroupVariableBytes(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

const roundUp = (multiple: number, x: number): number => Math.ceil(x / multiple) * multiple;
const SCALAR_BYTES: Readonly<Record<string, number>> = { f32: 4, i32: 4, u32: 4, bool: 4, f16: 2 };
const VECTOR_SUFFIX: Readonly<Record<string, string>> = { f: 'f32', i: 'i32', u: 'u32', h: 'f16' };

/** Size and alignment of a WGSL type (WGSL's memory layout rules), or undefined for types it cannot size here (structs). */
function layoutOf(type: string): { size: number; align: number } | undefined {
  const t = type.replace(/\s+/g, '');
  const scalar = SCALAR_BYTES[t];
  if (scalar !== undefined) return { size: scalar, align: scalar };
  const atomic = /^atomic<(\w+)>$/.exec(t);
  if (atomic) return layoutOf(atomic[1]!);
  const vector = /^vec([234])(?:<(\w+)>|([fiuh]))$/.exec(t);
  if (vector) {
    const lanes = Number(vector[1]);
    const element = layoutOf(vector[2] ?? VECTOR_SUFFIX[vector[3]!]!);
    if (!element) return undefined;
    return { size: lanes * element.size, align: (lanes === 3 ? 4 : lanes) * element.size };
  }
  const array = /^array<(.+),(\d+)[ui]?>$/.exec(t);
  if (array) {
    const element = layoutOf(array[1]!);
    if (!element) return undefined;
    return { size: Number(array[2]) * roundUp(element.align, element.size), align: element.align };
  }
  return undefined;
}

/** WGSL without its comments, which could spell a declaration that is not there (a hand-edited plan's, say). */
export function withoutComments(wgsl: string): string {
  return wgsl.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** Reads a kernel's workgroup size and workgroup memory from its WGSL: the plan checker's cross-check of what a plan records. */
export function kernelResources(wgsl: string): KernelResources {
  const code = withoutComments(wgsl);
  const dims = (/@\s*workgroup_size\s*\(([^)]*)\)/.exec(code)?.[1] ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
  // Only integer literals can be read here (an override constant is known to the pipeline alone).
  const literal = dims.length >= 1 && dims.length <= 3 && dims.every((d) => /^\d+[ui]?$/.test(d));
  const workgroupSize = literal ? ([0, 1, 2].map((axis) => parseInt(dims[axis] ?? '1', 10)) as [number, number, number]) : undefined;
  let workgroupStorageBytes: number | undefined = 0;
  for (const match of code.matchAll(/\bvar\s*<\s*workgroup\s*>\s*\w+\s*:\s*([^;=]+);/g)) {
    const layout = layoutOf(match[1]!);
    workgroupStorageBytes = layout && workgroupStorageBytes !== undefined ? workgroupStorageBytes + workgroupVariableBytes(layout.size) : undefined;
  }
  return { ...(workgroupSize ? { workgroupSize } : {}), ...(workgroupStorageBytes !== undefined ? { workgroupStorageBytes } : {}) };
}

/**
 * Every limit of `limits` the kernel exceeds (none: it fits). A workgroup count that
 * depends on the run's dims (`{size, per}`) is known only per run: the runtime checks it
 * then (folding x past the limit into y where the kernel allows), so only static counts
 * are checked here.
 */
export function kernelLimitProblems(
  kernel: {
    readonly bindings: readonly unknown[];
    readonly workgroups: readonly WorkgroupCountLike[];
    readonly workgroupSize: readonly [number, number, number];
    readonly workgroupStorageBytes: number;
  },
  limits: KernelLimits,
): LimitProblem[] {
  const problems: LimitProblem[] = [];
  const over = (limit: keyof KernelLimits, needs: number, what: string): void => {
    if (needs > limits[limit]) problems.push({ limit, needs, problem: `${what}, over this device's ${limit} of ${limits[limit]}` });
  };
  over('maxStorageBuffersPerShaderStage', kernel.bindings.length, `binds ${kernel.bindings.length} storage buffers`);
  const counts = kernel.workgroups.filter((n): n is number => typeof n === 'number');
  over('maxComputeWorkgroupsPerDimension', Math.max(0, ...counts), `dispatches [${kernel.workgroups.map(describeCount).join(', ')}] workgroups`);
  const [x, y, z] = kernel.workgroupSize;
  const spelled = `@workgroup_size(${kernel.workgroupSize.join(', ')})`;
  over('maxComputeInvocationsPerWorkgroup', x * y * z, `runs ${x * y * z} invocations per workgroup (${spelled})`);
  over('maxComputeWorkgroupSizeX', x, `runs workgroups ${x} invocations wide (${spelled})`);
  over('maxComputeWorkgroupSizeY', y, `runs workgroups ${y} invocations high (${spelled})`);
  over('maxComputeWorkgroupSizeZ', z, `runs workgroups ${z} invocations deep (${spelled})`);
  over('maxComputeWorkgroupStorageSize', kernel.workgroupStorageBytes, `uses ${kernel.workgroupStorageBytes} bytes of workgroup storage`);
  return problems;
}

/** A workgroup count as a message shows it: `12`, or `ceil(784*batch / 64)` for one computed per run. */
function describeCount(count: WorkgroupCountLike): string {
  return typeof count === 'number' ? String(count) : `ceil(${String(count.size)} / ${count.per})`;
}

/** A workgroup count as a kernel spec (a Dim size) or a plan (a printed size) records it. */
type WorkgroupCountLike = number | { readonly size: unknown; readonly per: number };

/** The fix for a kernel that exceeds `problem`'s limit as compiled: what WebGPU guarantees, and where to get the device's own limits. */
export function limitFix(problem: LimitProblem): string {
  const guaranteed = DEFAULT_LIMITS[problem.limit];
  const floor = problem.needs <= guaranteed ? `every WebGPU device allows ${guaranteed}, so compile with the device's own limits (compile(graph, {limits: device.limits}))` : 'use a device with a larger limit';
  return `this kernel cannot be split to fit; ${floor}`;
}
