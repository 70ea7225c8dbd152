/**
 * Reductions over any set of axes (sum, mean, max, min, prod, logsumexp) and the index
 * reductions argmax/argmin. Every reduction node stores canonical attributes: axes
 * non-negative, sorted and distinct, and an explicit keepdims, so two spellings of the
 * same reduction (`axes -1` and `axes 1` on a matrix) are the same node for CSE.
 *
 * Empty reductions follow NumPy where it has an answer: sum of nothing is 0, prod is 1,
 * mean is NaN (0/0), logsumexp is −∞ (log of an empty sum); max, min, argmax and argmin
 * have no identity, so reducing a size-0 axis with them is a ShapeError. What each one
 * computes (identity, combine, finalize, NaN behaviour) is its reducer (./reducers.ts),
 * which the reference below and every WGSL emitter follow.
 */

import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { dimProduct } from '../dims.js';
import type { Shape, StaticShape, TensorType } from '../shape.js';
import { checkShape, forEachOffset, normalizeAxes, normalizeAxis, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { DTypeClass } from './elementwise.js';
import { checkDTypes } from './elementwise.js';
import { requireTensor } from './lift.js';
import { checkKeys } from './args.js';
import type { Attrs, FoldReducer, HostArray, IndexReducer, KernelSpec, LoweringContext, OpDef, Reducer, Reduction, VjpArgs, VjpRule } from './op.js';
import { argmaxReducer, argminReducer, logsumexpReducer, maxReducer, meanReducer, minReducer, prodReducer, sumReducer } from './reducers.js';
import { reduceKernel } from '../../shaders/reduce.js';
import { broadcastTo, reshape } from './shape.js';
import { defineOp, emptyLike, noGradient, reductionOf } from './op.js';
import { div, equal, mul, sub, where } from './binary.js';
import { cast } from './cast.js';
import { dimSize } from './dim-size.js';
import { exp } from './unary.js';

export { argmaxReducer, argminReducer, logsumexpReducer, maxReducer, meanReducer, minReducer, prodReducer, sumReducer } from './reducers.js';

export type ReduceAttrs = { axes: number[]; keepdims: boolean };
/** `axis: null` reduces the flattened tensor to one index, as NumPy's `axis=None`. */
export type ArgReduceAttrs = { axis: number | null; keepdims: boolean };

function reducedShape(shape: StaticShape, axes: readonly number[], keepdims: boolean): number[];
function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[];
function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  if (keepdims) return shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return shape.filter((_, i) => !axes.includes(i));
}

/** Stored attributes are checked too, so a hand-edited graph cannot smuggle in `axes: [-1]`. */
function checkAttrs(op: string, x: TensorType, axes: readonly number[], keepdims: unknown): void {
  const rank = x.shape.length;
  const canonical =
    Array.isArray(axes) &&
    axes.every((a, i) => Number.isInteger(a) && a >= 0 && a < rank && (i === 0 || a > axes[i - 1]!));
  if (!canonical) {
    throw opError(
      ArgumentError,
      op,
      [x],
      `the axes attribute [${String(axes)}] is not canonical (distinct, sorted, in [0, ${rank - 1}])`,
      `build the node with the functional ${op}(x, ...), which normalizes axes`,
    );
  }
  if (typeof keepdims !== 'boolean') {
    throw opError(ArgumentError, op, [x], `keepdims must be a boolean, got ${String(keepdims)}`, 'pass true or false');
  }
}

/** Max, min, argmax and argmin have no value for an empty set. */
function checkNonEmpty(op: string, x: TensorType, axes: readonly number[]): void {
  const empty = axes.find((a) => x.shape[a] === 0);
  if (empty !== undefined) {
    throw opError(
      ShapeError,
      op,
      [x],
      `axis ${empty} has size 0 and ${op} of an empty set has no identity`,
      'reduce only over non-empty axes, or use sum (identity 0) or prod (identity 1)',
    );
  }
}

