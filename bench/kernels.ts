/**
 * Kernel throughput on this machine's adapter: matmul GFLOP/s with the default variant
 * and with the autotuner's choice (the kernels `compile` emits, fusion included), and
 * reduction GB/s with one invocation per output and with the workgroup tree.
 *
 *   npx tsx bench/kernels.ts [--large 1024] [--repeats 3]
 *
 * Each kernel is dispatched alone, repeatedly in one pass (see tune/autotune.ts,
 * `timeKernels`); kernels compared in one row take turns, so load elsewhere on the
 * machine slows them alike. SwiftShader runs on the CPU: compare rows, not absolute
 * figures with a GPU's.
 */

import { parseArgs } from 'node:util';
import { Graph } from '../compiler/graph.js';
import { matmul } from '../compiler/ops/matmul.js';
import { sum } from '../compiler/ops/reduce.js';
import type { FoldReducer } from '../compiler/codegen/reducer.js';
import { logsumexpReducer, maxReducer, meanReducer, sumReducer } from '../compiler/ops/reduce.js';
import { reduceKernel } from '../shaders/reduce.js';
import { compile } from '../compiler/plan.js';
import type { Plan, PlanKernel } from '../compiler/plan-format.js';
import { evaluatePlanSize } from '../compiler/plan-format.js';
import type { TuningTable } from '../compiler/codegen/tuning.js';
import { matmulShapeClass } from '../compiler/codegen/tuning.js';
import { requestDevice } from '../runtime/device.js';
import type { TimedKernel } from '../tune/autotune.js';
import { autotune, timeKernels } from '../tune/autotune.js';
import { kernelLimits } from '../compiler/codegen/wgsl.js';

const { values } = parseArgs({ options: { large: { type: 'string', default: '1024' }, repeats: { type: 'string', default: '3' } } });
const LARGE = Number(values.large);
const REPEATS = Number(values.repeats);

const gpu = await requestDevice();
const limits = kernelLimits(gpu.device.limits);
console.log(`adapter: ${gpu.info.description || gpu.info.vendor} (${gpu.info.architecture}), ${gpu.info.software ? 'software' : 'hardware'}`);

const started = performance.now();
const tuning = await autotune(gpu);
console.log(`autotune: ${((performance.now() - started) / 1000).toFixed(1)} s; chosen per class: ${JSON.stringify(tuning.matmul)}\n`);

/** Pads cells into aligned columns. */
function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
}

/** A static kernel's workgroup counts (every benchmark here is compiled with static sizes). */
function staticWorkgroups(workgroups: readonly (number | { readonly size: unknown })[]): [number, number, number] {
  const counts = workgroups.map((count) => {
    if (typeof count !== 'number') throw new Error('bench/kernels: a kernel with a per-run workgroup count; compile the benchmark with static sizes.');
    return count;
  });
  return [counts[0]!, counts[1]!, counts[2]!];
}

/** The plan's one matmul kernel as a timed kernel, its buffers sized from the plan. */
function matmulOf(plan: Plan): TimedKernel {
  const kernel = plan.kernels.find((k: PlanKernel) => k.ops.includes('matmul'))!;
  return { ...kernel, workgroups: staticWorkgroups(kernel.workgroups), bindingBytes: kernel.bindings.map(({ buffer }) => evaluatePlanSize(plan.buffers[buffer]!.bytes, {})) };
}

interface MatmulCase {
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  /** A weight gradient with its bias gradient as the extra row of ones (sibling fusion). */
  readonly biasGradient?: boolean;
}

/** y = op(a)·op(b), stored as the flags say; with `biasGradient`, also b's column sums. */
function matmulGraph(c: MatmulCase): Graph {
  const g = new Graph('bench');
  const a = g.input('a', c.transposeA ? [c.k, c.m] : [c.m, c.k]);
  const b = g.input('b', c.transposeB ? [c.n, c.k] : [c.k, c.n]);
  g.output('y', matmul(a, b, { transposeA: c.transposeA ?? false, transposeB: c.transposeB ?? false }));
  if (c.biasGradient) g.output('columnSums', sum(b, 0));
  return g;
}

