/**
 * `kiln profile`: where a step's time goes on this machine's adapter, and why. Per kernel,
 * slowest first: its time alone and share of the step, what it computes and moves at the
 * profiled sizes (compiler/kernel-cost.ts) and the rates it achieved, GFLOP/s and GB/s,
 * to set against the adapter's roofline. `--compile` times each pipeline's creation
 * instead, with the size and shape of its WGSL, to see what makes a pipeline expensive.
 */

import { entryCosts } from '../compiler/kernel-cost.js';
import type { KernelCost } from '../compiler/kernel-cost.js';
import { planningDims } from '../compiler/memory.js';
import { describeCount } from '../compiler/plan-print.js';
import type { CompileOptions } from '../compiler/plan.js';
import { compileStages } from '../compiler/plan.js';
import { Graph } from '../compiler/graph.js';
import type { TrainingProgram } from '../compiler/train.js';
import { requestDevice } from '../runtime/device.js';
import type { CompileTiming, KernelTiming } from '../runtime/profile.js';
import { atDims, formatCount, formatRate as rate, profileCompile, profileEntry } from '../runtime/profile.js';

export interface ProfileOptions {
  /** Profile the forward entry (a graph has only that one); default a training program's trainStep. */
  readonly forward?: boolean;
  /** Sizes of the plan's symbolic dims; default its planning sizes (maxDims, else 64). */
  readonly dims?: Readonly<Record<string, number>>;
  /** Timed dispatches per kernel, after an untimed one (default 5): the figure is their median. */
  readonly runs?: number;
  /** Time pipeline creation instead of dispatches. */
  readonly compile?: boolean;
  /** Compile options (`{fuse: false}` for --unfused); the device's limits are added. */
  readonly compileOptions?: CompileOptions;
}

/** Profiles `source` on this machine's adapter and returns the table `kiln profile` prints. */
export async function profile(source: Graph | TrainingProgram, options: ProfileOptions = {}): Promise<string> {
  const gpu = await requestDevice();
  try {
    const stages = compileStages(source, { ...options.compileOptions, limits: gpu.limits });
    const { plan } = stages;
    const adapter = gpu.info.description || gpu.info.vendor;
    if (options.compile) return `${adapter}: ${plan.name}, every kernel's pipeline made alone\n${printCompile(await profileCompile(gpu.device, plan.kernels))}`;
    const unknown = Object.keys(options.dims ?? {}).filter((name) => !(plan.dims ?? []).includes(name));
    if (unknown.length > 0) throw new Error(`--dims: plan '${plan.name}' has no dim ${unknown.join(', ')} (its dims: ${plan.dims?.join(', ') || 'none, it is static'})`);
    const dims = { ...planningDims(plan), ...options.dims };
    const entry = options.forward || source instanceof Graph ? 'forward' : 'trainStep';
    const timings = await profileEntry(gpu.device, plan, entry, options.runs ?? 5, dims);
    return `${adapter}: ${plan.name} ${entry}${atDims(dims)}\n${printProfile(timings, entryCosts(plan, stages.simplified.graph, entry, dims))}`;
  } finally {
    gpu.destroy();
  }
}

/** `batch=64,seq=8` as dims; an Error names a malformed one. */
export function parseDims(text: string): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const part of text.split(',')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+)\s*$/.exec(part);
    if (!match || Number(match[2]) < 1) throw new Error(`--dims takes sizes such as batch=64,seq=8, got '${text}'`);
    dims[match[1]!] = Number(match[2]);
  }
  return dims;
}

/**
 * The timings as a table, slowest first: each kernel's time and share of the total, its
 * FLOPs and bytes (`costs`, in the timings' order) and the GFLOP/s and GB/s it achieved;
 * then the step's totals.
 */
function printProfile(timings: readonly KernelTiming[], costs: readonly KernelCost[]): string {
  const total = timings.reduce((sum, t) => sum + t.ms, 0);
  const rows = timings.map((timing, i) => ({ ...timing, flops: costs[i]!.flops, bytes: costs[i]!.bytesRead + costs[i]!.bytesWritten })).sort((a, b) => b.ms - a.ms);
  const header = `${'ms'.padStart(10)}  ${'share'.padStart(6)}  ${'GFLOP/s'.padStart(7)}  ${'GB/s'.padStart(7)}  ${'FLOPs'.padStart(6)}  ${'bytes'.padStart(6)}  kernel [workgroups] ops`;
  const lines = rows.map(({ kernel, ms, flops, bytes }) => {
    const counts = kernel.workgroups.map(describeCount);
    const share = `${((100 * ms) / total).toFixed(1)}%`;
    const figures = [rate(flops, ms).padStart(7), rate(bytes, ms).padStart(7), formatCount(flops).padStart(6), formatCount(bytes).padStart(6)];
    return `${ms.toFixed(3).padStart(10)}  ${share.padStart(6)}  ${figures.join('  ')}  ${kernel.name} [${counts.join('×')}] ${kernel.ops.join(' ')}`;
  });
  const flops = rows.reduce((sum, r) => sum + r.flops, 0);
  const bytes = rows.reduce((sum, r) => sum + r.bytes, 0);
  const totals = `${total.toFixed(3).padStart(10)} ms total over ${timings.length} kernels: ${formatCount(flops)} FLOPs at ${rate(flops, total)} GFLOP/s, ${formatCount(bytes)} bytes at ${rate(bytes, total)} GB/s`;
  return `${header}\n${lines.join('\n')}\n${totals}\n`;
}

