/**
 * ONNX GatherND, ScatterND and ScatterElements (Scatter before opset 11), composed from
 * kiln's gather, oneHot, matmul and where: no kernel of their own, and differentiable in
 * the data and the updates. Each addresses rows of the data flattened to [rows, slice]:
 * GatherND gathers them; a scatter builds the one-hot matrix of its targets, [updates,
 * rows], and sums (or multiplies, maxes) the updates into the rows through it. That
 * matrix costs updates × rows elements, so a scatter past SCATTER_LIMIT is refused.
 */

import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { checkElementIndices, flatIndicesAlongAxis } from './ops-index.js';
import { axisOf } from './ops-shape.js';

/** The most elements a scatter's one-hot composition may build (64 MiB of f32). */
const SCATTER_LIMIT = 2 ** 24;

/** Why these ops need static shapes. */
const WHY = 'kiln composes it from row offsets and one-hot matrices computed at import';

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * The row each index tuple (the last axis of `indices`) names in data whose leading dims
 * are `dims`, flattened; negative indices count from the end of their axis.
 */
function rowOf(n: NodeContext, indices: Tensor, dims: readonly number[]): Tensor {
  const i32 = indices.dtype === 'i32' ? indices : indices.cast('i32');
  const sizes = n.graph.constant([...dims], { dtype: 'i32', shape: [dims.length] });
  const strides = n.graph.constant(dims.map((_, a) => product(dims.slice(a + 1))), { dtype: 'i32', shape: [dims.length] });
  return i32.add(sizes).where(i32.less(0), i32).mul(strides).sum(-1);
}

function gatherND(n: NodeContext): Tensor {
  const data = n.input(0);
  const indices = n.input(1);
  const ds = n.staticShape(data.shape, WHY);
  const is = n.staticShape(indices.shape, WHY);
  const batchDims = n.int('batch_dims', 0);
  const depth = is[is.length - 1] ?? 0;
  if (is.length < 1 || batchDims < 0 || batchDims >= Math.min(ds.length, is.length) || depth > ds.length - batchDims) {
    throw n.invalid(`indices of shape [${is.join(',')}] with batch_dims ${batchDims} do not index data of shape [${ds.join(',')}]`);
  }
  if (is.slice(0, batchDims).some((d, a) => d !== ds[a])) throw n.invalid(`the first ${batchDims} (batch) dims of data and indices differ`);
  const indexed = ds.slice(batchDims, batchDims + depth);
  const rows = product(indexed);
  const batches = product(ds.slice(0, batchDims));
  const within = rowOf(n, indices, indexed);
  // Each index tuple reads within its own batch: its batch's first row, as a constant.
  const withinSize = product(n.staticShape(within.shape, WHY));
  const perBatch = withinSize / batches;
  const batchRow = n.graph.constant(
    Array.from({ length: withinSize }, (_, p) => Math.floor(p / perBatch) * rows),
    { dtype: 'i32', shape: within.shape },
  );
  return data.reshape([batches * rows, ...ds.slice(batchDims + depth)]).gather(within.add(batchRow), 0);
}

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(n: NodeContext): Reduction {
  const reduction = n.string('reduction', 'none');
  if (!['none', 'add', 'mul', 'max', 'min'].includes(reduction)) throw n.invalid(`reduction '${reduction}' is not one of none, add, mul, max, min`);
  return reduction as Reduction;
}

/**
 * Scatters `updates` [M, S] into the rows `targets` [M] of `data` [N, S]. 'none' (where a
 * row is targeted twice ONNX leaves the result undefined; kiln sums) and 'add' go through
 * one matmul with the one-hot [M, N]; 'mul', 'max' and 'min' combine over [M, N, S].
 */
function scatterRows(n: NodeContext, data: Tensor, targets: Tensor, updates: Tensor, reduction: Reduction): Tensor {
  const [rows, slice] = n.staticShape(data.shape, WHY) as [number, number];
  const count = product(n.staticShape(targets.shape, WHY));
  if (count === 0) return data;
  const elements = count * rows * (reduction === 'none' || reduction === 'add' ? 1 : slice);
  if (elements > SCATTER_LIMIT) {
    throw n.unsupported(
      `kiln composes a scatter from the one-hot matrix of its targets: ${count} updates into ${rows} rows of ${slice} would build ${elements} elements, over the limit of ${SCATTER_LIMIT}`,
    );
  }
  if (reduction === 'none' || reduction === 'add') {
    const hits = targets.oneHot(rows, { dtype: data.dtype });
    const scattered = hits.matmul(updates, { transposeA: true });
    return reduction === 'add' ? data.add(scattered) : k.where(hits.sum(0).greater(0).reshape([rows, 1]), scattered, data);
  }
  const hits = targets.oneHot(rows, { dtype: 'bool' }).reshape([count, rows, 1]);
  const spread = updates.reshape([count, 1, slice]);
  if (reduction === 'mul') return data.mul(k.where(hits, spread, 1).prod(0));
  // A row no update targets combines the data with itself.
  const candidates = k.where(hits, spread, data.reshape([1, rows, slice]));
  return reduction === 'max' ? candidates.max(0).maximum(data) : candidates.min(0).minimum(data);
}

function scatterND(n: NodeContext): Tensor {
  const [data, indices, updates] = [n.input(0), n.input(1), n.input(2)];
  const ds = n.staticShape(data.shape, WHY);
  const is = n.staticShape(indices.shape, WHY);
  const us = n.staticShape(updates.shape, WHY);
  const depth = is[is.length - 1] ?? 0;
  const expected = [...is.slice(0, -1), ...ds.slice(depth)];
  if (is.length < 1 || depth > ds.length || us.join() !== expected.join()) {
    throw n.invalid(`updates of shape [${us.join(',')}] and indices of shape [${is.join(',')}] do not fit data of shape [${ds.join(',')}] (updates must be [${expected.join(',')}])`);
  }
  const slice = product(ds.slice(depth));
  const targets = rowOf(n, indices, ds.slice(0, depth)).reshape([product(is.slice(0, -1))]);
  const rows = product(ds.slice(0, depth));
  return scatterRows(n, data.reshape([rows, slice]), targets, updates.reshape([product(n.staticShape(targets.shape, WHY)), slice]), reductionOf(n)).reshape(ds);
}

function scatterElements(n: NodeContext): Tensor {
  const [data, indices, updates] = [n.input(0), n.input(1), n.input(2)];
  const ds = n.staticShape(data.shape, WHY);
  const is = n.staticShape(indices.shape, WHY);
  const us = n.staticShape(updates.shape, WHY);
  checkElementIndices(n, data, indices);
  if (us.join() !== is.join()) throw n.invalid(`updates of shape [${us.join(',')}] differ from indices of shape [${is.join(',')}]`);
  const targets = flatIndicesAlongAxis(n, data, indices, axisOf(n, n.int('axis', 0), ds.length)).reshape([product(is)]);
  return scatterRows(n, data.reshape([product(ds), 1]), targets, updates.reshape([product(us), 1]), reductionOf(n)).reshape(ds);
}

registerHandlers({
  GatherND: { attributes: ['batch_dims'], convert: gatherND },
  ScatterND: { attributes: ['reduction'], convert: scatterND },
  ScatterElements: { attributes: ['axis', 'reduction'], convert: scatterElements },
  // Scatter is ScatterElements' name before opset 11 (deprecated since).
  Scatter: { attributes: ['axis'], convert: scatterElements },
});
