/**
 * The autotuner: times the matmul variants and the two reduction strategies
 * (compiler/codegen/tuning.ts) on the user's adapter, one representative shape per shape
 * class, and returns the winners as a `TuningTable` for `compile(program, { tuning })`.
 * Tables are cached in memory per adapter (and per request), so a page that compiles
 * several programs tunes once; the table is plain JSON, so it can be saved and reused
 * without timing again.
 *
 *   const gpu = await requestDevice();
 *   const tuning = await autotune(gpu);
 *   const plan = compile(program, { limits: gpu.limits, tuning });
 *
 * Timings are wall-clock (submit to `onSubmittedWorkDone`) over several dispatches in one
 * pass, the best of a few runs: timestamp queries are optional in WebGPU, wall-clock is not.
 *
 * It lives in tune/, not runtime/: it builds kernels from the shader templates and runs
 * them, so it needs both the compiler and the runtime, and the runtime must not need the
 * compiler (test/architecture.test.ts keeps that wall).
 */

import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { KernelBindings, kernelLimits } from '../compiler/codegen/wgsl.js';
import type { MatmulShapeClass, MatmulVariant, ReduceShapeClass, ReduceStrategy, TuningTable } from '../compiler/codegen/tuning.js';
import {
  DEFAULT_MATMUL_VARIANT,
  DEFAULT_REDUCE_STRATEGY,
  DEFAULT_TUNED_CLASSES,
  MATMUL_CANDIDATES,
  REDUCE_REPRESENTATIVES,
  REPRESENTATIVE_SHAPES,
  TUNING_FORMAT,
  TUNING_VERSION,
  adapterKey,
  defaultVariantFor,
  sameVariant,
  variantFits,
  variantName,
} from '../compiler/codegen/tuning.js';
import { ArgumentError } from '../compiler/errors.js';
import type { Epilogue } from '../compiler/codegen/kernel.js';
import type { PlanAccess, PlanKernel } from '../compiler/plan-format.js';
import { matmulKernel } from '../shaders/matmul.js';
import { reduceKernel } from '../shaders/reduce.js';
import { sumReducer } from '../compiler/ops/reduce.js';
import type { KilnDevice } from '../runtime/device.js';
import { createPipelines } from '../runtime/pipelines.js';
import { checkKeys } from '../compiler/ops/args.js';

export interface AutotuneOptions {
  /** The shape classes to tune (default: small, skinny and large, each as nn, nt and tn). */
  readonly classes?: readonly MatmulShapeClass[];
  /** The variants to time (default MATMUL_CANDIDATES); each class's default variant is always among them. */
  readonly candidates?: readonly MatmulVariant[];
  /** The reduction classes whose strategy (tree or one invocation per output) is timed (default: all four). */
  readonly reduceClasses?: readonly ReduceShapeClass[];
  /** Timed runs per variant, the best kept (default 3). */
  readonly repeats?: number;
  /** Each timed run dispatches the kernel until it lasts about this long (default 20 ms). */
  readonly runMs?: number;
  /**
   * A variant must beat the default by this fraction to be chosen (default 0.1), so noise
   * does not trade a well-tested kernel for an equal one.
   */
  readonly margin?: number;
}

/** A kernel to time: its WGSL, dispatch, workgroup size and workgroup storage, how it uses each binding and the size of each buffer it binds (in binding order). */
export type TimedKernel = Pick<PlanKernel, 'name' | 'wgsl' | 'workgroupSize' | 'workgroupStorageBytes'> & {
  /** Representative shapes are static: so are their dispatches. */
  readonly workgroups: readonly [number, number, number];
  readonly bindings: readonly { readonly access: PlanAccess }[];
  readonly bindingBytes: readonly number[];
};

/** A kernel ready to run: `run(d)` dispatches it d times in one pass and one submit and returns the milliseconds. */
export interface PreparedKernel {
  run(dispatches: number): Promise<number>;
  destroy(): void;
}

