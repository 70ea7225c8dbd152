/**
 * ONNX indexing ops: Gather, GatherElements, ReverseSequence, Compress, OneHot and Trilu. Indices are
 * data (i32 in kiln; INT64 is narrowed); negative ones count from the end, as ONNX says.
 */

import type { Dim } from '../dims.js';
import * as k from '../ops/index.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { axisOf } from './ops-shape.js';

/** Indices as i32, with negative ones (counted from the end of an axis of `size`) made positive. */
function wrapIndices(indices: Tensor, size: Dim): Tensor {
  const i32 = indices.dtype === 'i32' ? indices : indices.cast('i32');
  return i32.add(typeof size === 'number' ? size : k.dimSize(indices.graph, size, 'i32')).where(i32.less(0), i32);
}

/**
 * Where element p of `indices` points into the flattened data: p's own coordinates, except
 * along `axis`, where it is indices[p] (GatherElements' and ScatterElements' addressing).
 * The other coordinates' offsets are a constant computed here.
 */
export function flatIndicesAlongAxis(n: NodeContext, data: Tensor, indices: Tensor, axis: number): Tensor {
  const why = `${n.opType} computes the offsets of its elements at import`;
  const [dataShape, indicesShape] = [n.staticShape(data.shape, why), n.staticShape(indices.shape, why)];
  const strides = dataShape.map((_, a) => dataShape.slice(a + 1).reduce((p, d) => p * d, 1));
  const offsets = new Array<number>(sizeOf(indicesShape));
  for (let p = 0; p < offsets.length; p++) {
    let rest = p;
    let offset = 0;
    for (let a = indicesShape.length - 1; a >= 0; a--) {
      const coordinate = rest % indicesShape[a]!;
      rest = Math.floor(rest / indicesShape[a]!);
      if (a !== axis) offset += coordinate * strides[a]!;
    }
    offsets[p] = offset;
  }
  const base = data.graph.constant(offsets, { dtype: 'i32', shape: indicesShape });
  return wrapIndices(indices, dataShape[axis]!).mul(strides[axis]!).add(base);
}

/** GatherElements as one flat gather. */
export function gatherAlongAxis(n: NodeContext, data: Tensor, indices: Tensor, axis: number): Tensor {
  return data.reshape([sizeOf(data.shape)]).gather(flatIndicesAlongAxis(n, data, indices, axis), 0);
}

/** GatherElements' and ScatterElements' indices: the data's rank, no larger on any axis. */
export function checkElementIndices(n: NodeContext, data: Tensor, indices: Tensor): void {
  if (indices.rank !== data.rank) throw n.invalid(`indices must have the data's rank ${data.rank}`);
  const why = `${n.opType} checks its indices against the data at import`;
  const dataShape = n.staticShape(data.shape, why);
  if (n.staticShape(indices.shape, why).some((d, a) => d > dataShape[a]!)) throw n.invalid('indices may not be larger than the data on any axis');
}

function gatherElements(n: NodeContext): Tensor {
  const data = n.input(0);
  const indices = n.input(1);
  checkElementIndices(n, data, indices);
  return gatherAlongAxis(n, data, indices, axisOf(n, n.int('axis', 0), data.rank));
}

/**
 * ReverseSequence as a gather along the time axis: step t of batch entry b reads step
 * len[b] − 1 − t below len[b] and itself from there on. The lengths may be run-time values.
 */
function reverseSequence(n: NodeContext): Tensor {
  const x = n.input(0);
  const lengths = n.input(1);
  const [timeAxis, batchAxis] = [axisOf(n, n.int('time_axis', 0), x.rank), axisOf(n, n.int('batch_axis', 1), x.rank)];
  if (timeAxis === batchAxis) throw n.invalid(`time_axis and batch_axis are both ${timeAxis}`);
  const along = (axis: number): Dim[] => x.shape.map((d, a) => (a === axis ? d : 1));
  const steps = n.staticDim(x.shape[timeAxis]!, 'ReverseSequence indexes the time axis with a constant');
  const time = n.graph.constant(Array.from({ length: steps }, (_, t) => t), { dtype: 'i32', shape: along(timeAxis) });
  const length = (lengths.dtype === 'i32' ? lengths : lengths.cast('i32')).reshape(along(batchAxis));
  const source = k.where(time.less(length), length.sub(time).sub(1), time).broadcastTo(x.shape);
  return gatherAlongAxis(n, x, source, timeAxis);
}

function compress(n: NodeContext): Tensor {
  const condition = n.constant(1, 'condition');
  const axisAttr = n.int('axis');
  const x = axisAttr === undefined ? n.input(0).reshape([sizeOf(n.input(0).shape)]) : n.input(0);
  const axis = axisAttr === undefined ? 0 : axisOf(n, axisAttr, x.rank);
  const size = n.staticDim(x.shape[axis]!, 'Compress picks elements of the axis at import');
  const kept = Array.from(condition.data).flatMap((c, i) => (c !== 0 && i < size ? [i] : []));
  return x.gather(n.graph.constant(kept, { dtype: 'i32', shape: [kept.length] }), axis);
}

function oneHot(n: NodeContext): Tensor {
  const depth = n.optionalScalar(1, 'depth');
  if (depth === undefined) throw n.invalid('depth is required');
  const indices = n.input(0);
  const values = n.input(2);
  const count = Math.trunc(depth);
  const axis = n.int('axis', -1);
  const mask = wrapIndices(indices, count).oneHot(count, { axis: axis < 0 ? axis + indices.rank + 1 : axis, dtype: 'bool' });
  const value = (i: number): Tensor => values.reshape([sizeOf(values.shape)]).slice([[i, i + 1]]).reshape([]);
  return k.where(mask, value(1), value(0));
}

registerHandlers({
  Gather: {
    attributes: ['axis'],
    convert: (n) => {
      const x = n.input(0);
      const indices = n.input(1);
      return x.gather(indices.dtype === 'i32' ? indices : indices.cast('i32'), axisOf(n, n.int('axis', 0), x.rank));
    },
  },
  GatherElements: { attributes: ['axis'], convert: gatherElements },
  Compress: { attributes: ['axis'], convert: compress },
  ReverseSequence: { attributes: ['batch_axis', 'time_axis'], convert: reverseSequence },
  OneHot: { attributes: ['axis'], convert: oneHot },
  Trilu: {
    attributes: ['upper'],
    convert: (n) => {
      const diagonal = n.optionalScalar(1, 'k') ?? 0;
      const x = n.input(0);
      return n.int('upper', 1) === 1 ? x.triu(diagonal) : x.tril(diagonal);
    },
  },
});
