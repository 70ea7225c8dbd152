/**
 * The benchmark's workloads: what each one computes, its shapes, and how the systems'
 * results are compared. Every system implements a workload from the same description
 * and the same data (bench/data.ts), so their figures measure the same computation.
 */

export type WorkloadId = 'mlp-train' | 'mlp-infer' | 'matmul-128x784x128' | 'matmul-512' | 'matmul-1024';

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
  readonly matmul?: MatmulShape;
}

function matmulWorkload(id: WorkloadId, label: string, shape: MatmulShape, slow = false): Workload {
  return { id, label, flops: 2 * shape.m * shape.k * shape.n, compare: 'last', matmul: shape, slow };
}

/**
 * In the order they run. The MLP training step runs first, so each system's first result
 * of it is cold (no pipeline or kernel cached by an earlier workload).
 */
export const WORKLOADS: readonly Workload[] = [
  { id: 'mlp-train', label: `seed-MLP train step, batch ${MLP_BATCH}`, compare: 'every-step' },
  { id: 'mlp-infer', label: `seed-MLP inference, batch ${MLP_BATCH}`, compare: 'last' },
  matmulWorkload('matmul-128x784x128', 'matmul 128×784×128', { m: 128, k: 784, n: 128 }),
  matmulWorkload('matmul-512', 'matmul 512³', { m: 512, k: 512, n: 512 }),
  matmulWorkload('matmul-1024', 'matmul 1024³', { m: 1024, k: 1024, n: 1024 }, true),
];

/** Workloads whose ops are not in kiln yet: listed in the table, not run. */
export const PENDING_WORKLOADS: readonly { readonly label: string; readonly reason: string }[] = [
  { label: 'LeNet-style CNN train step, batch 64', reason: 'pending: conv/attention ops (issue 8)' },
  { label: 'transformer block forward+backward', reason: 'pending: conv/attention ops (issue 8)' },
];

/** Relative agreement the systems' results must reach to count as the same computation. */
export const AGREEMENT_TOLERANCE = 1e-3;
