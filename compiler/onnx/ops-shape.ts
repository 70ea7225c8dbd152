/**
 * ONNX layout ops: Reshape, Flatten, Squeeze/Unsqueeze, Transpose, Concat, Split, Slice,
 * Expand, Tile, DepthToSpace/SpaceToDepth, and the shape computations that are folded at
 * import (Shape, Size, Constant, ConstantOfShape, Range, EyeLike). Shape-like inputs
 * (Reshape's shape, Slice's starts, axes) must be known at import; a shape (Reshape's,
 * Expand's, ConstantOfShape's) may hold symbolic sizes (shape-values.ts).
 */

import type { Dim } from '../dims.js';
import { dimMul, dimProduct, dimSub, isSymbolic } from '../dims.js';
import * as k from '../ops/index.js';
import { broadcastShapes, isStaticShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { HandlerOutput, NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { valueOfDims } from './dims-value.js';
import type { KnownValue } from './tensor-proto.js';
import { checkDims, requireDType } from './tensor-proto.js';

/** An axis counted from the end when negative, checked against the rank. */
export function axisOf(n: NodeContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw n.invalid(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Axes from the attribute (before `inputSince`) or from input `k` (from it on). */
export function axesOf(n: NodeContext, inputSince: number, k: number): number[] | undefined {
  return n.opset >= inputSince ? n.optionalInts(k, 'axes') : n.ints('axes');
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function known(dtype: KnownValue['dtype'], shape: readonly number[], data: ArrayLike<number>): KnownValue {
  return { dtype, shape, data };
}

function reshapeHandler(n: NodeContext): Tensor {
  const x = n.input(0);
  const requested = n.optionalDims(1, 'shape') ?? [];
  const allowZero = n.int('allowzero', 0) === 1;
  const shape: Dim[] = requested.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  // kiln's reshape infers a -1 and reports a bad shape as written ([-1, -1], not a computed
  // [-12, -1]); only the -1 beside a zero-size dimension is decided here, 0 as ONNX has it.
  const inferred = shape.indexOf(-1);
  if (inferred >= 0 && shape.lastIndexOf(-1) === inferred && dimProduct(shape.filter((_, i) => i !== inferred)) === 0) shape[inferred] = 0;
  return x.reshape(shape);
}

function flatten(n: NodeContext): Tensor {
  const x = n.input(0);
  const axis = n.int('axis', 1);
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a > x.rank) throw n.invalid(`axis ${axis} is out of range for rank ${x.rank}`);
  return x.reshape([dimProduct(x.shape.slice(0, a)), dimProduct(x.shape.slice(a))]);
}

function unsqueezeHandler(n: NodeContext): Tensor {
  const axes = axesOf(n, 13, 1);
  if (!axes) throw n.invalid('axes are required');
  return n.input(0).unsqueeze(axes);
}

function split(n: NodeContext): Tensor[] {
  const x = n.input(0);
  const axis = axisOf(n, n.int('axis', 0), x.rank);
  const size = n.staticDim(x.shape[axis]!, 'Split needs the size of the axis it splits');
  let sizes = n.opset >= 13 ? n.optionalInts(1, 'split') : n.ints('split');
  if (!sizes) {
    const parts = n.opset >= 18 ? n.int('num_outputs', n.outputCount) : n.outputCount;
    const chunk = Math.ceil(size / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, size - i * chunk)));
  }
  return x.split(sizes, axis);
}

/** ONNX Slice: bounds clamp to [0, n] going forward and to [-1, n-1] backward, after adding n to negatives. */
function sliceHandler(n: NodeContext): Tensor {
  const x = n.input(0);
  const [starts, ends, axesGiven, steps] =
    n.opset >= 10
      ? [n.optionalInts(1, 'starts'), n.optionalInts(2, 'ends'), n.optionalInts(3, 'axes'), n.optionalInts(4, 'steps')]
      : [n.ints('starts'), n.ints('ends'), n.ints('axes'), undefined];
  if (!starts || !ends || starts.length !== ends.length) throw n.invalid('starts and ends must be given, one of each per sliced axis');
  const axes = axesGiven ?? starts.map((_, i) => i);
  const spec: k.SliceAxis[] = x.shape.map(() => null);
  axes.forEach((axis, i) => {
    const a = axisOf(n, axis, x.rank);
    const step = steps?.[i] ?? 1;
    if (step === 0) throw n.invalid('a step is 0');
    if (wholeAxis(x.shape[a]!, starts[i]!, ends[i]!, step)) return;
    const dim = n.staticDim(x.shape[a]!, `Slice [${starts[i]}:${ends[i]}:${step}] needs the size of axis ${a} (only a whole symbolic axis is sliced without it)`);
    const clamp = (v: number, low: number, high: number): number => Math.min(Math.max(v < 0 ? v + dim : v, low), high);
    const start = step > 0 ? clamp(starts[i]!, 0, dim) : clamp(starts[i]!, 0, dim - 1);
    const end = step > 0 ? clamp(ends[i]!, 0, dim) : clamp(ends[i]!, -1, dim - 1);
    spec[a] = { start, end: end < 0 ? null : end, step };
  });
  return x.slice(spec);
}

/** Whether a slice takes a whole axis of size `dim` (0 to the end, forward): for a symbolic dim, the one slice kiln decides without its size. */
function wholeAxis(dim: Dim, start: number, end: number, step: number): boolean {
  return isSymbolic(dim) && step === 1 && start === 0 && end >= 2 ** 31 - 1;
}

/** Edge and reflect padding of one axis, by concatenating slices of the operand. */
function padAxis(n: NodeContext, x: Tensor, axis: number, before: number, after: number, mode: string): Tensor {
  if (before === 0 && after === 0) return x;
  const dim = n.staticDim(x.shape[axis]!, `${mode} padding reads the far end of axis ${axis}`);
  const take = (index: number): Tensor => {
    const spec: k.SliceAxis[] = x.shape.map(() => null);
    spec[axis] = { start: index, end: index + 1 };
    return x.slice(spec);
  };
  const sourceOf = (offset: number): number => (mode === 'edge' ? Math.min(Math.max(offset, 0), dim - 1) : offset < 0 ? -offset : offset >= dim ? 2 * (dim - 1) - offset : offset);
  const parts = [
    ...Array.from({ length: before }, (_, i) => take(sourceOf(i - before))),
    x,
    ...Array.from({ length: after }, (_, i) => take(sourceOf(dim + i))),
  ];
  return parts.length === 1 ? x : k.concat(parts, axis);
}

function padHandler(n: NodeContext): Tensor {
  let x = n.input(0);
  const mode = n.string('mode', 'constant');
  const pads = n.opset >= 11 ? n.optionalInts(1, 'pads') : n.ints('pads');
  const value = (n.opset >= 11 ? n.optionalScalar(2, 'constant_value') : n.float('value')) ?? 0;
  const axes = (n.opset >= 18 ? n.optionalInts(3, 'axes') : undefined)?.map((a) => axisOf(n, a, x.rank)) ?? x.shape.map((_, a) => a);
  if (!pads || pads.length !== 2 * axes.length) throw n.invalid(`pads must hold ${2 * axes.length} values (every begin, then every end)`);
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  axes.forEach((a, i) => {
    before[a] = pads[i]!;
    after[a] = pads[i + axes.length]!;
  });
  // Negative pads crop: slice them off first, then pad with what is left.
  if ([...before, ...after].some((p) => p < 0)) {
    x = x.slice(x.shape.map((d, a) => (before[a]! >= 0 && after[a]! >= 0 ? null : { start: Math.max(0, -before[a]!), end: n.staticDim(dimSub(d, Math.max(0, -after[a]!)), 'a negative pad crops') })));
  }
  const [b, e] = [before.map((p) => Math.max(0, p)), after.map((p) => Math.max(0, p))];
  if (mode === 'constant') return x.pad(b.map((p, a) => [p, e[a]!] as const), value);
  if (mode !== 'edge' && mode !== 'reflect') throw n.unsupported(`mode '${mode}'`);
  if (mode === 'reflect' && x.shape.some((d, a) => (b[a]! > 0 || e[a]! > 0) && Math.max(b[a]!, e[a]!) >= n.staticDim(d, 'reflect padding reads the far end of the axis'))) {
    throw n.invalid('reflect padding must be smaller than the padded axis');
  }
  return x.shape.reduce((y, _, a) => padAxis(n, y, a, b[a]!, e[a]!, mode), x);
}

function tile(n: NodeContext): Tensor {
  const x = n.input(0);
  const repeats = n.optionalInts(1, 'repeats');
  if (!repeats || repeats.length !== x.rank) throw n.invalid(`repeats must hold one value per axis (${x.rank})`);
  // [a, b] tiled [r, s]: view as [1, a, 1, b], broadcast to [r, a, s, b], merge pairs.
  const interleaved = x.shape.flatMap((d) => [1, d]);
  const target = x.shape.flatMap((d, a) => [repeats[a]!, d]);
  return x.reshape(interleaved).broadcastTo(target).reshape(x.shape.map((d, a) => dimMul(d, repeats[a]!)));
}

function depthToSpace(n: NodeContext): Tensor {
  const x = n.input(0);
  if (x.rank !== 4) throw n.invalid('the input must be [N, C, H, W]');
  const block = n.int('blocksize', 0);
  const [batch, ...rest] = x.shape as [Dim, Dim, Dim, Dim];
  const [channels, height, width] = n.staticShape(rest, 'DepthToSpace rearranges channels and space') as [number, number, number];
  const c = channels / (block * block);
  const crd = n.string('mode', 'DCR') === 'CRD';
  const split = crd ? [batch, c, block, block, height, width] : [batch, block, block, c, height, width];
  const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
  return x.reshape(split).transpose(perm).reshape([batch, c, height * block, width * block]);
}

function spaceToDepth(n: NodeContext): Tensor {
  const x = n.input(0);
  if (x.rank !== 4) throw n.invalid('the input must be [N, C, H, W]');
  const block = n.int('blocksize', 0);
  const [batch, ...rest] = x.shape as [Dim, Dim, Dim, Dim];
  const [channels, height, width] = n.staticShape(rest, 'SpaceToDepth rearranges channels and space') as [number, number, number];
  return x
    .reshape([batch, channels, height / block, block, width / block, block])
    .transpose([0, 3, 5, 1, 2, 4])
    .reshape([batch, channels * block * block, height / block, width / block]);
}

function constantHandler(n: NodeContext): KnownValue {
  const tensor = n.tensor('value');
  if (tensor) return tensor;
  const f = n.float('value_float');
  if (f !== undefined) return known('f32', [], [f]);
  const fs = n.floats('value_floats');
  if (fs) return known('f32', [fs.length], fs);
  const i = n.int('value_int');
  if (i !== undefined) return known('i32', [], [i]);
  const is = n.ints('value_ints');
  if (is) return known('i32', [is.length], is);
  throw n.invalid('no value attribute');
}

function range(n: NodeContext): KnownValue {
  const [start, limit, delta] = [0, 1, 2].map((i) => n.optionalScalar(i, ['start', 'limit', 'delta'][i]!)!);
  if (delta === 0 || !Number.isFinite(delta!)) throw n.invalid(`delta is ${delta}; a range needs a finite, non-zero step`);
  const count = Math.max(Math.ceil((limit! - start!) / delta!), 0);
  checkDims(n.describe('the output'), [count]);
  n.compute(count);
  const dtype = n.known(0)!.dtype;
  return known(dtype, [count], Array.from({ length: count }, (_, i) => (dtype === 'f32' ? Math.fround(start! + i * delta!) : start! + i * delta!)));
}

registerHandlers({
  Reshape: { attributes: ['allowzero'], convert: reshapeHandler },
  Flatten: { attributes: ['axis'], convert: flatten },
  Squeeze: {
    attributes: ['axes'],
    convert: (n) => {
      const axes = axesOf(n, 13, 1);
      return n.input(0).squeeze(axes && axes.length > 0 ? axes : undefined);
    },
  },
  Unsqueeze: { attributes: ['axes'], convert: unsqueezeHandler },
  Transpose: { attributes: ['perm'], convert: (n) => n.input(0).transpose(n.ints('perm')) },
  Concat: { attributes: ['axis'], convert: (n) => k.concat(n.inputs(), n.int('axis', 0)) },
  Split: { attributes: ['axis', 'split', 'num_outputs'], convert: split },
  Slice: { attributes: ['starts', 'ends', 'axes'], convert: sliceHandler },
  Pad: { attributes: ['mode', 'pads', 'value'], convert: padHandler },
  Expand: {
    convert: (n) => {
      const x = n.input(0);
      return x.broadcastTo(broadcastShapes('Expand', [x.node, { shape: n.optionalDims(1, 'shape') ?? [], dtype: x.dtype }]));
    },
  },
  Tile: { convert: tile },
  DepthToSpace: { attributes: ['blocksize', 'mode'], convert: depthToSpace },
  SpaceToDepth: { attributes: ['blocksize'], convert: spaceToDepth },
  Shape: {
    attributes: ['start', 'end'],
    convert: (n) => {
      const shape = n.input(0).shape;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + shape.length : v, 0), shape.length);
      const dims = shape.slice(clamp(n.int('start', 0)), clamp(n.int('end', shape.length)));
      return valueOfDims('i32', [dims.length], dims);
    },
  },
  Size: { convert: (n) => valueOfDims('i32', [], [sizeOf(n.input(0).shape)]) },
  Constant: { attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'], convert: constantHandler },
  ConstantOfShape: {
    attributes: ['value'],
    convert: (n): HandlerOutput => {
      const shape = n.optionalDims(0, 'shape') ?? [];
      const fill = n.tensor('value') ?? known('f32', [1], [0]);
      // A symbolic shape: the values are computed at run time, a splat of the fill.
      if (!isStaticShape(shape)) return n.graph.constant(fill.data[0]!, { dtype: fill.dtype }).broadcastTo(shape);
      // The shape comes from the file: bound it before allocating the values.
      checkDims(n.describe('the output'), shape);
      n.compute(product(shape));
      return known(fill.dtype, shape, new Float64Array(product(shape)).fill(fill.data[0]!));
    },
  },
  Range: { convert: range },
  EyeLike: {
    attributes: ['dtype', 'k'],
    convert: (n) => {
      const x = n.input(0);
      const [rows, cols] = n.staticShape(x.shape, 'EyeLike computes its values at import') as [number, number];
      checkDims(n.describe('the output'), [rows, cols]);
      n.compute(rows * cols);
      const diagonal = n.int('k', 0);
      const values = Array.from({ length: rows * cols }, (_, i) => (i % cols) - Math.floor(i / cols) === diagonal ? 1 : 0);
      const type = n.int('dtype');
      return known(type === undefined ? x.dtype : requireDType(type, n.describe("attribute 'dtype'")), [rows, cols], values);
    },
  },
});