const matmulCases: MatmulCase[] = [
  { label: '128×784×128 (fc1 forward)', m: 128, k: 784, n: 128 },
  { label: `${LARGE}³`, m: LARGE, k: LARGE, n: LARGE },
  { label: 'fc1 weight grad xᵀ·g + bias grad', m: 784, k: 128, n: 128, transposeA: true, biasGradient: true },
  { label: 'fc2 weight grad hᵀ·g + bias grad', m: 128, k: 128, n: 64, transposeA: true, biasGradient: true },
  { label: 'fc3 weight grad hᵀ·g + bias grad', m: 64, k: 128, n: 10, transposeA: true, biasGradient: true },
  { label: 'fc2 input grad g·Wᵀ', m: 128, k: 64, n: 128, transposeB: true },
];

const matmulRows: string[][] = [];
for (const c of matmulCases) {
  const graph = matmulGraph(c);
  const plain = matmulOf(compile(graph, { limits }));
  const tuned = matmulOf(compile(graph, { limits, tuning: tuning as TuningTable }));
  const kernels = plain.wgsl === tuned.wgsl ? [plain] : [plain, tuned];
  const times = await timeKernels(gpu.device, kernels, { repeats: REPEATS });
  const flops = 2 * (c.biasGradient ? c.m + 1 : c.m) * c.k * c.n;
  const rate = (ms: number): string => (flops / ms / 1e6).toPrecision(3);
  const shapeClass = matmulShapeClass({ m: c.m, k: c.k, n: c.n, batch: 1, transposeA: c.transposeA ?? false, transposeB: c.transposeB ?? false });
  matmulRows.push([c.label, shapeClass, plain.name.replace(/^k\d+_matmul_/, ''), rate(times[0]!), tuned.name.replace(/^k\d+_matmul_/, ''), rate(times[times.length - 1]!)]);
}
printTable(['matmul', 'class', 'default kernel', 'GFLOP/s', 'tuned kernel', 'GFLOP/s'], matmulRows);

interface ReduceCase {
  readonly label: string;
  readonly reducer: FoldReducer;
  readonly shape: number[];
  readonly axes: number[];
}
const reduceCases: ReduceCase[] = [
  { label: 'sum of 1e6 → 1', reducer: sumReducer, shape: [1_000_000], axes: [0] },
  { label: 'max of a row of 100000 → 1', reducer: maxReducer, shape: [1, 100_000], axes: [1] },
  { label: 'sum rows [1024,1024] → 1024', reducer: sumReducer, shape: [1024, 1024], axes: [1] },
  { label: 'sum columns [1024,1024] → 1024', reducer: sumReducer, shape: [1024, 1024], axes: [0] },
  { label: 'logsumexp rows [4096,300] → 4096', reducer: logsumexpReducer, shape: [4096, 300], axes: [1] },
  { label: 'sum short rows [16384,64] → 16384', reducer: sumReducer, shape: [16384, 64], axes: [1] },
  { label: 'mean [128] → 1 (the MLP loss)', reducer: meanReducer, shape: [128], axes: [0] },
];
const reduceRows: string[][] = [];
for (const c of reduceCases) {
  const inputBytes = c.shape.reduce((a, b) => a * b, 1) * 4;
  const outputBytes = Math.max(4, (inputBytes / 4 / c.axes.reduce((p, a) => p * c.shape[a]!, 1)) * 4);
  const kernels = (['perOutput', 'tree'] as const).map((strategy): TimedKernel => {
    const [spec] = reduceKernel({ name: `bench_${strategy}`, header: [c.label], limits, reducer: c.reducer, ids: [0, 1], shape: c.shape, dtype: 'f32', axes: c.axes, strategy });
    return { ...spec!, workgroups: staticWorkgroups(spec!.workgroups), bindingBytes: [inputBytes, outputBytes] };
  });
  const times = await timeKernels(gpu.device, kernels, { repeats: REPEATS });
  const rate = (ms: number): string => (inputBytes / ms / 1e6).toPrecision(3);
  const strategy = (tuned?: TuningTable): string =>
    reduceKernel({ name: 'k', header: [], limits, reducer: c.reducer, ids: [0, 1], shape: c.shape, dtype: 'f32', axes: c.axes, ...(tuned ? { tuning: tuned } : {}) })[0]!.name.endsWith('_tree')
      ? 'tree'
      : 'one per output';
  reduceRows.push([c.label, rate(times[0]!), rate(times[1]!), strategy(), strategy(tuning)]);
}
printTable(['reduction', 'one per output GB/s', 'tree GB/s', 'default', 'tuned'], reduceRows);
gpu.destroy();