/** Creates the kernel's pipeline and buffers (small nonzero values, so no kernel meets NaN or denormals). */
export async function prepareKernel(device: GPUDevice, kernel: TimedKernel): Promise<PreparedKernel> {
  const planKernel: PlanKernel = { ...kernel, bindings: kernel.bindings.map(({ access }, buffer) => ({ buffer, access })), nodes: [], ops: [] };
  const [pipeline] = await createPipelines(device, [planKernel]);
  const buffers = kernel.bindingBytes.map((bytes) => {
    const buffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, new Float32Array(bytes / 4).fill(0.5));
    return buffer;
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline!.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    async run(dispatches) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline!);
      pass.setBindGroup(0, bindGroup);
      for (let d = 0; d < dispatches; d++) pass.dispatchWorkgroups(...kernel.workgroups);
      pass.end();
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - start;
    },
    destroy() {
      for (const buffer of buffers) buffer.destroy();
    },
  };
}

/**
 * Milliseconds per dispatch of each kernel: the best of `repeats` runs of enough
 * dispatches to last about `runMs`. The kernels take turns within each repeat, so a
 * burst of load elsewhere on the machine slows them alike rather than one of them.
 */
export async function timeKernels(device: GPUDevice, kernels: readonly TimedKernel[], options: { repeats?: number; runMs?: number } = {}): Promise<number[]> {
  if (device === null || typeof device !== 'object' || typeof device.createComputePipelineAsync !== 'function') {
    throw new ArgumentError(`timeKernels: expected a GPUDevice (kilnDevice.device), got ${device === null ? 'null' : typeof device}.`);
  }
  if (!Array.isArray(kernels)) throw new ArgumentError(`timeKernels: kernels must be an array of kernels to time, got ${kernels === null ? 'null' : typeof kernels}.`);
  checkKeys('timeKernels', options, ['repeats', 'runMs']);
  const prepared: PreparedKernel[] = [];
  try {
    for (const kernel of kernels) prepared.push(await prepareKernel(device, kernel));
    // The first run warms caches (and a driver's lazy compilation) and sizes the runs.
    const counts: number[] = [];
    for (const kernel of prepared) {
      const once = Math.max(await kernel.run(1), 1e-3);
      counts.push(Math.max(1, Math.min(256, Math.round((options.runMs ?? 20) / once))));
    }
    const best = prepared.map(() => Infinity);
    for (let r = 0; r < (options.repeats ?? 3); r++) {
      for (const [i, kernel] of prepared.entries()) best[i] = Math.min(best[i]!, (await kernel.run(counts[i]!)) / counts[i]!);
    }
    return best;
  } finally {
    for (const kernel of prepared) kernel.destroy();
  }
}

/**
 * A fused store: what a weight gradient with its bias gradient (the row of ones) and its
 * optimizer update looks like to the template, minus the update's arithmetic.
 */
const STORING_EPILOGUE: Epilogue = {
  bindings: [{ node: 2, access: 'read_write' }],
  columnSums: true,
  code: (first) => [new KernelBindings(first).storage(2, 'out', 'f32', 'read_write'), 'fn kiln_epilogue(i: u32, value: f32) { out[i] = value; }'],
};

/**
 * The matmul of a shape class's representative shape, as the template emits it for
 * `variant`. A `tn` product is timed as training uses it: a weight gradient xᵀ·g with
 * its bias gradient as an extra row, stored through an epilogue.
 */