/**
 * Calls `visit(outIndex, inIndex)` for every input element, in row-major order, with the
 * index of the output element it reduces into. Row-major order is what makes argmax
 * keep the first of tied values.
 */
function forEachReduced(x: HostArray, axes: readonly number[], visit: (outIndex: number, inIndex: number) => void): void {
  const kept = reducedShape(x.shape, axes, true);
  const outStrides = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
  forEachOffset(x.shape, [outStrides], (inIndex, [outIndex]) => visit(outIndex!, inIndex));
}

/** The host fold of a group-folding reducer: its shift pass (if any), its own pass, then finalize. */
function evaluateFold(reducer: FoldReducer, x: HostArray, axes: readonly number[], outSize: number): Float64Array {
  const count = axes.reduce((c, a) => c * x.shape[a]!, 1);
  const fold = (r: FoldReducer, value: (v: number, o: number) => number): Float64Array => {
    const acc = new Float64Array(outSize).fill(r.identity);
    forEachReduced(x, axes, (o, i) => {
      acc[o] = r.combine.host(acc[o]!, value(x.data[i]!, o), x.dtype);
    });
    return acc;
  };
  const { shift, finalize } = reducer;
  const shifts = shift ? fold(shift.reducer, (v) => v) : undefined;
  const acc = shift ? fold(reducer, (v, o) => shift.host(v, shifts![o]!)) : fold(reducer, (v) => v);
  if (!finalize) return acc;
  return acc.map((a, o) => finalize.host(a, shifts ? { count, shift: shifts[o]! } : { count }));
}

/** A reduction along axis 1 of a [rows, length] value, as a row kernel computes it. */
const alongAxisOne = ({ axes }: ReduceAttrs): boolean => axes.length === 1 && axes[0] === 1;

function defineReduce(
  reducer: FoldReducer,
  accepts: DTypeClass,
  options: { vjp: VjpRule<ReduceAttrs>; inRowKernels: boolean },
): OpDef<ReduceAttrs> {
  const name = reducer.op;
  const reduction: Reduction<ReduceAttrs> = { reducer, axes: ({ axes }) => axes };
  return defineOp<ReduceAttrs>({
    name,
    arity: 1,
    vjp: options.vjp,
    reduction,
    // prod has no row rule only because row fusion never took it (adding it changes plans).
    ...(options.inRowKernels ? { row: { kind: 'reduce', reducer, alongRows: alongAxisOne } } : {}),
    infer(inputs, { axes, keepdims }) {
      const x = inputs[0]!;
      const dtype = checkDTypes(name, inputs, accepts);
      checkAttrs(name, x, axes, keepdims);
      if (reducer.refusesEmpty) checkNonEmpty(name, x, axes);
      return { shape: reducedShape(x.shape, axes, keepdims), dtype };
    },
    evaluate(inputs, { axes }, out, ctx) {
      const result = emptyLike(out, ctx);
      result.data.set(evaluateFold(reducer, inputs[0]!, axes, result.data.length));
      return result;
    },
    lower: { kind: 'kernel', acceptsEpilogue: true, acceptsPrologue: true, emit: (lowering) => lowerReduction(lowering, reducer, lowering.attrs.axes) },
  });
}

/** Both kinds of reduction lower through one template, given the op's reducer; keepdims leaves the output's layout unchanged. */
function lowerReduction<A extends Attrs>(ctx: LoweringContext<A>, reducer: Reducer, axes: readonly number[]): KernelSpec[] {
  const x = ctx.inputs[0]!;
  return reduceKernel({
    name: ctx.name,
    header: ctx.header,
    limits: ctx.limits,
    reducer,
    ids: [x.id, ctx.node.id],
    shape: x.shape,
    dtype: x.dtype,
    axes,
    ...(ctx.epilogue ? { epilogue: ctx.epilogue } : {}),
    ...(ctx.prologue ? { prologue: ctx.prologue } : {}),
    ...(ctx.tuning ? { tuning: ctx.tuning } : {}),
    dims: ctx.dims,
  });
}

