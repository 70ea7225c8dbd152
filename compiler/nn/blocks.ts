/**
 * Normalization, dropout, attention and composition layers, built as layers.ts's are: a
 * constructor with PyTorch's arguments that creates the params (PyTorch's names and
 * initial values) and returns the layer with its params as fields.
 */

import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { checkKeys, checkNumber } from '../ops/args.js';
import { attention } from '../ops/attention.js';
import type { BatchNormLayerOptions } from '../ops/norm.js';
import { batchNorm as normalizeBatch, layerNorm as normalizeLayer, rmsNorm as normalizeRms } from '../ops/norm.js';
import type { DropoutOptions } from '../ops/random.js';
import { dropout as drop } from '../ops/random.js';
import { requireTensor } from '../ops/lift.js';
import type { Layer, Linear } from './layers.js';
import { layerName, linear } from './layers.js';
import { inLayer, scope } from './scope.js';

export interface BatchNorm extends Layer {
  /** `[C]`, ones: `name.weight` (the scale γ). */
  readonly weight: Tensor;
  /** `[C]`, zeros: `name.bias` (the shift β). */
  readonly bias: Tensor;
  /** `[C]` state, zeros: `name.running_mean`. */
  readonly runningMean: Tensor;
  /** `[C]` state, ones: `name.running_var`. */
  readonly runningVar: Tensor;
}

/**
 * PyTorch's `nn.BatchNorm1d/2d(channels)`: normalizes with the batch's statistics in a
 * training step (and updates the running ones), with the running statistics in forward.
 * Apply it once per graph: its running statistics take one update per step.
 */
export function batchNorm(graph: Graph, name: string, channels: number, options: BatchNormLayerOptions = {}): BatchNorm {
  const path = layerName('nn.batchNorm', graph, name, { channels });
  checkKeys('nn.batchNorm', options, ['momentum', 'epsilon', 'axis']);
  const params = inLayer(graph, path, () =>
    graph.atomically(() => ({
      weight: graph.param(`${path}.weight`, [channels], { init: 'ones' }),
      bias: graph.param(`${path}.bias`, [channels]),
      runningMean: graph.state(`${path}.running_mean`, [channels]),
      runningVar: graph.state(`${path}.running_var`, [channels], { init: 'ones' }),
    })),
  );
  const { weight: gamma, bias: beta, runningMean, runningVar } = params;
  return Object.assign((x: Tensor) => inLayer(graph, path, () => normalizeBatch(x, { gamma, beta, runningMean, runningVar, ...options })), params);
}

export interface NormOptions {
  /** Added to the variance (the mean square) before the square root. Default 1e-5. */
  epsilon?: number;
  /** Whether the layer has its scale (and, for layerNorm, shift) params. Default true. */
  elementwiseAffine?: boolean;
}

export interface Norm extends Layer {
  /** Ones, shaped as the normalized axes: `name.weight`. */
  readonly weight?: Tensor;
  /** Zeros (layerNorm only): `name.bias`. */
  readonly bias?: Tensor;
}

function normShape(where: string, shape: number | readonly number[]): number[] {
  const list = typeof shape === 'number' ? [shape] : Array.isArray(shape) ? [...(shape as readonly number[])] : undefined;
  if (!list || list.length === 0) throw new ArgumentError(`${where}: normalizedShape must be a size or a non-empty list of sizes (the last axes of x), got ${String(shape)}.`);
  list.forEach((d) => checkNumber(where, 'normalizedShape', d, { min: 1, integer: true }));
  return list;
}

function norm(kind: 'layerNorm' | 'rmsNorm', graph: Graph, name: string, shape: number | readonly number[], options: NormOptions): Norm {
  const where = `nn.${kind}`;
  const path = layerName(where, graph, name, {});
  checkKeys(where, options, ['epsilon', 'elementwiseAffine']);
  const dims = normShape(where, shape);
  const affine = options.elementwiseAffine ?? true;
  if (typeof affine !== 'boolean') throw new ArgumentError(`${where}: elementwiseAffine must be a boolean, got ${String(affine)}.`);
  const { weight, bias } = inLayer(graph, path, () =>
    graph.atomically(() => ({
      weight: affine ? graph.param(`${path}.weight`, dims, { init: 'ones' }) : undefined,
      bias: affine && kind === 'layerNorm' ? graph.param(`${path}.bias`, dims) : undefined,
    })),
  );
  const params = { ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) };
  const axes = dims.map((_, i) => i - dims.length);
  const common = { axes, ...(options.epsilon === undefined ? {} : { epsilon: options.epsilon }), ...(weight ? { gamma: weight } : {}) };
  const apply = (x: Tensor): Tensor =>
    inLayer(graph, path, () => (kind === 'layerNorm' ? normalizeLayer(x, { ...common, ...(bias ? { beta: bias } : {}) }) : normalizeRms(x, common)));
  return Object.assign(apply, params);
}

