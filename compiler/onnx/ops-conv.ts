/**
 * ONNX convolutions and pooling on NCHW tensors: Conv and ConvTranspose (1-D and 2-D, as
 * kiln's kernels), MaxPool and AveragePool (1-3-D), GlobalAveragePool/GlobalMaxPool.
 * auto_pad is resolved here into explicit [before, after] pairs, so every padding rule
 * (NOTSET pads, VALID, SAME_UPPER, SAME_LOWER) is spelled out in one place.
 */

import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';

type Pairs = [number, number][];

/** Per spatial axis: a list attribute, or `fallback` for each axis. */
function perAxis(n: NodeContext, name: string, rank: number, fallback: number): number[] {
  const values = n.ints(name) ?? new Array<number>(rank).fill(fallback);
  if (values.length !== rank) throw n.invalid(`'${name}' must hold ${rank} values, one per spatial axis`);
  return values;
}

/** SAME padding: enough for ceil(input / stride) windows, the odd element at the end (UPPER) or start (LOWER). */
function samePads(n: NodeContext, input: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): Pairs {
  const lower = n.string('auto_pad', 'NOTSET') === 'SAME_LOWER';
  return input.map((size, a) => {
    const out = Math.ceil(size / stride[a]!);
    const total = Math.max(0, (out - 1) * stride[a]! + (kernel[a]! - 1) * dilation[a]! + 1 - size);
    const small = Math.floor(total / 2);
    return lower ? [total - small, small] : [small, total - small];
  });
}