/**
 * Spreads a reduction's output-shaped tensor `y` back over the reduced axes of `x`'s
 * shape: reinsert the reduced axes as size 1 (unless kept), then broadcast.
 */
export function broadcastBack(y: Tensor, x: Tensor, attrs: ReduceAttrs): Tensor {
  requireTensor('broadcastBack', y);
  requireTensor('broadcastBack', x);
  checkKeys('broadcastBack', attrs, ['axes', 'keepdims']);
  const { axes, keepdims } = attrs;
  const kept = keepdims ? y : reshape(y, reducedShape(x.shape, axes, true));
  return broadcastTo(kept, x.shape);
}

export const sumOp = defineReduce(sumReducer, 'numeric', {
  vjp: ({ inputs: [x], attrs, cotangent }) => [broadcastBack(cotangent, x!, attrs)],
  inRowKernels: true,
});

/**
 * d prod / d x_i is the product of the group's other elements, computed without dividing
 * by x_i (which turns a zero into NaN): with zeros replaced by 1, the others' product is
 * prod(nonzero) / nonzero_i when no *other* element is zero, and 0 otherwise. Exact for
 * groups holding one zero (its gradient is the product of the rest) or several (all 0).
 * Differentiated again, it is exact away from zeros; at a zero the 0 branch is a constant,
 * so the second derivative there misses the terms through that zero.
 */
function prodVjp({ inputs: [x], attrs, cotangent }: VjpArgs<ReduceAttrs>): Tensor[] {
  const isZero = equal(x!, 0);
  const nonzero = where(isZero, 1, x!);
  const zeroFlags = cast(isZero, x!.dtype);
  const zeros = broadcastBack(sum(zeroFlags, attrs.axes, attrs.keepdims), x!, attrs);
  const product = broadcastBack(prod(nonzero, attrs.axes, attrs.keepdims), x!, attrs);
  const othersHaveNoZero = equal(sub(zeros, zeroFlags), 0);
  const others = where(othersHaveNoZero, div(product, nonzero), 0);
  return [mul(broadcastBack(cotangent, x!, attrs), others)];
}

export const prodOp = defineReduce(prodReducer, 'numeric', { vjp: prodVjp, inRowKernels: false });

/**
 * max/min send the cotangent to the elements equal to the result, split evenly among
 * ties (as JAX), so the gradient is a fair subgradient and sums to the cotangent. The
 * weights depend on x only through comparisons, so a second derivative sees them as constants.
 */
const extremumVjp: VjpRule<ReduceAttrs> = ({ inputs: [x], output, attrs, cotangent }) => {
  const hits = cast(equal(x!, broadcastBack(output, x!, attrs)), x!.dtype);
  const ties = broadcastBack(sum(hits, attrs.axes, attrs.keepdims), x!, attrs);
  return [mul(broadcastBack(cotangent, x!, attrs), div(hits, ties))];
};

export const maxOp = defineReduce(maxReducer, 'numeric', { vjp: extremumVjp, inRowKernels: true });
export const minOp = defineReduce(minReducer, 'numeric', { vjp: extremumVjp, inRowKernels: true });

export const meanOp = defineReduce(meanReducer, 'float', {
  vjp: ({ inputs: [x], attrs, cotangent }) => {
    const count = dimProduct(attrs.axes.map((a) => x!.shape[a]!));
    const spread = broadcastBack(cotangent, x!, attrs);
    // A symbolic count is known only at run time: divide by the graph-level size (≥ 1, as every symbolic dim).
    if (typeof count !== 'number') return [div(spread, dimSize(x!.graph, count, x!.dtype))];
    // An empty group has an empty gradient: any finite scale will do (1/0 is not JSON).
    return [mul(spread, 1 / Math.max(count, 1))];
  },
  inRowKernels: true,
});

