/**
 * Normalization layers, by composition of existing ops (so their gradients, fusion and
 * lowering come for free): layer norm, RMS norm and batch norm.
 *
 * The variance is the mean of squared deviations, mean((x − mean(x))²), never
 * E[x²] − E[x]²: at inputs near 1e4 the latter subtracts two numbers near 1e8 that f32
 * holds to within 8, and a variance of order 1 is lost (or comes out negative).
 *
 * Batch norm switches on the entry's mode (`modeSelect`): a training step normalizes
 * with the batch's statistics and updates the running averages (`graph.assign`, applied
 * by every trainStep); a forward pass normalizes with the running averages.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import { checkName } from '../names.js';
import { checkKeys, checkNumber } from './args.js';
import type { Dim } from '../dims.js';
import { dimProduct } from '../dims.js';
import type { TensorType } from '../shape.js';
import { formatShape, formatType, normalizeAxes, normalizeAxis, sameShape, staticDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, div, mul, sub } from './binary.js';
import { dimSize } from './dim-size.js';
import { requireTensor } from './lift.js';
import { modeSelect } from './mode.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';
import { rsqrt, square } from './unary.js';

export interface LayerNormOptions {
  /** The axes normalized over (each slice along them gets mean 0, variance 1). Default: the last. */
  axes?: number | readonly number[];
  /** Added to the variance before the square root. Default 1e-5 (PyTorch's). */
  epsilon?: number;
  /** Scale, shaped as the normalized axes (e.g. [C] for the last axis of [N, C]). */
  gamma?: Tensor;
  /** Shift, shaped as gamma. */
  beta?: Tensor;
}

export type RmsNormOptions = Omit<LayerNormOptions, 'beta'>;

function requireF32(op: string, operands: readonly TensorType[], what: string, t: TensorType): void {
  if (t.dtype !== 'f32') {
    throw opError(DTypeError, op, operands, `${what} must be f32, got ${t.dtype}`, "cast it with .cast('f32')");
  }
}

const checkEpsilon = (op: string, epsilon: unknown): number => checkNumber(op, 'epsilon', epsilon ?? 1e-5, { min: 0, minExclusive: true });

/** Checks an affine operand (gamma, beta, a running statistic): an f32 tensor of x's graph shaped as x on `axes`. */
function checkAffine(op: string, x: Tensor, what: string, t: unknown, axes: readonly number[]): Tensor {
  const operand = requireTensor(op, t, what);
  if (operand.graph !== x.graph) {
    throw new ArgumentError(`${op}: ${what} ${operand.toString()} belongs to graph '${operand.graph.name}', not to x's graph '${x.graph.name}'.`);
  }
  const operands = [x.node, operand.node];
  requireF32(op, operands, what, operand.node);
  const expected = axes.map((a) => x.shape[a]!);
  if (!sameShape(operand.shape, expected)) {
    const problem = `${what} must have shape ${formatShape(expected)} (x's size on axes ${formatShape(axes)}), got ${formatShape(operand.shape)}`;
    throw opError(ShapeError, op, operands, problem, `declare ${what} with shape ${formatShape(expected)}`);
  }
  return operand;
}

/** A checked affine operand reshaped to broadcast against x (size 1 on the axes it does not span). */
function spread(x: Tensor, operand: Tensor, axes: readonly number[]): Tensor {
  return reshape(operand, x.shape.map((d, i) => (axes.includes(i) ? d : 1)));
}

/** The axes a layer/RMS norm normalizes over, normalized; at least one. */
function normalizedAxes(op: string, x: Tensor, axes: LayerNormOptions['axes']): number[] {
  const list = typeof axes === 'number' ? [axes] : axes ?? [-1];
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'number' || !Number.isInteger(a))) {
    throw new ArgumentError(`${op}: axes must be an integer or a list of integers, got ${String(axes)}.`);
  }
  if (list.length === 0) {
    throw opError(ArgumentError, op, [x.node], 'axes is empty, so there is nothing to normalize over', 'name at least one axis (the default is the last)');
  }
  const normalized = normalizeAxes(op, [x.node], list as number[], x.rank);
  // Normalized axes are what gamma and beta (params, always static) span: a symbolic one is refused by name.
  for (const a of normalized) staticDim(op, x.shape[a]!, `axis ${a} is normalized over, and normalized axes must be static (they are the shape of gamma and beta)`);
  return normalized;
}

