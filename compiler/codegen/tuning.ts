/**
 * Kernel variants and the tuning table that picks among them. The best kernel for
 * SwiftShader (a CPU) is not the best for a discrete GPU, so kiln times a few variants
 * on the user's adapter once per shape class (`autotune` in tune/autotune.ts) and
 * records the winners in a `TuningTable`: plain JSON the user can save and pass back to
 * `compile(program, { tuning })`. Without a table every kernel uses its default: the
 * 8×8 matmul for large products and the 4×4 one for the rest, and the workgroup tree
 * for long reductions or few outputs.
 *
 * Measured on SwiftShader (bench/kernels.ts), the two can differ by 50×: a tree over
 * 1024 rows of 1024 spends its time in barriers, which a CPU runs as context switches.
 */

import { ArgumentError } from '../errors.js';
import type { KernelLimits } from '../limits.js';
import { maxWorkgroupWidth } from '../limits.js';

/**
 * One way of running a matmul: `rows` × `cols` outputs per invocation (cols in vec4s, so
 * 4 or 8) and `workgroupSize` invocations per workgroup.
 */
export interface MatmulVariant {
  readonly rows: 1 | 2 | 4 | 8;
  readonly cols: 4 | 8;
  readonly workgroupSize: 64 | 128 | 256;
}

/** The base kernel: 4×4 outputs per invocation, 64 invocations. Its kernels carry no variant suffix. */
export const DEFAULT_MATMUL_VARIANT: MatmulVariant = { rows: 4, cols: 4, workgroupSize: 64 };

/**
 * What a large product runs without a tuning table: 8×8 outputs per invocation load 16
 * values per step of k for 64 multiply-adds (4×4: 8 for 16). On SwiftShader, where every
 * load an invocation makes is a per-lane gather, that is 1.3–1.5× the 4×4 throughput
 * (1024³, the MLP's fc1 forward and weight gradient; bench/kernels.ts); a large product
 * still has ≥ 256 invocations, enough for a GPU too. Small and skinny products keep 4×4
 * blocks, which give a GPU more invocations; 16×16 blocks spill their accumulators and
 * lose to 8×8 on SwiftShader.
 */
export const LARGE_MATMUL_VARIANT: MatmulVariant = { rows: 8, cols: 8, workgroupSize: 64 };

/**
 * The variants the autotuner times: smaller blocks (more invocations for small outputs),
 * larger blocks (more reuse of each load), larger workgroups (more sharing of a and b
 * between neighbours, fewer workgroups to schedule).
 */
export const MATMUL_CANDIDATES: readonly MatmulVariant[] = [
  DEFAULT_MATMUL_VARIANT,
  { rows: 2, cols: 4, workgroupSize: 64 },
  { rows: 8, cols: 4, workgroupSize: 64 },
  { rows: 4, cols: 8, workgroupSize: 64 },
  { rows: 8, cols: 8, workgroupSize: 64 },
  { rows: 4, cols: 4, workgroupSize: 128 },
  { rows: 4, cols: 4, workgroupSize: 256 },
];

/** `b8x4_w64`: the block (rows × cols) and the workgroup size. */
export function variantName(v: MatmulVariant): string {
  return `b${v.rows}x${v.cols}_w${v.workgroupSize}`;
}

const VARIANT_PATTERN = /^b([1248])x([48])_w(64|128|256)$/;

/** The variant a name stands for; throws an ArgumentError naming the accepted form otherwise. */
export function parseVariant(name: string): MatmulVariant {
  const match = VARIANT_PATTERN.exec(name);
  if (!match) {
    throw new ArgumentError(
      `tuning: '${name}' is not a matmul variant. Fix: use b<rows>x<cols>_w<size> with rows 1, 2, 4 or 8, cols 4 or 8 ` +
        `and size 64, 128 or 256 (e.g. ${variantName(DEFAULT_MATMUL_VARIANT)}), or run autotune again.`,
    );
  }
  return { rows: Number(match[1]) as MatmulVariant['rows'], cols: Number(match[2]) as MatmulVariant['cols'], workgroupSize: Number(match[3]) as MatmulVariant['workgroupSize'] };
}

/** Whether two variants are the same. */
export function sameVariant(a: MatmulVariant, b: MatmulVariant): boolean {
  return a.rows === b.rows && a.cols === b.cols && a.workgroupSize === b.workgroupSize;
}

/** A matmul as the tuner classifies it. */
export interface MatmulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Matrices in the batch (1 for a plain matrix product). */
  readonly batch: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