/** The padding pairs of a Conv or pool from `auto_pad` and `pads`. */
function padsOf(n: NodeContext, input: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): Pairs {
  const rank = input.length;
  const autoPad = n.string('auto_pad', 'NOTSET');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return samePads(n, input, kernel, stride, dilation);
  if (autoPad === 'VALID') return input.map(() => [0, 0]);
  if (autoPad !== 'NOTSET') throw n.invalid(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  const pads = perAxis(n, 'pads', 2 * rank, 0);
  return input.map((_, a) => [pads[a]!, pads[a + rank]!]);
}

function requireSpatialRank(n: NodeContext, x: Tensor, supported: readonly number[]): number {
  const rank = x.rank - 2;
  if (!supported.includes(rank)) throw n.unsupported(`${rank}-D inputs; kiln has ${supported.map((r) => `${r}-D`).join(' and ')} ${n.opType}`);
  return rank;
}

function addBias(n: NodeContext, y: Tensor, index: number): Tensor {
  const bias = n.optionalInput(index);
  return bias ? y.add(bias.reshape([bias.size, ...y.shape.slice(2).map(() => 1)])) : y;
}

const SPATIAL = 'convolutions and pools need static spatial sizes and kernels (only the batch may be symbolic)';

function conv(n: NodeContext): Tensor {
  const x = n.input(0);
  const w = n.input(1);
  const rank = requireSpatialRank(n, x, [1, 2]);
  const kernel = n.staticShape(w.shape.slice(2), SPATIAL);
  const stride = perAxis(n, 'strides', rank, 1);
  const dilation = perAxis(n, 'dilations', rank, 1);
  const options = { stride, dilation, padding: padsOf(n, n.staticShape(x.shape.slice(2), SPATIAL), kernel, stride, dilation), groups: n.int('group', 1) };
  return addBias(n, rank === 1 ? x.conv1d(w, options) : x.conv2d(w, options), 2);
}

/**
 * ConvTranspose. With output_shape (or SAME auto_pad, whose output is input·stride) the
 * padding is derived from the shape wanted: SAME_UPPER puts the odd element at the end,
 * the others at the start.
 */
function convTranspose(n: NodeContext): Tensor {
  const x = n.input(0);
  const w = n.input(1);
  const rank = requireSpatialRank(n, x, [1, 2]);
  const input = n.staticShape(x.shape.slice(2), SPATIAL);
  const kernel = n.staticShape(w.shape.slice(2), SPATIAL);
  const stride = perAxis(n, 'strides', rank, 1);
  const dilation = perAxis(n, 'dilations', rank, 1);
  let outputPadding = perAxis(n, 'output_padding', rank, 0);
  const autoPad = n.string('auto_pad', 'NOTSET');
  const outputShape = n.ints('output_shape')?.slice(-rank) ?? (autoPad.startsWith('SAME') ? input.map((s, a) => s * stride[a]!) : undefined);
  let padding: Pairs;
  if (outputShape) {
    padding = input.map((size, a) => {
      const total = stride[a]! * (size - 1) + outputPadding[a]! + (kernel[a]! - 1) * dilation[a]! + 1 - outputShape[a]!;
      const half = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    });
    // A negative total asks for more output than the kernel covers: the extra goes in output padding.
    outputPadding = outputPadding.map((p, a) => p + Math.max(0, -(padding[a]![0] + padding[a]![1])));
    padding = padding.map(([b, e]) => [Math.max(0, b), Math.max(0, e)]);
  } else if (autoPad === 'VALID' || autoPad === 'NOTSET') {
    const pads = perAxis(n, 'pads', 2 * rank, 0);
    padding = input.map((_, a) => [pads[a]!, pads[a + rank]!]);
  } else {
    throw n.invalid(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  const options = { stride, dilation, padding, outputPadding, groups: n.int('group', 1) };
  return addBias(n, rank === 1 ? x.convTranspose1d(w, options) : x.convTranspose2d(w, options), 2);
}

function poolOptions(n: NodeContext, x: Tensor) {
  const rank = requireSpatialRank(n, x, [1, 2, 3]);
  const kernel = n.ints('kernel_shape');
  if (!kernel || kernel.length !== rank) throw n.invalid(`kernel_shape must hold ${rank} values`);
  if (perAxis(n, 'dilations', rank, 1).some((d) => d !== 1)) throw n.unsupported('dilations other than 1');
  const stride = perAxis(n, 'strides', rank, 1);
  const padding = padsOf(n, n.staticShape(x.shape.slice(2), SPATIAL), kernel, stride, kernel.map(() => 1));
  return { rank, padding, options: { kernelSize: kernel, stride, padding, ceilMode: n.int('ceil_mode', 0) === 1 } };
}

/** kiln's pools pad at most half the kernel; wider padding is unsupported, except where it is plain zeros (below). */
function requireNarrowPadding(n: NodeContext, padding: Pairs, kernel: readonly number[]): void {
  if (padding.some(([b, e], a) => Math.max(b, e) > kernel[a]! / 2)) throw n.unsupported('padding larger than half the kernel');
}

function averagePool(n: NodeContext): Tensor {
  let x = n.input(0);
  const { rank, padding, options } = poolOptions(n, x);
  const countIncludePad = n.int('count_include_pad', 0) === 1;
  const pool = [k.avgPool1d, k.avgPool2d, k.avgPool3d][rank - 1]!;
  if (countIncludePad && padding.some(([b, e], a) => Math.max(b, e) > options.kernelSize[a]! / 2)) {
    // Counted padding is zeros in the window: pad explicitly, then pool without padding.
    x = x.pad([[0, 0], [0, 0], ...padding]);
    return pool(x, { ...options, padding: 0, countIncludePad: false });
  }
  requireNarrowPadding(n, padding, options.kernelSize);
  return pool(x, { ...options, countIncludePad });
}

const POOL_ATTRIBUTES = ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'strides'];

registerHandlers({
  Conv: { attributes: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'], convert: conv },
  ConvTranspose: {
    attributes: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides'],
    convert: convTranspose,
  },
  MaxPool: {
    attributes: [...POOL_ATTRIBUTES, 'storage_order'],
    convert: (n) => {
      const x = n.input(0);
      if (x.dtype !== 'f32') throw n.unsupported(`the input is ${x.dtype} (an integer type held as i32); kiln's max pooling takes f32`);
      const { rank, padding, options } = poolOptions(n, x);
      requireNarrowPadding(n, padding, options.kernelSize);
      return [k.maxPool1d, k.maxPool2d, k.maxPool3d][rank - 1]!(x, options);
    },
  },
  AveragePool: {
    attributes: [...POOL_ATTRIBUTES, 'count_include_pad'],
    convert: averagePool,
  },
  GlobalAveragePool: { convert: (n) => n.input(0).mean(n.input(0).shape.slice(2).map((_, i) => i + 2), true) },
  GlobalMaxPool: { convert: (n) => n.input(0).max(n.input(0).shape.slice(2).map((_, i) => i + 2), true) },
});
