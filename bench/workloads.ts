/**
 * The benchmark's workloads: what each one computes, its shapes, and how the systems'
 * results are compared. Every system implements a workload from the same description
 * and the same data (bench/data.ts), so their figures measure the same computation.
 */

export type WorkloadId = 'mlp-train' | 'mlp-infer' | 'lenet-train' | 'transformer-block' | 'matmul-128x784x128' | 'matmul-512' | 'matmul-1024';

/** The seed MLP (examples/models/seed-mlp.ts): 784→128→ReLU→64→ReLU→10. */
export const MLP_LAYERS = [
  { name: 'fc1', in: 784, out: 128 },
  { name: 'fc2', in: 128, out: 64 },
  { name: 'fc3', in: 64, out: 10 },
] as const;
export const MLP_BATCH = 128;
export const MLP_CLASSES = 10;
export const MLP_LR = 0.01;
export const MLP_MOMENTUM = 0.9;

/**
 * The LeNet-style CNN (examples/models/lenet.ts): conv 5×5×6 → +bias → ReLU → max-pool 2 →
 * conv 5×5×16 → +bias → ReLU → max-pool 2 → 256 → 120 → ReLU → 84 → ReLU → 10, NCHW, on
 * Fashion-MNIST images as [64, 1, 28, 28]. SGD with momentum for every system, so the
 * update rule is the same cheap one as the MLP's.
 */
export const LENET = { batch: 64, lr: 0.01, momentum: 0.9, classes: 10 } as const;
export const LENET_CONVS = [
  { name: 'conv1', in: 1, out: 6, kernel: 5 },
  { name: 'conv2', in: 6, out: 16, kernel: 5 },
] as const;
export const LENET_DENSES = [
  { name: 'fc1', in: 256, out: 120 },
  { name: 'fc2', in: 120, out: 84 },
  { name: 'fc3', in: 84, out: 10 },
] as const;

/**
 * One pre-norm decoder block (bench/transformer-block.ts): width 64, 4 heads, context 64,
 * batch 8, exact (erf) GELU as kiln's `gelu`, layer norm ε 1e-5, loss mean(y²), SGD
 * without momentum.
 */
export const BLOCK = { batch: 8, context: 64, width: 64, heads: 4, epsilon: 1e-5, lr: 0.01 } as const;
export const BLOCK_LINEARS = [
  { name: 'q', in: BLOCK.width, out: BLOCK.width },
  { name: 'k', in: BLOCK.width, out: BLOCK.width },
  { name: 'v', in: BLOCK.width, out: BLOCK.width },
  { name: 'proj', in: BLOCK.width, out: BLOCK.width },
  { name: 'up', in: BLOCK.width, out: 4 * BLOCK.width },
  { name: 'down', in: 4 * BLOCK.width, out: BLOCK.width },
] as const;
export const BLOCK_NORMS = ['norm1', 'norm2'] as const;

export interface MatmulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

export interface Workload {
  readonly id: WorkloadId;
  /** The row label in the results table. */
  readonly label: string;
  /** Floating-point operations per iteration, for GFLOP/s (matmuls only). */
  readonly flops?: number;
  /**
   * How results are compared across systems: `every-step` concatenates what each
   * iteration returns (training losses, which depend on every earlier step), `last`
   * keeps the final iteration's values (outputs of a pure function).
   */
  readonly compare: 'every-step' | 'last';
  /** Left out of `--quick` runs, to keep the smoke test short. */
  readonly slow?: boolean;
  /**
   * At most this many warm-up and timed iterations (fewer than the run's default), for a
   * workload whose slowest peer would otherwise stretch the full run by minutes.
   */
  readonly iterationCap?: { readonly warmup: number; readonly iterations: number; readonly why: string };
  /** Systems left out of this workload in `--quick` runs (each of their steps takes seconds here), with why. */
  readonly slowSystems?: Readonly<Record<string, string>>;
  readonly matmul?: MatmulShape;
}

function matmulWorkload(id: WorkloadId, label: string, shape: MatmulShape, extra: Partial<Workload> = {}): Workload {
  return { id, label, flops: 2 * shape.m * shape.k * shape.n, compare: 'last', matmul: shape, ...extra };
}

const TFJS_WEBGPU_SLOW = 'seconds per step and over 10 s to its first result on SwiftShader; the full run measures it';

/**
 * In the order they run. The MLP training step runs first, so each system's first result
 * of it is cold (no pipeline or kernel cached by an earlier workload).
 */
export const WORKLOADS: readonly Workload[] = [
  { id: 'mlp-train', label: `seed-MLP train step, batch ${MLP_BATCH}`, compare: 'every-step' },
  { id: 'mlp-infer', label: `seed-MLP inference, batch ${MLP_BATCH}`, compare: 'last' },
  { id: 'lenet-train', label: `LeNet-style CNN train step, batch ${LENET.batch}`, compare: 'every-step', slowSystems: { 'tfjs-webgpu': TFJS_WEBGPU_SLOW } },
  {
    id: 'transformer-block',
    label: `transformer block fwd+bwd+SGD, d ${BLOCK.width}, ${BLOCK.heads} heads, context ${BLOCK.context}, batch ${BLOCK.batch}`,
    compare: 'every-step',
    slowSystems: { 'tfjs-webgpu': TFJS_WEBGPU_SLOW },
  },
  matmulWorkload('matmul-128x784x128', 'matmul 128×784×128', { m: 128, k: 784, n: 128 }),
  matmulWorkload('matmul-512', 'matmul 512³', { m: 512, k: 512, n: 512 }),
  matmulWorkload('matmul-1024', 'matmul 1024³', { m: 1024, k: 1024, n: 1024 }, {
    slow: true,
    iterationCap: { warmup: 2, iterations: 10, why: 'TF.js WebGPU takes about 10 s per product on SwiftShader, so 23 rounds would add 4 minutes' },
  }),
];

/** Relative agreement the systems' results must reach to count as the same computation. */
export const AGREEMENT_TOLERANCE = 1e-3;
