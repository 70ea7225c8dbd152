/**
 * Shape ops: reshape, transpose and broadcastTo are primitives (they move data, or at
 * least re-index it); expand, squeeze and unsqueeze are composites that only compute a
 * target shape and build one of the primitives, so passes see three ops, not six.
 */

import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { dimDivide, dimProduct } from '../dims.js';
import type { DimLike, Shape, TensorType } from '../shape.js';
import { broadcastStrides, checkShape, forEachOffset, formatShape, normalizeAxes, sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireArray, requireInteger } from './args.js';
import type { EvalContext, HostArray } from './op.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import { requireTensor } from './lift.js';
import { sumToShape } from './reduce.js';
import { stridedCopyKernel } from '../../shaders/movement.js';

type ShapeAttrs = { shape: readonly Dim[] };
type PermAttrs = { perm: readonly number[] };

/** Copies (or re-indexes) `x` into a fresh array of type `out`: `out[i] = x[offset(i)]`. */
function gatherByStrides(x: HostArray, out: TensorType, readStrides: readonly number[], ctx: EvalContext): HostArray {
  const result = emptyLike(out, ctx);
  forEachOffset(evalShape('gather by strides', out.shape), [readStrides], (i, [offset]) => {
    result.data[i] = x.data[offset!]!;
  });
  return result;
}

export const reshapeOp = defineOp<ShapeAttrs>({
  name: 'reshape',
  arity: 1,
  infer(inputs, attrs) {
    const x = inputs[0]!;
    const shape = checkShape('reshape', attrs.shape);
    if (sizeOf(shape) !== sizeOf(x.shape)) {
      throw opError(
        ShapeError,
        'reshape',
        inputs,
        `shape ${formatShape(x.shape)} (${sizeOf(x.shape)} elements) cannot be reshaped to ${formatShape(shape)} (${sizeOf(shape)} elements)`,
        'give a shape with the same number of elements (one dimension may be -1 to infer it)',
      );
    }
    return { shape, dtype: x.dtype };
  },
  vjp: ({ inputs: [x], cotangent }) => [reshape(cotangent, x!.shape)],
  // Row-major order is unchanged, so the output is the input's buffer with another shape.
  lower: { kind: 'alias' },
  evaluate(inputs, _, out, ctx) {
    // Row-major order is unchanged by a reshape: the data is copied as is.
    const result = emptyLike(out, ctx);
    result.data.set(inputs[0]!.data);
    return result;
  },
});

export const transposeOp = defineOp<PermAttrs>({
  name: 'transpose',
  arity: 1,
  flops: () => 0,
  infer(inputs, attrs) {
    const x = inputs[0]!;
    const perm = attrs.perm;
    const rank = x.shape.length;
    const isPermutation =
      Array.isArray(perm) &&
      perm.length === rank &&
      perm.every((a) => Number.isInteger(a) && a >= 0 && a < rank) &&
      new Set(perm).size === rank;
    if (!isPermutation) {
      throw opError(
        ShapeError,
        'transpose',
        inputs,
        `perm [${String(perm)}] is not a permutation of the ${rank} axes`,
        rank === 0 ? 'a scalar has no axes to permute; pass perm []' : `list each axis of 0..${rank - 1} exactly once`,
      );
    }
    return { shape: perm.map((a) => x.shape[a]!), dtype: x.dtype };
  },
  // Output axis i came from input axis perm[i], so the inverse permutation sends it back.
  vjp: ({ attrs: { perm }, cotangent }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((from, i) => {
      inverse[from] = i;
    });
    return [transpose(cotangent, inverse)];
  },
  evaluate(inputs, attrs, out, ctx) {
    const x = inputs[0]!;
    const strides = stridesOf(x.shape);
    return gatherByStrides(x, out, attrs.perm.map((a) => strides[a]!), ctx);
  },
  lower: {
    kind: 'kernel',
    emit: (ctx) => {
      const strides = stridesOf(ctx.inputs[0]!.shape);
      return stridedCopyKernel(ctx, { base: 0, strides: ctx.attrs.perm.map((a) => strides[a]!) });
    },
  },
});