export const logsumexpOp = defineReduce(logsumexpReducer, 'float', {
  // The gradient is the softmax over the group, exp(x − y): x − y ≤ 0, so exp cannot overflow.
  vjp: ({ inputs: [x], output, attrs, cotangent }) => [
    mul(broadcastBack(cotangent, x!, attrs), exp(sub(x!, broadcastBack(output, x!, attrs)))),
  ],
  inRowKernels: true,
});

function defineArgReduce(reducer: IndexReducer): OpDef<ArgReduceAttrs> {
  const name = reducer.op;
  const better = reducer.better.host;
  // With axis null the group is the whole flattened tensor: its flat index is the position.
  const reduction: Reduction<ArgReduceAttrs> = {
    reducer,
    axes: ({ axis }, rank) => (axis === null ? Array.from({ length: rank }, (_, i) => i) : [axis]),
  };
  return defineOp<ArgReduceAttrs>({
    name,
    arity: 1,
    vjp: noGradient,
    reduction,
    lower: {
      kind: 'kernel',
      acceptsEpilogue: true,
      acceptsPrologue: true,
      emit: (ctx) => lowerReduction(ctx, reducer, reduction.axes(ctx.attrs, ctx.inputs[0]!.shape.length)),
    },
    infer(inputs, { axis, keepdims }) {
      const x = inputs[0]!;
      checkDTypes(name, inputs, 'numeric');
      if (axis === null) {
        checkAttrs(name, x, [], keepdims);
        checkNonEmpty(name, x, x.shape.map((_, i) => i));
        return { shape: keepdims ? x.shape.map(() => 1) : [], dtype: 'i32' };
      }
      checkAttrs(name, x, [axis], keepdims);
      checkNonEmpty(name, x, [axis]);
      return { shape: reducedShape(x.shape, [axis], keepdims), dtype: 'i32' };
    },
    evaluate(inputs, attrs, out, ctx) {
      const x = inputs[0]!;
      const { axis } = attrs;
      const result = emptyLike(out, ctx);
      const axes = reduction.axes(attrs, x.shape.length);
      // The index within the reduced group: the flat index, or the coordinate on `axis`.
      const stride = axis === null ? 1 : stridesOf(x.shape)[axis]!;
      const position = axis === null ? (i: number) => i : (i: number) => Math.floor(i / stride) % x.shape[axis]!;
      const best = new Float64Array(result.data.length);
      const seen = new Uint8Array(result.data.length);
      forEachReduced(x, axes, (o, i) => {
        const v = x.data[i]!;
        if (!seen[o] || better(v, best[o]!)) {
          seen[o] = 1;
          best[o] = v;
          result.data[o] = position(i);
        }
      });
      return result;
    },
  });
}

export const argmaxOp = defineArgReduce(argmaxReducer);
export const argminOp = defineArgReduce(argminReducer);

/**
 * Whether the node sums a 2-D input over axis 0 to a 1-D result (a bias gradient): a
 * matmul xᵀ·g of the same input can compute it beside its product (`acceptsColumnSums`).
 */
export function isColumnSum(node: { readonly op: string; readonly attrs: Attrs; readonly shape: Shape }): boolean {
  if (node === null || typeof node !== 'object') throw new ArgumentError(`isColumnSum: expected a graph node, got ${node === null ? 'null' : typeof node}.`);
  const reduction = reductionOf(node);
  if (reduction?.reducer !== sumReducer || node.shape.length !== 1) return false;
  const axes = reduction.axes(node.attrs, 2);
  return axes.length === 1 && axes[0] === 0;
}

function checkIntegerAxes(op: string, axes: number | readonly number[] | undefined): void {
  if (axes === undefined) return;
  const list: readonly unknown[] = typeof axes === 'number' ? [axes] : Array.isArray(axes) ? axes : [axes];
  const bad = list.find((a) => typeof a !== 'number' || !Number.isInteger(a));
  if (bad !== undefined) {
    throw new ArgumentError(`${op}: axes must be integers (or a list of them), got ${String(bad)}.`);
  }
}