export function representativeMatmul(shapeClass: MatmulShapeClass, variant: MatmulVariant, limits: KernelLimits): TimedKernel & { flops: number } {
  const [size, layout] = shapeClass.split('-') as [keyof typeof REPRESENTATIVE_SHAPES, string];
  const { m, k, n } = REPRESENTATIVE_SHAPES[size];
  const weightGradient = layout === 'tn';
  const rows = weightGradient ? m + 1 : m;
  const [spec] = matmulKernel({
    name: `tune_${size}_${layout}`,
    header: [`autotune: ${shapeClass}`],
    limits,
    dtype: 'f32',
    ids: [0, 1, 2],
    dims: [],
    batch: [],
    m,
    k,
    n,
    transposeA: layout[0] === 't',
    transposeB: layout[1] === 't',
    batchStridesA: [],
    batchStridesB: [],
    variant,
    ...(weightGradient ? { epilogue: STORING_EPILOGUE, onesRow: true } : {}),
  });
  return { ...spec!, workgroups: staticCounts(spec!.workgroups), bindingBytes: [m * k * 4, k * n * 4, rows * n * 4], flops: 2 * rows * k * n };
}

/** A sum over a reduction class's representative rows, with the given strategy. */
export function representativeReduction(shapeClass: ReduceShapeClass, strategy: ReduceStrategy, limits: KernelLimits): TimedKernel & { bytes: number } {
  const { outputs, group } = REDUCE_REPRESENTATIVES[shapeClass];
  const [spec] = reduceKernel({
    name: `tune_${shapeClass.replace('-', '_')}_${strategy}`,
    header: [`autotune: ${shapeClass}`],
    limits,
    reducer: sumReducer,
    ids: [0, 1],
    shape: [outputs, group],
    dtype: 'f32',
    axes: [1],
    strategy,
  });
  return { ...spec!, workgroups: staticCounts(spec!.workgroups), bindingBytes: [outputs * group * 4, outputs * 4], bytes: outputs * group * 4 };
}

/** The workgroup counts of a kernel emitted for static shapes (each a number). */
function staticCounts(counts: readonly unknown[]): [number, number, number] {
  if (!counts.every((n): n is number => typeof n === 'number')) throw new Error(`autotune: a representative kernel has a symbolic workgroup count ${JSON.stringify(counts)}; its shapes must be static.`);
  return counts as [number, number, number];
}

const cache = new Map<string, Promise<TuningTable>>();

/**
 * Times every candidate variant on each shape class and returns the fastest per class
 * (the default unless another beats it by `margin`). Cached per adapter and options: a
 * second call for the same adapter returns the same table without timing.
 */
const AUTOTUNE_OPTION_KEYS = ['classes', 'candidates', 'reduceClasses', 'repeats', 'runMs', 'margin'];

export function autotune(gpu: KilnDevice, options: AutotuneOptions = {}): Promise<TuningTable> {
  if (gpu === null || typeof gpu !== 'object' || !gpu.device || !gpu.adapter) {
    throw new ArgumentError(`autotune: expected the device requestDevice() returned, got ${gpu === null ? 'null' : typeof gpu}.`);
  }
  checkKeys('autotune', options, AUTOTUNE_OPTION_KEYS);
  const { device } = gpu;
  const limits = kernelLimits(device.limits);
  const classes = options.classes ?? DEFAULT_TUNED_CLASSES;
  const reduceClasses = options.reduceClasses ?? (Object.keys(DEFAULT_REDUCE_STRATEGY) as ReduceShapeClass[]);
  const given = options.candidates ?? MATMUL_CANDIDATES;
  const candidates = [DEFAULT_MATMUL_VARIANT, ...given.filter((v) => !sameVariant(v, DEFAULT_MATMUL_VARIANT))].filter((v) => variantFits(v, limits));
  const repeats = options.repeats ?? 3;
  if (!Number.isInteger(repeats) || repeats < 1) throw new ArgumentError(`autotune: repeats must be a positive integer, got ${repeats}.`);
  const adapter = adapterKey(gpu.adapter.info);
  const key = JSON.stringify([adapter, limits, classes, reduceClasses, candidates.map(variantName), repeats, options.runMs, options.margin]);
  let table = cache.get(key);
  if (!table) {
    const timing = { repeats, runMs: options.runMs ?? 20 };
    table = measure(device, adapter, limits, { classes, candidates, reduceClasses }, timing, options.margin ?? 0.1);
    // A failed run is not cached, so the caller can try again.
    table.catch(() => cache.delete(key));
    cache.set(key, table);
  }
  return table;
}