/** PyTorch's `nn.LayerNorm(normalizedShape)`: over the last axes, with `name.weight` (ones) and `name.bias` (zeros). */
export function layerNorm(graph: Graph, name: string, normalizedShape: number | readonly number[], options: NormOptions = {}): Norm {
  return norm('layerNorm', graph, name, normalizedShape, options);
}

/** PyTorch's `nn.RMSNorm(normalizedShape)`: over the last axes, with `name.weight` (ones). Epsilon defaults to 1e-5. */
export function rmsNorm(graph: Graph, name: string, normalizedShape: number | readonly number[], options: NormOptions = {}): Norm {
  return norm('rmsNorm', graph, name, normalizedShape, options);
}

/** PyTorch's `nn.Dropout(rate)`: zeroes elements with probability `rate` in training steps, the identity in forward. */
export function dropout(rate: number, options: DropoutOptions = {}): Layer {
  checkNumber('nn.dropout', 'rate', rate, { min: 0, max: 1, maxExclusive: true });
  checkKeys('nn.dropout', options, ['name']);
  return (x) => drop(x, rate, options);
}

export interface MultiHeadAttentionOptions {
  /** Each query attends only to keys at or before its position (a decoder). Default false. */
  causal?: boolean;
  /** Whether the four projections add a bias. Default true. */
  bias?: boolean;
}

export interface MultiHeadAttention {
  /** Self-attention over x [batch, length, dim]; with `context` [batch, lengthKv, dim], attention to it (cross-attention). */
  (x: Tensor, context?: Tensor): Tensor;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
}

/**
 * Multi-head scaled dot-product attention (PyTorch's `nn.MultiheadAttention` with
 * `batch_first`, its projections as four linear layers `name.q`, `name.k`, `name.v`,
 * `name.out`): `dim` split into `heads` heads of dim/heads, attention (one fused kernel)
 * per head, then the output projection.
 */
export function multiHeadAttention(graph: Graph, name: string, dim: number, heads: number, options: MultiHeadAttentionOptions = {}): MultiHeadAttention {
  const path = layerName('nn.multiHeadAttention', graph, name, { dim, heads });
  checkKeys('nn.multiHeadAttention', options, ['causal', 'bias']);
  if (dim % heads !== 0) throw new ArgumentError(`nn.multiHeadAttention '${path}': dim ${dim} must be a multiple of heads ${heads}; each head gets dim/heads features.`);
  const causal = options.causal ?? false;
  const bias = { bias: options.bias ?? true };
  const [q, k, v, out] = scope(graph, name, () => ['q', 'k', 'v', 'out'].map((part) => linear(graph, part, dim, dim, bias))) as [Linear, Linear, Linear, Linear];
  // Rows [batch·length, dim] (so the projections are 2-D matrix products) ↔ [batch, heads, length, dim/heads].
  const rows = (x: Tensor): Tensor => x.reshape([-1, dim]);
  const split = (projected: Tensor, like: Tensor): Tensor => projected.reshape([like.shape[0]!, like.shape[1]!, heads, dim / heads]).transpose([0, 2, 1, 3]);
  const apply = (x: Tensor, context?: Tensor): Tensor => {
    requireTensor(`nn.multiHeadAttention '${path}'`, x);
    if (x.rank !== 3) throw new ArgumentError(`nn.multiHeadAttention '${path}': x must be [batch, length, dim], got ${x.toString()}.`);
    return inLayer(graph, path, () => {
      const source = context ?? x;
      const queries = rows(x);
      const keys = context === undefined ? queries : rows(source);
      const y = attention(split(q(queries), x), split(k(keys), source), split(v(keys), source), { causal });
      return out(rows(y.transpose([0, 2, 1, 3]))).reshape(x.shape);
    });
  };
  return Object.assign(apply, { q, k, v, out });
}

/** Layers applied in order, as PyTorch's `nn.Sequential`: `sequential(fc1, relu, fc2)(x)` is fc2(relu(fc1(x))). */
export function sequential(...layers: readonly Layer[]): Layer {
  layers.forEach((layer, i) => {
    if (typeof layer !== 'function') throw new ArgumentError(`nn.sequential: layer ${i} must be a function of a tensor (a layer), got ${typeof layer}.`);
  });
  return (x) => layers.reduce((h, layer) => layer(h), x);
}

/** Activations and flatten as layers, for `sequential`. */
export const relu: Layer = (x) => x.relu();
export const gelu: Layer = (x) => x.gelu();
export const tanh: Layer = (x) => x.tanh();
export const sigmoid: Layer = (x) => x.sigmoid();
/** [N, ...] → [N, product of the rest], as PyTorch's `nn.Flatten()`. */
export const flatten: Layer = (x) => x.reshape([x.shape[0]!, -1]);
