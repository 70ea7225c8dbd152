/**
 * `gather`: NumPy `take` along one axis — the embedding lookup (`gather(table, ids)`
 * with table [vocab, dim] and axis 0 gives [...ids.shape, dim]) — and its transpose
 * `scatterAdd`, which sums rows back into a table (the embedding's gradient).
 *
 * Out-of-range indices (outside [-n, n)) give 0 (false for bool) rather than an error,
 * because indices are data and only known at run time; scatterAdd skips them, so the
 * two stay each other's transpose. The GPU lowering must do the same (clamp the read,
 * then select 0), so the reference and the device agree; a checked mode that reports
 * bad indices can be added later.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { SymDim } from '../dims.js';
import type { TensorType } from '../shape.js';
import { formatShape, normalizeAxis, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireInteger } from './args.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import { requireTensor } from './lift.js';
import { gatherKernel, scatterAddKernel } from '../../shaders/gather.js';

type GatherAttrs = { axis: number };
/** `size` is the length of the axis the result gets (the gathered-from tensor's; symbolic for a gradient of a symbolic axis). */
type ScatterAddAttrs = { axis: number; size: Dim };

function requireI32Indices(op: string, inputs: readonly TensorType[]): void {
  if (inputs[1]!.dtype !== 'i32') {
    throw opError(DTypeError, op, inputs, `indices must be i32, got ${inputs[1]!.dtype}`, "cast them with indices.cast('i32')");
  }
}

/** An index counted from the end when negative; `undefined` when out of range (skipped). */
function resolveIndex(raw: number, n: number): number | undefined {
  const index = raw < 0 ? raw + n : raw;
  return index >= 0 && index < n ? index : undefined;
}

export const gatherOp = defineOp<GatherAttrs>({
  name: 'gather',
  arity: 2,
  flops: () => 0,
  // Each read element's cotangent goes back to the row it was read from; repeats add up.
  vjp: ({ inputs: [x, indices], attrs: { axis }, cotangent }) => [scatterAdd(cotangent, indices!, axis, x!.shape[axis]!), null],
  infer(inputs, attrs) {
    const [x, indices] = [inputs[0]!, inputs[1]!];
    requireI32Indices('gather', inputs);
    const axis = normalizeAxis('gather', inputs, attrs.axis, x.shape.length);
    if (axis !== attrs.axis) {
      throw opError(ShapeError, 'gather', inputs, `the stored axis ${attrs.axis} is not canonical`, 'build with gather(x, indices, axis)');
    }
    return {
      shape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
      dtype: x.dtype,
    };
  },
  evaluate(inputs, attrs, out, ctx) {
    const [x, indices] = [inputs[0]!, inputs[1]!];
    const axis = attrs.axis;
    const n = x.shape[axis]!;
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const count = indices.data.length;
    const result = emptyLike(out, ctx);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const index = resolveIndex(indices.data[j]!, n);
        // Out of range: leave the zeros emptyLike gave (see the module comment).
        if (index === undefined) continue;
        const from = (o * n + index) * inner;
        result.data.set(x.data.subarray(from, from + inner), (o * count + j) * inner);
      }
    }
    return result;
  },
  lower: { kind: 'kernel', emit: (ctx) => gatherKernel(ctx, ctx.attrs.axis) },
});

const SHAPED_AS_GATHER = "shape updates as gather's result: x.shape[:axis] + indices.shape + x.shape[axis+1:]";