export const broadcastToOp = defineOp<ShapeAttrs>({
  name: 'broadcastTo',
  arity: 1,
  flops: () => 0,
  infer(inputs, attrs) {
    const x = inputs[0]!;
    const shape = checkShape('broadcastTo', attrs.shape, 'target shape');
    const cannot = `shape ${formatShape(x.shape)} cannot be broadcast to ${formatShape(shape)}`;
    const offset = shape.length - x.shape.length;
    if (offset < 0) {
      throw opError(
        ShapeError,
        'broadcastTo',
        inputs,
        `${cannot}: the target has fewer axes (${shape.length}) than the operand (${x.shape.length})`,
        'broadcasting only adds leading axes; reshape or sum the operand first',
      );
    }
    x.shape.forEach((d, i) => {
      if (d !== 1 && d !== shape[i + offset]) {
        throw opError(
          ShapeError,
          'broadcastTo',
          inputs,
          `${cannot}: operand axis ${i} has size ${d} but the target has ${shape[i + offset]} there`,
          'only size-1 axes can grow; make that axis 1 or match the target',
        );
      }
    });
    return { shape, dtype: x.dtype };
  },
  // Each input element was copied to every position it was broadcast along: their cotangents add up.
  vjp: ({ inputs: [x], cotangent }) => [sumToShape(cotangent, x!.shape)],
  evaluate(inputs, _, out, ctx) {
    const x = inputs[0]!;
    return gatherByStrides(x, out, broadcastStrides(x.shape, evalShape('broadcastTo', out.shape)), ctx);
  },
  // Elementwise code reads an operand of another shape at broadcast strides, so a
  // broadcastTo is the identity at its output's index and fuses like any elementwise op
  // (a scalar's cotangent broadcast over a symbolic batch joins the loop that uses it).
  lower: { kind: 'elementwise', expr: ([x]) => x! },
});

/**
 * Gives `x` a new shape with the same elements in the same row-major order. Dims may be
 * sizes, dim names or symbolic sizes (`['batch', 784]`); one may be -1: it is inferred
 * from the others (`[-1, 784]` of a `[batch,28,28]` is `[batch,784]`). The stored shape
 * has no -1.
 */
export function reshape(x: Tensor, shape: readonly DimLike[]): Tensor {
  requireTensor('reshape', x);
  const given = requireArray('reshape', 'shape', shape, 'an array of integers and dim names').map((d) =>
    typeof d === 'number' ? requireInteger('reshape', 'each dimension of the shape', d) : d,
  );
  const bad = given.find((d) => typeof d === 'number' && d < -1);
  if (bad !== undefined) {
    throw new ArgumentError(`reshape: shape ${formatShape(given as Shape)} has a bad dimension ${String(bad)}; use non-negative sizes and at most one -1 (or dim names such as 'batch').`);
  }
  const inferred = given.indexOf(-1);
  if (inferred < 0) return x.graph.addNode(reshapeOp, [x], { shape: checkShape('reshape', given) });
  if (given.lastIndexOf(-1) !== inferred) {
    throw new ArgumentError(`reshape: shape ${formatShape(given as Shape)} has more than one -1; only one dimension can be inferred.`);
  }
  const dims = checkShape('reshape', given.map((d) => (d === -1 ? 1 : d)));
  const known = dimProduct(dims.filter((_, i) => i !== inferred));
  const total = sizeOf(x.shape);
  const quotient = known === 0 ? undefined : dimDivide(total, known);
  if (quotient === undefined) {
    const problem =
      known === 0
        ? `the -1 in ${formatShape(given as Shape)} is ambiguous because the other dimensions hold 0 elements`
        : `shape ${formatShape(x.shape)} (${String(total)} elements) cannot be reshaped to ${formatShape(given as Shape)}: ${String(total)} is not a multiple of ${String(known)}` +
          (typeof total === 'number' && typeof known === 'number' ? '' : ' for every value of its dims');
    throw opError(ShapeError, 'reshape', [x.node], problem, 'give every dimension explicitly, or sizes whose product divides the element count');
  }
  dims[inferred] = quotient;
  return x.graph.addNode(reshapeOp, [x], { shape: dims });
}

