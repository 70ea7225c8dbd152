/**
 * ONNX reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare), ArgMax/
 * ArgMin, CumSum and TopK. Axes are an attribute until the opset that made them an input (13
 * for ReduceSum, 18 for the rest); no axes means every axis unless noop_with_empty_axes.
 */

import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext, OpHandler } from './handler.js';
import { registerHandlers } from './handler.js';
import { axesOf, axisOf } from './ops-shape.js';

type Reduce = (x: Tensor, axes: number[], keepdims: boolean) => Tensor;

function reduction(axesInputSince: number, reduce: Reduce): OpHandler {
  return {
    attributes: ['axes', 'keepdims', 'noop_with_empty_axes'],
    convert: (n: NodeContext) => {
      const x = n.input(0);
      const keepdims = n.int('keepdims', 1) === 1;
      const given = axesOf(n, axesInputSince, 1) ?? [];
      if (given.length === 0 && n.int('noop_with_empty_axes', 0) === 1) return x;
      const axes = given.length > 0 ? given.map((a) => axisOf(n, a, x.rank)) : x.shape.map((_, a) => a);
      return reduce(x, axes, keepdims);
    },
  };
}

function argReduction(reduce: typeof k.argmax): OpHandler {
  return {
    attributes: ['axis', 'keepdims', 'select_last_index'],
    convert: (n) => {
      const x = n.input(0);
      const axis = axisOf(n, n.int('axis', 0), x.rank);
      const keepdims = n.int('keepdims', 1) === 1;
      if (n.int('select_last_index', 0) === 0) return reduce(x, axis, keepdims);
      // The last extremum is the first one of the reversed axis, counted back from the end.
      const reversed = x.slice(x.shape.map((_, a) => (a === axis ? [null, null, -1] : null)));
      return k.sub(n.staticDim(x.shape[axis]!, 'the last index counts back from the end of the axis') - 1, reduce(reversed, axis, keepdims));
    },
  };
}

/** TopK unrolls one selection round per k into the graph: beyond this, the graph would outgrow the model. */
const MAX_TOP_K = 256;

/**
 * TopK as k rounds of selection, k known at import: each round takes the extremum of the
 * values not yet taken, then the first untaken position holding it (ties go to the lower
 * index, as ONNX asks). Marking positions taken, rather than overwriting values with ±∞,
 * keeps inputs that hold ±∞ exact. The output is sorted, which `sorted = 0` allows too.
 */
function topK(n: NodeContext): Tensor[] {
  const x = n.input(0);
  const axis = axisOf(n, n.int('axis', -1), x.rank);
  const count = n.opset < 10 ? n.int('k') : n.optionalScalar(1, 'k');
  if (count === undefined) throw n.invalid('k is required');
  const size = n.staticDim(x.shape[axis]!, 'TopK numbers the positions of its axis');
  if (!Number.isInteger(count) || count < 0 || count > size) throw n.invalid(`k = ${count} is outside [0, ${size}] (the size of axis ${axis})`);
  if (count === 0) throw n.unsupported('k = 0 gives empty outputs, which kiln does not hold');
  if (count > MAX_TOP_K) throw n.unsupported(`k = ${count}: kiln unrolls one selection round per k, up to ${MAX_TOP_K}`);
  if (x.dtype === 'bool') throw n.unsupported('the input is bool; TopK takes numbers');
  const largest = n.int('largest', 1) === 1;
  const sentinel = x.dtype === 'f32' ? (largest ? -Infinity : Infinity) : largest ? -(2 ** 31) : 2 ** 31 - 1;
  const position = x.graph.constant(Array.from({ length: size }, (_, i) => i), { dtype: 'i32', shape: x.shape.map((d, a) => (a === axis ? d : 1)) });
  let taken = x.graph.constant(0, { dtype: 'bool', shape: x.shape });
  const values: Tensor[] = [];
  const indices: Tensor[] = [];
  for (let round = 0; round < count; round++) {
    const open = k.where(taken, sentinel, x);
    const value = largest ? open.max(axis, true) : open.min(axis, true);
    const index = x.equal(value).logicalAnd(taken.logicalNot()).cast('f32').argmax(axis, true);
    taken = taken.logicalOr(position.equal(index));
    values.push(value);
    indices.push(index);
  }
  return [k.concat(values, axis), k.concat(indices, axis)];
}

registerHandlers({
  ReduceSum: reduction(13, (x, axes, keep) => x.sum(axes, keep)),
  ReduceMean: reduction(18, (x, axes, keep) => x.mean(axes, keep)),
  ReduceMax: reduction(18, (x, axes, keep) => x.max(axes, keep)),
  ReduceMin: reduction(18, (x, axes, keep) => x.min(axes, keep)),
  ReduceProd: reduction(18, (x, axes, keep) => x.prod(axes, keep)),
  ReduceL1: reduction(18, (x, axes, keep) => x.abs().sum(axes, keep)),
  ReduceL2: reduction(18, (x, axes, keep) => x.square().sum(axes, keep).sqrt()),
  ReduceSumSquare: reduction(18, (x, axes, keep) => x.square().sum(axes, keep)),
  ReduceLogSum: reduction(18, (x, axes, keep) => x.sum(axes, keep).log()),
  ReduceLogSumExp: reduction(18, (x, axes, keep) => x.logsumexp(axes, keep)),
  ArgMax: argReduction(k.argmax),
  ArgMin: argReduction(k.argmin),
  TopK: { attributes: ['axis', 'k', 'largest', 'sorted'], convert: topK },
  CumSum: {
    attributes: ['exclusive', 'reverse'],
    convert: (n) => {
      const x = n.input(0);
      const axis = n.optionalScalar(1, 'axis');
      if (axis === undefined) throw n.invalid('the axis input is required');
      return x.cumsum(axisOf(n, axis, x.rank), { exclusive: n.int('exclusive', 0) === 1, reverse: n.int('reverse', 0) === 1 });
    },
  },
});