/** Checks x and the options shared by layerNorm and rmsNorm; returns the normalized axes. */
function checkNormCall(op: string, x: Tensor, options: LayerNormOptions, known: readonly string[]): number[] {
  requireTensor(op, x);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${op}: options must be an object, got ${String(options)}.`);
  checkKeys(op, options, known);
  requireF32(op, [x.node], 'the operand', x.node);
  return normalizedAxes(op, x, options.axes);
}

/** (x − mean)·rsqrt(variance + ε), given the deviations x − mean and the variance (kept dims). */
function standardize(deviation: Tensor, variance: Tensor, epsilon: number): Tensor {
  return mul(deviation, rsqrt(add(variance, epsilon)));
}

/**
 * Layer normalization: over `axes` (default the last), (x − mean)/√(variance + ε), then
 * ·gamma + beta when given. The variance is the biased one (divided by the count), as in
 * PyTorch's `LayerNorm`. f32 only.
 */
export function layerNorm(x: Tensor, options: LayerNormOptions = {}): Tensor {
  const axes = checkNormCall('layerNorm', x, options, ['axes', 'epsilon', 'gamma', 'beta']);
  const epsilon = checkEpsilon('layerNorm', options.epsilon);
  const gamma = options.gamma === undefined ? undefined : checkAffine('layerNorm', x, 'gamma', options.gamma, axes);
  const beta = options.beta === undefined ? undefined : checkAffine('layerNorm', x, 'beta', options.beta, axes);
  return x.graph.atomically(() => {
    const deviation = sub(x, mean(x, axes, true));
    const y = standardize(deviation, mean(square(deviation), axes, true), epsilon);
    const scaled = gamma ? mul(y, spread(x, gamma, axes)) : y;
    return beta ? add(scaled, spread(x, beta, axes)) : scaled;
  });
}

/**
 * RMS normalization (Zhang & Sennrich, 2019): x/√(mean(x²) + ε) over `axes` (default the
 * last), then ·gamma when given. No centring and no shift. f32 only.
 */
export function rmsNorm(x: Tensor, options: RmsNormOptions = {}): Tensor {
  const axes = checkNormCall('rmsNorm', x, options, ['axes', 'epsilon', 'gamma']);
  const epsilon = checkEpsilon('rmsNorm', options.epsilon);
  const gamma = options.gamma === undefined ? undefined : checkAffine('rmsNorm', x, 'gamma', options.gamma, axes);
  return x.graph.atomically(() => {
    const y = standardize(x, mean(square(x), axes, true), epsilon);
    return gamma ? mul(y, spread(x, gamma, axes)) : y;
  });
}

export interface BatchNormOptions {
  /** Scale per channel, [C] (a param, usually ones). */
  gamma: Tensor;
  /** Shift per channel, [C] (a param, usually zeros). */
  beta: Tensor;
  /** Running mean per channel, [C]: a `state` (usually zeros), updated by each training step. */
  runningMean: Tensor;
  /** Running (unbiased) variance per channel, [C]: a `state` (usually ones), updated by each training step. */
  runningVar: Tensor;
  /** Weight of the batch in the running averages: new = (1 − momentum)·old + momentum·batch. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  epsilon?: number;
  /** The channel axis. Default 1 ([N, C] or NCHW). */
  axis?: number;
}

const BATCH_NORM_KEYS = ['gamma', 'beta', 'runningMean', 'runningVar', 'momentum', 'epsilon', 'axis'];

function requireState(x: Tensor, what: string, t: Tensor): void {
  if (t.node.op !== 'state') {
    throw new ArgumentError(
      `batchNorm: ${what} must be a state (persistent, not trained), got ${t.node.op} ${t.toString()}. Fix: declare it with graph.state(name, [C]), or use batchNormLayer, which creates it.`,
    );
  }
  if (x.graph.assignments.has(t.id)) {
    throw new ArgumentError(
      `batchNorm: ${what} '${t.name}' is already updated by another layer (or an earlier batchNorm call); each batch norm needs running statistics of its own.`,
    );
  }
}

/**
 * Batch normalization over every axis but the channel `axis` (PyTorch's `BatchNorm1d/2d`
 * semantics). In a training step: normalizes with the batch mean and biased variance,
 * and updates the running statistics, new = (1 − momentum)·old + momentum·batch, with
 * the unbiased batch variance for runningVar. At inference: normalizes with the running
 * statistics. Then ·gamma + beta. A channel must have at least 2 values per batch (an
 * unbiased variance needs them), as PyTorch requires in training. Each set of running
 * statistics belongs to one batchNorm call. f32 only.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions): Tensor {
  requireTensor('batchNorm', x);
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`batchNorm: options {gamma, beta, runningMean, runningVar, ...} are required, got ${String(options)}.`);
  }
  checkKeys('batchNorm', options, BATCH_NORM_KEYS);
  requireF32('batchNorm', [x.node], 'the operand', x.node);
  if (options.axis !== undefined && (typeof options.axis !== 'number' || !Number.isInteger(options.axis))) {
    throw new ArgumentError(`batchNorm: axis must be an integer, got ${String(options.axis)}.`);
  }
  const channelAxis = normalizeAxis('batchNorm', [x.node], options.axis ?? 1, x.rank);
  const momentum = checkNumber('batchNorm', 'momentum', options.momentum ?? 0.1, { min: 0, max: 1 });
  const epsilon = checkEpsilon('batchNorm', options.epsilon);
  const channel = [channelAxis];
  const gamma = checkAffine('batchNorm', x, 'gamma', options.gamma, channel);
  const beta = checkAffine('batchNorm', x, 'beta', options.beta, channel);
  const runningMean = checkAffine('batchNorm', x, 'runningMean', options.runningMean, channel);
  const runningVar = checkAffine('batchNorm', x, 'runningVar', options.runningVar, channel);
  requireState(x, 'runningMean', runningMean);
  requireState(x, 'runningVar', runningVar);
  if (runningMean.id === runningVar.id) {
    throw new ArgumentError(`batchNorm: runningMean and runningVar are the same state '${runningMean.name}'; give each its own.`);
  }
  const axes = x.shape.map((_, i) => i).filter((i) => i !== channelAxis);
  const count = dimProduct(axes.map((a) => x.shape[a]!));
  // A symbolic count (a symbolic batch) is checked by no rule here: at a run of one value per channel the variance is 0/0.
  if (typeof count === 'number' && count < 2) {
    const problem = `each channel has ${count} value(s) per batch (axes ${formatShape(axes)} of ${formatType(x.node)}), but training needs at least 2 for a variance`;
    throw opError(ShapeError, 'batchNorm', [x.node], problem, 'use a batch of at least 2 (or more positions per channel)');
  }
  return x.graph.atomically(() => {
    const batchMean = mean(x, axes, true);
    const deviation = sub(x, batchMean);
    const batchVar = mean(square(deviation), axes, true);
    const trained = standardize(deviation, batchVar, epsilon);
    const inferred = standardize(sub(x, spread(x, runningMean, channel)), spread(x, runningVar, channel), epsilon);
    const y = add(mul(modeSelect(trained, inferred), spread(x, gamma, channel)), spread(x, beta, channel));

    const channels = [x.shape[channelAxis]!];
    const blend = (old: Tensor, batch: Tensor): Tensor => add(mul(old, 1 - momentum), mul(reshape(batch, channels), momentum));
    x.graph.assign(runningMean, blend(runningMean, batchMean));
    x.graph.assign(runningVar, blend(runningVar, mul(batchVar, besselFactor(x.graph, count))));
    return y;
  });
}

/**
 * n/(n−1), the factor that makes a batch's variance unbiased (PyTorch's running variance):
 * a literal for a static count, graph ops over the run's size for a symbolic one.
 */
function besselFactor(graph: Graph, count: Dim): number | Tensor {
  if (typeof count === 'number') return count / (count - 1);
  const n = dimSize(graph, count);
  return div(n, sub(n, 1));
}

export type BatchNormLayerOptions = Pick<BatchNormOptions, 'momentum' | 'epsilon' | 'axis'>;

/**
 * A batch norm layer over `channels` channels: creates its params `${name}.gamma` (ones)
 * and `${name}.beta` (zeros), and its running statistics as state, `${name}.runningMean`
 * (zeros) and `${name}.runningVar` (ones), as PyTorch initializes them. Returns the
 * function applying it (once: the running statistics have one update per step).
 */
export function batchNormLayer(graph: Graph, name: string, channels: number, options: BatchNormLayerOptions = {}): (x: Tensor) => Tensor {
  requireGraph('batchNormLayer', graph);
  checkName('batchNormLayer', name);
  checkNumber('batchNormLayer', 'channels', channels, { min: 1, integer: true });
  checkKeys('batchNormLayer', options, ['momentum', 'epsilon', 'axis']);
  // A name taken by one of the four leaves none of the others behind.
  const { gamma, beta, runningMean, runningVar } = graph.atomically(() => ({
    gamma: graph.param(`${name}.gamma`, [channels], { init: 'ones' }),
    beta: graph.param(`${name}.beta`, [channels]),
    runningMean: graph.state(`${name}.runningMean`, [channels]),
    runningVar: graph.state(`${name}.runningVar`, [channels], { init: 'ones' }),
  }));
  return (x) => batchNorm(x, { gamma, beta, runningMean, runningVar, ...options });
}