const reduction =
  (def: OpDef<ReduceAttrs>) =>
  (x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor => {
    requireTensor(def.name, x);
    checkIntegerAxes(def.name, axes);
    const attrs = { axes: normalizeAxes(def.name, [x.node], axes, x.rank), keepdims };
    if (attrs.axes.length === 0) {
      // Reducing over no axes is the identity: check operand and keepdims as the node would, add no node.
      def.infer([x.node], attrs);
      return x;
    }
    return x.graph.addNode(def, [x], attrs);
  };

/**
 * Sum over `axes` (default: every axis); negative axes count from the end. f32 or i32
 * (i32 wraps on overflow, as on the GPU). A size-0 axis sums to 0. Reducing over no
 * axes (`[]`, or a scalar with no axes given) returns `x` itself and adds no node.
 */
export const sum = reduction(sumOp);
/** Mean over `axes` (default: every axis); f32 only. The mean of a size-0 axis is NaN, as NumPy. */
export const mean = reduction(meanOp);
/** Max over `axes` (default: every axis); NaN if the group holds a NaN. A size-0 axis is a ShapeError. */
export const max = reduction(maxOp);
/** Min over `axes` (default: every axis); NaN if the group holds a NaN. A size-0 axis is a ShapeError. */
export const min = reduction(minOp);
/** Product over `axes` (default: every axis); f32 or i32 (wrapping). A size-0 axis gives 1. */
export const prod = reduction(prodOp);
/**
 * log Σ exp(x) over `axes` (default: every axis), computed stably (shifted by the max);
 * f32 only. A group of all −∞ (or a size-0 axis) gives −∞, not NaN.
 */
export const logsumexp = reduction(logsumexpOp);

const argReduction =
  (def: OpDef<ArgReduceAttrs>) =>
  (x: Tensor, axis?: number, keepdims = false): Tensor => {
    requireTensor(def.name, x);
    if (axis !== undefined && (typeof axis !== 'number' || !Number.isInteger(axis))) {
      throw new ArgumentError(`${def.name}: axis must be an integer or undefined, got ${String(axis)}.`);
    }
    const normalized = axis === undefined ? null : normalizeAxis(def.name, [x.node], axis, x.rank);
    return x.graph.addNode(def, [x], { axis: normalized, keepdims });
  };

/**
 * Index (i32) of the largest value along `axis`, or in the flattened tensor when `axis`
 * is undefined (a scalar index, as NumPy). Ties give the first index; a NaN counts as
 * the largest. A size-0 axis is a ShapeError.
 */
export const argmax = argReduction(argmaxOp);
/**
 * Index (i32) of the smallest value along `axis`, or in the flattened tensor when `axis`
 * is undefined. Ties give the first index; a NaN counts as the smallest (NumPy returns
 * the first NaN for argmin too). A size-0 axis is a ShapeError.
 */
export const argmin = argReduction(argminOp);

/**
 * Sums `x` down to `shape`, undoing NumPy broadcasting: leading axes `x` has and `shape`
 * lacks are summed away, and axes where `shape` has 1 are summed with keepdims. This is
 * how a gradient of a broadcast operand gets back to the operand's shape.
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  requireTensor('sumToShape', x);
  checkShape('sumToShape', shape);
  const lead = x.rank - shape.length;
  const mismatch = (): never => {
    throw opError(
      ShapeError,
      'sumToShape',
      [x.node],
      `[${shape.join(',')}] does not broadcast to [${x.shape.join(',')}]`,
      'pass a shape the tensor was broadcast from',
    );
  };
  if (lead < 0) mismatch();
  const leading = Array.from({ length: lead }, (_, i) => i);
  const ones = shape.flatMap((d, i) => {
    const from = x.shape[lead + i]!;
    if (d === from) return [];
    if (d !== 1) mismatch();
    return [lead + i];
  });
  if (leading.length === 0 && ones.length === 0) return x;
  const summed = ones.length > 0 ? sum(x, ones, true) : x;
  return leading.length > 0 ? sum(summed, leading) : summed;
}
