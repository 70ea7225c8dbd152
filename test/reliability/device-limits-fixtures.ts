/**
 * Device limits and workloads shared by the device-limit tests: WebGPU's guaranteed
 * minimums, a tighter hypothetical device, one with almost no workgroup storage, and the
 * models and kernels that lean on each limit (kept small, so every run stays fast).
 */

import { Graph } from '../../compiler/graph.js';
import type { TrainingProgram } from '../../compiler/train.js';
import type { KernelLimits } from '../../compiler/codegen/wgsl.js';
import { DEFAULT_LIMITS } from '../../compiler/codegen/wgsl.js';
import { attention, convWeightGrad2d, cumsum, sgd, trainingProgram } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { leNet } from '../../examples/models/lenet.js';
import { charTransformerGraph } from '../../examples/models/char-transformer.js';
import { testData } from '../helpers.js';

/** The limits a simulated adapter offers. */
export interface SimulatedDevice {
  readonly name: string;
  readonly limits: KernelLimits;
}

/** WebGPU's guaranteed minimums: 8 storage buffers, 16 KiB workgroup storage, 256 invocations, 128 MiB bindings, 256 MiB buffers. */
export const SPEC_MINIMUM: SimulatedDevice = { name: "the spec's minimum limits", limits: DEFAULT_LIMITS };

/** Tighter than any WebGPU device may be: what kiln must still fit, or refuse clearly. */
export const TIGHT: SimulatedDevice = {
  name: 'tight hypothetical limits (4 storage buffers, 4 KiB workgroup storage, 64 invocations, 1 MiB bindings)',
  limits: {
    ...DEFAULT_LIMITS,
    maxStorageBuffersPerShaderStage: 4,
    maxComputeWorkgroupStorageSize: 4096,
    maxComputeInvocationsPerWorkgroup: 64,
    maxComputeWorkgroupSizeX: 64,
    maxComputeWorkgroupSizeY: 64,
    maxComputeWorkgroupSizeZ: 64,
    maxStorageBufferBindingSize: 1 << 20,
    maxBufferSize: 2 << 20,
  },
};

/** Workgroup storage for 16 floats only: trees shrink, scans and attention fall back to buffer reads. */
export const STARVED: SimulatedDevice = {
  name: '64 bytes of workgroup storage',
  limits: { ...TIGHT.limits, maxComputeWorkgroupStorageSize: 64 },
};

export type Feeds = Record<string, number[]>;

/** A training program and the feeds of each step. */
export interface TrainingWorkload {
  readonly name: string;
  readonly program: () => TrainingProgram;
  readonly feeds: (step: number) => Feeds;
}

/** A forward graph and its feeds. */
export interface GraphWorkload {
  readonly name: string;
  readonly graph: () => Graph;
  readonly feeds: Feeds;
}

const labels = (count: number, classes: number, step: number): number[] => Array.from({ length: count }, (_, i) => (i * 7 + step) % classes);

/**
 * The char transformer's graph trained by SGD with momentum: Adam's update divides by the
 * root of a tiny second moment, so a rounding difference in a near-zero gradient moves a
 * weight by up to lr either way, and two steps could not be compared closely. (LeNet's
 * training step keeps Adam's kernels covered.)
 */
function charTransformerWithSgd(): TrainingProgram {
  const { graph, logits } = charTransformerGraph({ vocab: 11, batch: 2, context: 12, width: 32, heads: 2, layers: 1, seed: 1 });
  const targets = graph.input('targets', [24], 'i32');
  return trainingProgram(graph, { loss: logits.softmaxCrossEntropy(targets), optimizer: sgd({ lr: 0.05, momentum: 0.9 }) });
}

export const TRAINING_WORKLOADS: readonly TrainingWorkload[] = [
  {
    name: 'the seed MLP (batch 8)',
    program: () => seedMlp({ batch: 8, seed: 1 }),
    feeds: (step) => ({ images: testData(8 * 784, 20 + step, 0, 1), labels: labels(8, 10, step) }),
  },
  {
    name: 'LeNet (batch 2)',
    program: () => leNet({ batch: 2, seed: 1 }),
    feeds: (step) => ({ images: testData(2 * 784, 30 + step, 0, 1), labels: labels(2, 10, step) }),
  },
  {
    name: 'the char transformer (batch 2, context 12, width 32, 2 heads, 1 layer; SGD)',
    program: charTransformerWithSgd,
    feeds: (step) => ({ tokens: labels(24, 11, step), targets: labels(24, 11, step + 1) }),
  },
];

/** Attention with d = 300, dv = 200: 2000 bytes of keys and values per key, so tiles of 8 keys in 16 KiB, 2 in 4 KiB, none in 64 bytes. */
function bigAttention(): Graph {
  const g = new Graph('big_attention');
  g.output('out', attention(g.input('q', [2, 5, 300]), g.input('k', [2, 11, 300]), g.input('v', [2, 11, 200]), { causal: true }));
  return g;
}

/** A weight gradient whose kernel (5×3 taps) and rows are no multiple of its tiles. */
function weightGradient(): Graph {
  const g = new Graph('conv_weight_grad');
  const x = g.input('x', [3, 4, 13, 11]);
  const dy = g.input('dy', [3, 6, 6, 9]);
  g.output('dw', convWeightGrad2d(x, dy, { kernelSize: [5, 3], stride: [2, 1], padding: [1, 0] }));
  return g;
}

/** Cumulative sums along long axes (past the 256 that take a workgroup), forward and reversed, with a long reduction. */
function longScans(): Graph {
  const g = new Graph('long_scans');
  const x = g.input('x', [3, 1000]);
  const y = g.input('y', [700, 2]);
  g.output('along_rows', cumsum(x, 1));
  g.output('down_columns', cumsum(y, 0, { exclusive: true, reverse: true }));
  g.output('row_sums', x.sum([1]));
  g.output('row_argmax', x.argmax(1));
  return g;
}

export const GRAPH_WORKLOADS: readonly GraphWorkload[] = [
  {
    name: 'causal attention with d = 300, dv = 200',
    graph: bigAttention,
    feeds: { q: testData(2 * 5 * 300, 41, -0.1, 0.1), k: testData(2 * 11 * 300, 42, -0.1, 0.1), v: testData(2 * 11 * 200, 43) },
  },
  { name: 'a 5×3 conv weight gradient', graph: weightGradient, feeds: { x: testData(3 * 4 * 13 * 11, 51), dy: testData(3 * 6 * 6 * 9, 52) } },
  { name: 'cumsum over 1000 and 700 elements, a sum and an argmax over 1000', graph: longScans, feeds: { x: testData(3000, 61), y: testData(1400, 62) } },
];