/**
 * Permutes the axes of `x`: output axis i is input axis `perm[i]`. Without `perm`, the
 * axes are reversed (a matrix transpose for rank 2). Negative entries count from the end.
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  requireTensor('transpose', x);
  const rank = x.rank;
  let resolved: number[];
  if (perm === undefined) {
    resolved = Array.from({ length: rank }, (_, i) => rank - 1 - i);
  } else {
    const list = requireArray('transpose', 'perm', perm, 'an array of axes').map((a) => requireInteger('transpose', 'each axis of perm', a));
    resolved = list.map((a) => (a < 0 && a >= -rank ? a + rank : a));
  }
  return x.graph.addNode(transposeOp, [x], { perm: resolved });
}

/** `transpose` with an explicit permutation (PyTorch's `permute`). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  requireTensor('permute', x);
  if (perm === undefined) throw new ArgumentError('permute: perm is required; use transpose(x) to reverse the axes.');
  requireArray('permute', 'perm', perm, 'an array of axes, e.g. [0, 2, 1]');
  return transpose(x, perm);
}

/** Repeats `x` along size-1 and new leading axes to `shape` (NumPy `broadcast_to`). */
export function broadcastTo(x: Tensor, shape: readonly DimLike[]): Tensor {
  requireTensor('broadcastTo', x);
  return x.graph.addNode(broadcastToOp, [x], { shape: checkShape('broadcastTo', shape, 'target shape') });
}

/**
 * PyTorch's `expand`: `broadcastTo`, where -1 keeps the operand's size on that axis.
 * New leading axes cannot be -1 (they have no size to keep).
 */
export function expand(x: Tensor, shape: readonly DimLike[]): Tensor {
  requireTensor('expand', x);
  const dims = requireArray('expand', 'shape', shape, 'an array of integers and dim names').map((d) =>
    typeof d === 'number' ? requireInteger('expand', 'each dimension of the shape', d) : (d as DimLike),
  );
  const offset = dims.length - x.rank;
  const resolved = dims.map((d, j): DimLike => {
    if (typeof d !== 'number' || d >= 0) return d;
    if (d !== -1) {
      throw new ArgumentError(`expand: shape ${formatShape(dims as Shape)} has a bad dimension ${d}; use non-negative sizes, dim names, or -1 to keep a size.`);
    }
    if (j < offset) {
      throw opError(
        ShapeError,
        'expand',
        [x.node],
        `the -1 at position ${j} of ${formatShape(dims as Shape)} is a new leading axis, which has no size to keep`,
        'give new leading axes an explicit size',
      );
    }
    return x.shape[j - offset]!;
  });
  return broadcastTo(x, resolved);
}

/**
 * Removes size-1 axes: the given ones (negative counts from the end), or all of them.
 * Naming an axis whose size is not 1 is a ShapeError.
 */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  requireTensor('squeeze', x);
  const operands = [x.node];
  const shape = x.shape;
  const given = axes === undefined || typeof axes === 'number' ? axes : requireArray('squeeze', 'axes', axes, 'an axis or an array of axes');
  const dropped =
    given === undefined
      ? shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes('squeeze', operands, given as number | readonly number[], x.rank);
  for (const a of dropped) {
    if (shape[a] !== 1) {
      throw opError(ShapeError, 'squeeze', operands, `axis ${a} has size ${shape[a]}, not 1`, 'squeeze only size-1 axes; use reshape to merge axes');
    }
  }
  return reshape(
    x,
    shape.filter((_, i) => !dropped.includes(i)),
  );
}

/**
 * Inserts size-1 axes. `axes` are positions in the output (as NumPy `expand_dims`), so
 * `unsqueeze(x, -1)` appends an axis and `unsqueeze(x, [0, 2])` of a [3] gives [1,3,1].
 */
export function unsqueeze(x: Tensor, axes: number | readonly number[]): Tensor {
  requireTensor('unsqueeze', x);
  const list = typeof axes === 'number' ? [axes] : requireArray('unsqueeze', 'axes', axes, 'an axis or an array of axes');
  const outRank = x.rank + list.length;
  const inserted = normalizeAxes(
    'unsqueeze',
    [x.node],
    list.map((a) => requireInteger('unsqueeze', 'each axis', a)),
    outRank,
  );
  const shape: Dim[] = [];
  let next = 0;
  for (let j = 0; j < outRank; j++) shape.push(inserted.includes(j) ? 1 : x.shape[next++]!);
  return reshape(x, shape);
}