/** The fastest, unless it beats `fallback` by less than `margin` (then `fallback`). */
function fastest(rates: Readonly<Record<string, number>>, fallback: string, margin: number): string {
  let best = fallback;
  for (const [name, rate] of Object.entries(rates)) {
    if (rate > rates[best]! && rate > rates[fallback]! * (1 + margin)) best = name;
  }
  return best;
}

/**
 * Which of `kernels` (named by `names`, `names[0]` the default) wins: the fastest by
 * `margin` in a first round, confirmed against the default in a second, longer one, so
 * a burst of load elsewhere during the first round does not crown a slower kernel.
 * Returns the winner and every kernel's rate (`work` units per ms, from the first round).
 */
export async function race(
  device: GPUDevice,
  kernels: readonly TimedKernel[],
  names: readonly string[],
  work: (i: number) => number,
  timing: { repeats: number; runMs: number },
  margin: number,
): Promise<{ winner: string; rates: Record<string, number> }> {
  const times = await timeKernels(device, kernels, timing);
  const rates: Record<string, number> = {};
  names.forEach((name, i) => {
    rates[name] = Number((work(i) / times[i]!).toPrecision(4));
  });
  const first = fastest(rates, names[0]!, margin);
  if (first === names[0]) return { winner: first, rates };
  const challenger = names.indexOf(first);
  const [again, challenged] = await timeKernels(device, [kernels[0]!, kernels[challenger]!], { ...timing, repeats: 2 * timing.repeats });
  const confirmed = work(challenger) / challenged! > (work(0) / again!) * (1 + margin);
  return { winner: confirmed ? first : names[0]!, rates };
}

async function measure(
  device: GPUDevice,
  adapter: string,
  limits: KernelLimits,
  what: { classes: readonly MatmulShapeClass[]; candidates: readonly MatmulVariant[]; reduceClasses: readonly ReduceShapeClass[] },
  timing: { repeats: number; runMs: number },
  margin: number,
): Promise<TuningTable> {
  const matmul: Partial<Record<MatmulShapeClass, string>> = {};
  const measuredMatmul: Partial<Record<MatmulShapeClass, Record<string, number>>> = {};
  for (const shapeClass of what.classes) {
    // The class's default first: it is the one a challenger must beat.
    const fallback = defaultVariantFor(shapeClass);
    const variants = [fallback, ...what.candidates.filter((v) => !sameVariant(v, fallback))].filter((v) => variantFits(v, limits));
    const kernels = variants.map((variant) => representativeMatmul(shapeClass, variant, limits));
    // GFLOP/s: flops per ms / 1e6.
    const { winner, rates } = await race(device, kernels, variants.map(variantName), (i) => kernels[i]!.flops / 1e6, timing, margin);
    matmul[shapeClass] = winner;
    measuredMatmul[shapeClass] = rates;
  }
  const reduce: Partial<Record<ReduceShapeClass, ReduceStrategy>> = {};
  const measuredReduce: Partial<Record<ReduceShapeClass, Partial<Record<ReduceStrategy, number>>>> = {};
  for (const shapeClass of what.reduceClasses) {
    // The class's default first: it is the one a challenger must beat.
    const strategies: ReduceStrategy[] = DEFAULT_REDUCE_STRATEGY[shapeClass] === 'tree' ? ['tree', 'perOutput'] : ['perOutput', 'tree'];
    const kernels = strategies.map((strategy) => representativeReduction(shapeClass, strategy, limits));
    // GB/s: bytes per ms / 1e6.
    const { winner, rates } = await race(device, kernels, strategies, (i) => kernels[i]!.bytes / 1e6, timing, margin);
    reduce[shapeClass] = winner as ReduceStrategy;
    measuredReduce[shapeClass] = rates;
  }
  return { format: TUNING_FORMAT, version: TUNING_VERSION, adapter, matmul, reduce, measured: { matmul: measuredMatmul, reduce: measuredReduce } };
}