export type MatmulSize = 'small' | 'skinny' | 'large';
export type MatmulLayout = 'nn' | 'tn' | 'nt' | 'tt';
/** `large-tn`: the size class, then whether a and b are stored transposed (a weight gradient xᵀ·g is `tn`). */
export type MatmulShapeClass = `${MatmulSize}-${MatmulLayout}`;

/** At most this many outputs (512 default blocks, 8 workgroups): too few to fill a GPU with 4×4 blocks. */
const SMALL_OUTPUTS = 8192;
/** A matrix this narrow (a matrix–vector-like product) leaves most of a square block idle. */
const SKINNY_DIM = 8;

/** The shape class of a matmul: its size (small output, skinny, large) and its operands' layouts. */
export function matmulShapeClass(s: MatmulShape): MatmulShapeClass {
  const size: MatmulSize = s.batch * s.m * s.n <= SMALL_OUTPUTS ? 'small' : Math.min(s.m, s.n) <= SKINNY_DIM ? 'skinny' : 'large';
  return `${size}-${s.transposeA ? 't' : 'n'}${s.transposeB ? 't' : 'n'}`;
}

/** The shape the autotuner times for each size class (dims multiples of 4, so operands load as vec4). */
export const REPRESENTATIVE_SHAPES: Readonly<Record<MatmulSize, Pick<MatmulShape, 'm' | 'k' | 'n'>>> = {
  small: { m: 64, k: 256, n: 64 },
  skinny: { m: 2048, k: 256, n: 8 },
  large: { m: 256, k: 256, n: 256 },
};

/** The classes tuned by default: every size, in the three layouts a training step uses (forward, input and weight gradients). */
export const DEFAULT_TUNED_CLASSES: readonly MatmulShapeClass[] = (['small', 'skinny', 'large'] as const).flatMap((size) =>
  (['nn', 'nt', 'tn'] as const).map((layout): MatmulShapeClass => `${size}-${layout}`),
);

export const TUNING_FORMAT = 'kiln-tuning';
export const TUNING_VERSION = 1;

/** How a reduction runs: one invocation per output, or a workgroup tree per output (or per few outputs). */
export type ReduceStrategy = 'tree' | 'perOutput';
/** Group length (long ≥ 256, medium ≥ 64) and output count (few < 64, many). Shorter groups always take one invocation each. */
export type ReduceShapeClass = `${'long' | 'medium'}-${'few' | 'many'}`;

const LONG_GROUP = 256;
const MEDIUM_GROUP = 64;
/** Fewer outputs than one 64-invocation workgroup: one invocation per output would leave most of the GPU idle. */
export const FEW_OUTPUTS = 64;

/** The shape class of a reduction; undefined for groups too short for a tree to pay. */
export function reduceShapeClass(groupSize: number, outSize: number): ReduceShapeClass | undefined {
  if (groupSize < MEDIUM_GROUP) return undefined;
  return `${groupSize >= LONG_GROUP ? 'long' : 'medium'}-${outSize < FEW_OUTPUTS ? 'few' : 'many'}`;
}

/** What a GPU wants: a tree for long groups, or for medium ones when there are too few outputs to fill it. */
export const DEFAULT_REDUCE_STRATEGY: Readonly<Record<ReduceShapeClass, ReduceStrategy>> = {
  'long-few': 'tree',
  'long-many': 'tree',
  'medium-few': 'tree',
  'medium-many': 'perOutput',
};

/** The reductions the autotuner times per class: `outputs` rows of `group` contiguous elements. */
export const REDUCE_REPRESENTATIVES: Readonly<Record<ReduceShapeClass, { readonly outputs: number; readonly group: number }>> = {
  'long-few': { outputs: 1, group: 262144 },
  'long-many': { outputs: 256, group: 1024 },
  'medium-few': { outputs: 8, group: 128 },
  'medium-many': { outputs: 4096, group: 128 },
};

/** What `autotune` measured on one adapter: plain JSON, to save and pass to `compile`. */
export interface TuningTable {
  readonly format: typeof TUNING_FORMAT;
  readonly version: typeof TUNING_VERSION;
  /** The adapter it was measured on (`vendor | architecture | device | description`). */
  readonly adapter: string;
  /** The variant (`variantName`) each shape class uses; classes not listed use the default. */
  readonly matmul: Readonly<Partial<Record<MatmulShapeClass, string>>>;
  /** The strategy each reduction class uses; classes not listed use DEFAULT_REDUCE_STRATEGY. */
  readonly reduce?: Readonly<Partial<Record<ReduceShapeClass, ReduceStrategy>>>;
  /** Informative: GFLOP/s of every matmul variant and GB/s of every reduction strategy timed, per class. */
  readonly measured?: {
    readonly matmul?: Readonly<Partial<Record<MatmulShapeClass, Readonly<Record<string, number>>>>>;
    readonly reduce?: Readonly<Partial<Record<ReduceShapeClass, Readonly<Partial<Record<ReduceStrategy, number>>>>>>;
  };
}