export const scatterAddOp = defineOp<ScatterAddAttrs>({
  name: 'scatterAdd',
  arity: 2,
  // One add per update element, however the kernel finds each output's updates.
  flops: ([updates]) => sizeOf(updates!),
  // The transpose of a sum into rows is reading those rows back.
  vjp: ({ inputs: [, indices], attrs: { axis }, cotangent }) => [gather(cotangent, indices!, axis), null],
  infer(inputs, { axis, size }) {
    const [updates, indices] = [inputs[0]!, inputs[1]!];
    requireI32Indices('scatterAdd', inputs);
    if (updates.dtype !== 'f32' && updates.dtype !== 'i32') {
      throw opError(DTypeError, 'scatterAdd', inputs, `updates must be f32 or i32, got ${updates.dtype}`, "cast them with .cast('f32')");
    }
    if (!(size instanceof SymDim) && (!Number.isInteger(size) || size < 0)) {
      throw opError(ArgumentError, 'scatterAdd', inputs, `size must be a non-negative integer, got ${String(size)}`, 'pass the length of the axis scattered into');
    }
    const rank = indices.shape.length;
    const outRank = updates.shape.length - rank + 1;
    if (outRank < 1) {
      const problem = `updates of rank ${updates.shape.length} cannot hold indices of rank ${rank}`;
      throw opError(ShapeError, 'scatterAdd', inputs, problem, SHAPED_AS_GATHER);
    }
    if (!Number.isInteger(axis) || axis < 0 || axis >= outRank) {
      const problem = `the axis attribute ${String(axis)} is not in [0, ${outRank - 1}]`;
      throw opError(ShapeError, 'scatterAdd', inputs, problem, 'build the node with the functional scatterAdd, which normalizes axis');
    }
    const window = updates.shape.slice(axis, axis + rank);
    if (!sameShape(window, indices.shape)) {
      const problem = `updates have ${formatShape(window)} at axis ${axis} where the indices' shape ${formatShape(indices.shape)} belongs`;
      throw opError(ShapeError, 'scatterAdd', inputs, problem, SHAPED_AS_GATHER);
    }
    return { shape: [...updates.shape.slice(0, axis), size, ...updates.shape.slice(axis + rank)], dtype: updates.dtype };
  },
  evaluate(inputs, { axis }, out, ctx) {
    const [updates, indices] = [inputs[0]!, inputs[1]!];
    const shape = evalShape('scatterAdd', out.shape);
    const size = shape[axis]!;
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const count = indices.data.length;
    const result = emptyLike(out, ctx);
    const wrap = out.dtype === 'i32';
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const index = resolveIndex(indices.data[j]!, size);
        if (index === undefined) continue;
        const to = (o * size + index) * inner;
        const from = (o * count + j) * inner;
        for (let t = 0; t < inner; t++) {
          const total = result.data[to + t]! + updates.data[from + t]!;
          // i32 wraps on overflow, as the GPU's atomicAdd does.
          result.data[to + t] = wrap ? total | 0 : total;
        }
      }
    }
    return result;
  },
  lower: { kind: 'kernel', emit: (ctx) => scatterAddKernel(ctx, ctx.attrs) },
});

/**
 * Takes elements of `x` along `axis` at `indices` (i32, any shape; negative counts from
 * the end), as NumPy `take`: the result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Out-of-range indices give 0.
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  requireTensor('gather', x);
  requireTensor('gather', indices, 'indices');
  const canonical = normalizeAxis('gather', [x.node, indices.node], requireInteger('gather', 'axis', axis), x.rank);
  return x.graph.addNode(gatherOp, [x, indices], { axis: canonical });
}

/**
 * The transpose of `gather`: a zero tensor whose `axis` has length `size`, into which
 * each slice of `updates` is added at its index, so repeated indices accumulate (an
 * embedding table's gradient). `updates` is shaped as gather's result,
 * `out.shape[:axis] + indices.shape + out.shape[axis+1:]`; `axis` (negative counts from
 * the end) is an axis of the result. Indices count from the end when negative;
 * out-of-range ones are skipped. f32 or i32.
 */
export function scatterAdd(updates: Tensor, indices: Tensor, axis: number, size: Dim): Tensor {
  requireTensor('scatterAdd', updates, 'updates');
  requireTensor('scatterAdd', indices, 'indices');
  const requested = requireInteger('scatterAdd', 'axis', axis);
  if (!(size instanceof SymDim)) requireInteger('scatterAdd', 'size', size);
  const outRank = updates.rank - indices.rank + 1;
  // With too few update axes there is no axis to normalize against: the shape rule says why.
  const canonical = outRank < 1 ? requested : normalizeAxis('scatterAdd', [updates.node, indices.node], requested, outRank);
  return updates.graph.addNode(scatterAddOp, [updates, indices], { axis: canonical, size });
}