/** What a kernel's WGSL is made of, to tell a pipeline's cost apart: size, loops, barriers, helper functions. */
export interface WgslShape {
  readonly bytes: number;
  readonly lines: number;
  readonly loops: number;
  readonly barriers: number;
  /** Functions besides the entry point, those of them never called, and their call sites (each one inlined: a matmul's epilogue once per output of its tile). */
  readonly helpers: number;
  readonly unusedHelpers: number;
  readonly calls: number;
  /** The WGSL without comments and blank lines: kernels with the same body compile to the same pipeline. */
  readonly body: string;
}

export function wgslShape(wgsl: string): WgslShape {
  const body = wgsl
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').trimEnd())
    .filter((line) => line.trim() !== '')
    .join('\n');
  const helpers = [...body.matchAll(/\bfn\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!).filter((name) => name !== 'main');
  const calls = (name: string): number => body.match(new RegExp(`\\b${name}\\s*\\(`, 'g'))?.length ?? 0;
  return {
    bytes: new TextEncoder().encode(wgsl).length,
    lines: wgsl.split('\n').length,
    loops: body.match(/\b(for|loop|while)\b/g)?.length ?? 0,
    barriers: body.match(/\b(workgroupBarrier|storageBarrier)\s*\(/g)?.length ?? 0,
    helpers: helpers.length,
    // The definition itself matches once.
    unusedHelpers: helpers.filter((name) => calls(name) <= 1).length,
    calls: helpers.reduce((sum, name) => sum + calls(name) - 1, 0),
    body,
  };
}

/** The compile timings as a table, slowest first, with each kernel's WGSL shape and how many kernels share its body. */
function printCompile(timings: readonly CompileTiming[]): string {
  const shapes = timings.map(({ kernel }) => wgslShape(kernel.wgsl));
  const sharing = new Map<string, number>();
  for (const { body } of shapes) sharing.set(body, (sharing.get(body) ?? 0) + 1);
  const rows = timings.map((t, i) => ({ ...t, ms: t.moduleMs + t.pipelineMs, shape: shapes[i]! })).sort((a, b) => b.ms - a.ms);
  const columns = ['total ms', 'module', 'pipeline', 'bytes', 'lines', 'loops', 'barriers', 'fns', 'unused', 'calls', 'same body'];
  const header = `${columns.map((c) => c.padStart(c === 'total ms' ? 10 : Math.max(6, c.length))).join('  ')}  kernel ops`;
  const lines = rows.map(({ kernel, ms, moduleMs, pipelineMs, shape }) => {
    const cells = [ms.toFixed(1), moduleMs.toFixed(1), pipelineMs.toFixed(1), formatCount(shape.bytes), shape.lines, shape.loops, shape.barriers, shape.helpers, shape.unusedHelpers, shape.calls, `×${sharing.get(shape.body)!}`];
    return `${cells.map((cell, c) => String(cell).padStart(c === 0 ? 10 : Math.max(6, columns[c]!.length))).join('  ')}  ${kernel.name} ${kernel.ops.join(' ')}`;
  });
  const total = rows.reduce((sum, r) => sum + r.ms, 0);
  // One pipeline per distinct body (its first kernel's time): what sharing pipelines across kernels that differ only in comments would cost.
  const firstOfBody = new Map<string, number>();
  timings.forEach((t, i) => {
    if (!firstOfBody.has(shapes[i]!.body)) firstOfBody.set(shapes[i]!.body, t.moduleMs + t.pipelineMs);
  });
  const distinct = [...firstOfBody.values()].reduce((sum, ms) => sum + ms, 0);
  const totals =
    `${total.toFixed(1).padStart(10)} ms total over ${timings.length} kernels, made one at a time; ` +
    `${firstOfBody.size} distinct bodies (WGSL without comments) would take ${distinct.toFixed(1)} ms`;
  return `${header}\n${lines.join('\n')}\n${totals}\n`;
}