/** The key a tuning table is cached under: the adapter's identity as WebGPU reports it. */
export function adapterKey(info: { readonly vendor: string; readonly architecture: string; readonly device?: string; readonly description: string }): string {
  return [info.vendor, info.architecture, info.device ?? '', info.description].join(' | ');
}

/** Whether a variant fits the device: its (1-D) workgroup within the invocation and width limits. */
export function variantFits(v: MatmulVariant, limits: Pick<KernelLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'>): boolean {
  return v.workgroupSize <= maxWorkgroupWidth(limits);
}

/**
 * Checks a tuning table (e.g. parsed from a saved file) and returns it typed; throws an
 * ArgumentError naming what is wrong.
 */
export function checkTuningTable(value: unknown): TuningTable {
  const table = value as Partial<TuningTable> | null;
  if (typeof table !== 'object' || table === null || table.format !== TUNING_FORMAT || table.version !== TUNING_VERSION) {
    throw new ArgumentError(
      `tuning: not a kiln tuning table (format '${TUNING_FORMAT}', version ${TUNING_VERSION}). Fix: pass what autotune(device) returned, or run it again.`,
    );
  }
  if (typeof table.adapter !== 'string' || typeof table.matmul !== 'object' || table.matmul === null) {
    throw new ArgumentError(`tuning: the table needs 'adapter' (a string) and 'matmul' (shape class → variant). Fix: run autotune(device) again.`);
  }
  const classes = new Set<string>((['small', 'skinny', 'large'] as const).flatMap((s) => (['nn', 'tn', 'nt', 'tt'] as const).map((l) => `${s}-${l}`)));
  for (const [shapeClass, name] of Object.entries(table.matmul)) {
    if (!classes.has(shapeClass)) {
      throw new ArgumentError(`tuning: unknown matmul shape class '${shapeClass}'. Fix: use one of ${[...classes].join(', ')}.`);
    }
    parseVariant(String(name));
  }
  for (const [shapeClass, strategy] of Object.entries(table.reduce ?? {})) {
    if (!(shapeClass in DEFAULT_REDUCE_STRATEGY) || (strategy !== 'tree' && strategy !== 'perOutput')) {
      throw new ArgumentError(
        `tuning: reduce entry '${shapeClass}': '${String(strategy)}' is not valid. Fix: map ${Object.keys(DEFAULT_REDUCE_STRATEGY).join(', ')} to 'tree' or 'perOutput'.`,
      );
    }
  }
  return table as TuningTable;
}

/** The variant a shape class runs without a tuning table (and the one a tuned variant must beat). */
export function defaultVariantFor(shapeClass: MatmulShapeClass): MatmulVariant {
  return shapeClass.startsWith('large-') ? LARGE_MATMUL_VARIANT : DEFAULT_MATMUL_VARIANT;
}

/**
 * The variant a matmul of this shape uses: the table's choice for its class, if any and
 * if it fits the device; otherwise its class's default.
 */
export function matmulVariantFor(tuning: TuningTable | undefined, shape: MatmulShape, limits: KernelLimits): MatmulVariant {
  const shapeClass = matmulShapeClass(shape);
  const name = tuning ? checkTuningTable(tuning).matmul[shapeClass] : undefined;
  if (name === undefined) return defaultVariantFor(shapeClass);
  const variant = parseVariant(name);
  return variantFits(variant, limits) ? variant : defaultVariantFor(shapeClass);
}

/** How a reduction of `outSize` groups of `groupSize` elements runs: the table's choice for its class, or the default. */
export function reduceStrategyFor(tuning: TuningTable | undefined, groupSize: number, outSize: number): ReduceStrategy {
  const shapeClass = reduceShapeClass(groupSize, outSize);
  if (shapeClass === undefined) return 'perOutput';
  return (tuning ? checkTuningTable(tuning).reduce?.[shapeClass] : undefined) ?? DEFAULT_REDUCE_STRATEGY[shapeClass];
}
