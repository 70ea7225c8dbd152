/**
 * Slicing and joining: `slice` (strided, Python semantics), `concat` (variadic), `pad`
 * (constant mode, with XLA's interior padding) are primitives; `split` is a composite of
 * slices. slice and pad are each other's transpose, so their gradients close under
 * differentiation.
 *
 * Stored slice attributes are canonical per axis — `starts`, `steps` and the output
 * `shape` — so element i of an axis reads input index `start + i*step`, which is all a
 * WGSL lowering needs. User bounds (negative, out of range, omitted) are resolved in the
 * functional form, as Python's `slice.indices` does.
 */

import { isFloat } from '../dtype.js';
import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { dimAdd, dimDivide, dimMul, dimSub, isSymbolic } from '../dims.js';
import type { Shape, TensorType } from '../shape.js';
import { checkShape, checkStaticShape, forEachOffset, formatShape, normalizeAxis, sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireArray, requireInteger, requireObject } from './args.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import type { SliceAxis } from './slice-bounds.js';
import { firstSymbolic, provablyNonNegative, resolveAxis } from './slice-bounds.js';
import { requireTensor } from './lift.js';
import { concatKernels, padKernel, stridedCopyKernel } from '../../shaders/movement.js';

export type { SliceAxis } from './slice-bounds.js';

/** A start is symbolic only where a gradient reads back a stretch of a symbolic axis (concat's VJP). */
type SliceAttrs = { starts: readonly Dim[]; steps: readonly number[]; shape: readonly Dim[] };
type AxisAttrs = { axis: number };
/**
 * Per axis: `before` and `after` elements of `value` around the operand, and `interior`
 * ones between each pair of its elements (XLA's interior padding: element i lands at
 * before + i·(interior + 1)). The transpose of a strided slice is such a pad.
 */
type PadAttrs = { before: readonly Dim[]; after: readonly Dim[]; interior: readonly number[]; value: number };


export const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  arity: 1,
  flops: () => 0,
  vjp: ({ inputs: [x], attrs, cotangent }) => [sliceTranspose(cotangent, x!.shape, attrs)],
  infer(inputs, attrs) {
    const x = inputs[0]!;
    const rank = x.shape.length;
    const shape = checkShape('slice', attrs.shape);
    const { starts, steps } = attrs;
    if (shape.length !== rank || starts.length !== rank || steps.length !== rank) {
      throw opError(ShapeError, 'slice', inputs, `starts, steps and shape must each have one entry per axis (${rank})`, 'build slices with slice(x, spec)');
    }
    for (let a = 0; a < rank; a++) {
      const [start, step, size, n] = [starts[a]!, steps[a]!, shape[a]!, x.shape[a]!];
      if (typeof start !== 'number' || typeof size !== 'number' || typeof n !== 'number') {
        // A stretch of a symbolic axis: forward, and provably inside for every size of its dims.
        const inside = step === 1 && provablyNonNegative(start) && provablyNonNegative(size) && provablyNonNegative(dimSub(dimSub(n, start), size));
        if (!inside) {
          throw opError(
            ShapeError,
            'slice',
            inputs,
            `axis ${a} (size ${String(n)}) cannot be shown to hold ${String(size)} elements from start ${String(start)} with step ${step} for every size of dim '${firstSymbolic(n, start, size)}'`,
            `slice a symbolic axis forward with step 1 within its size, or bind the dim (dims: {${firstSymbolic(n, start, size)}: …})`,
          );
        }
        continue;
      }
      const last = start + (size - 1) * step;
      const inside = (i: number): boolean => Number.isInteger(i) && i >= 0 && i < n;
      if (!Number.isInteger(step) || step === 0 || (size > 0 && !(inside(start) && inside(last)))) {
        throw opError(
          ShapeError,
          'slice',
          inputs,
          `axis ${a} (size ${n}) cannot give ${size} elements from start ${start} with step ${step}`,
          'build slices with slice(x, spec), which resolves Python-style bounds',
        );
      }
    }
    return { shape, dtype: x.dtype };
  },
  evaluate(inputs, attrs, out, ctx) {
    const x = inputs[0]!;
    const strides = stridesOf(x.shape);
    const base = evalShape('slice', attrs.starts).reduce((sum, start, a) => sum + start * strides[a]!, 0);
    const result = emptyLike(out, ctx);
    forEachOffset(evalShape('slice', out.shape), [attrs.steps.map((step, a) => step * strides[a]!)], (i, [offset]) => {
      result.data[i] = x.data[base + offset!]!;
    });
    return result;
  },
  lower: {
    kind: 'kernel',
    emit: (ctx) => {
      const strides = stridesOf(ctx.inputs[0]!.shape);
      const { starts, steps } = ctx.attrs;
      return stridedCopyKernel(ctx, {
        base: starts.reduce<Dim>((sum, start, a) => dimAdd(sum, dimMul(start, strides[a]!)), 0),
        strides: steps.map((step, a) => dimMul(step, strides[a]!)),
      });
    },
  },
});

export const concatOp = defineOp<AxisAttrs>({
  name: 'concat',
  arity: 'variadic',
  flops: () => 0,
  // Each operand's cotangent is its own stretch of the output's along the axis.
  vjp: ({ inputs, attrs: { axis }, cotangent }) => {
    let start: Dim = 0;
    return inputs.map((x) => {
      const starts = x.shape.map((_, a) => (a === axis ? start : 0));
      start = dimAdd(start, x.shape[axis]!);
      return sliceNode(cotangent, starts, x.shape.map(() => 1), x.shape);
    });
  },
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ArgumentError('concat: needs at least one tensor.');
    const first = inputs[0]!;
    const rank = first.shape.length;
    if (rank === 0) {
      throw opError(ShapeError, 'concat', inputs, 'scalars have no axis to join along', 'unsqueeze the scalars to shape [1] first, or use stack');
    }
    const axis = normalizeAxis('concat', inputs, attrs.axis, rank);
    if (axis !== attrs.axis) throw opError(ShapeError, 'concat', inputs, `the stored axis ${attrs.axis} is not canonical`, 'build with concat(tensors, axis)');
    const shape = [...first.shape];
    inputs.forEach((t, k) => {
      if (k === 0) return;
      if (t.dtype !== first.dtype) {
        throw opError(DTypeError, 'concat', inputs, `operand ${k} is ${t.dtype} but operand 0 is ${first.dtype}`, `cast operand ${k} with .cast('${first.dtype}')`);
      }
      if (t.shape.length !== rank) {
        throw opError(ShapeError, 'concat', inputs, `operand ${k} has rank ${t.shape.length} but operand 0 has rank ${rank}`, 'reshape the operands to the same rank');
      }
      const differs = t.shape.findIndex((d, a) => a !== axis && d !== first.shape[a]);
      if (differs >= 0) {
        throw opError(
          ShapeError,
          'concat',
          inputs,
          `operand ${k} has size ${t.shape[differs]} on axis ${differs} but operand 0 has ${first.shape[differs]}; only the concat axis ${axis} may differ`,
          'make every other axis the same size',
        );
      }
      shape[axis] = dimAdd(shape[axis]!, t.shape[axis]!);
    });
    return { shape, dtype: first.dtype };
  },
  evaluate(inputs, attrs, out, ctx) {
    const result = emptyLike(out, ctx);
    const outer = sizeOf(evalShape('concat', out.shape).slice(0, attrs.axis));
    // Each operand contributes one contiguous run of `axis size × inner` per outer index.
    const runs = inputs.map((x) => sizeOf(x.shape.slice(attrs.axis)));
    let at = 0;
    for (let o = 0; o < outer; o++) {
      inputs.forEach((x, k) => {
        const run = runs[k]!;
        result.data.set(x.data.subarray(o * run, (o + 1) * run), at);
        at += run;
      });
    }
    return result;
  },
  lower: { kind: 'kernel', emit: (ctx) => concatKernels(ctx, ctx.attrs.axis) },
});

/**
 * The size of one padded axis: n elements spread `interior` apart, with `before` and
 * `after` around them. A symbolic n is ≥ 1, so its n − 1 gaps are never negative.
 */
function paddedSize(n: Dim, before: Dim, interior: number, after: Dim): Dim {
  const gaps = interior === 0 ? 0 : typeof n === 'number' ? Math.max(n - 1, 0) : dimSub(n, 1);
  return dimAdd(dimAdd(before, n), dimAdd(dimMul(gaps, interior), after));
}

export const padOp = defineOp<PadAttrs>({
  name: 'pad',
  arity: 1,
  flops: () => 0,
  // The cotangent of the operand is read back from where its elements were placed: a strided slice.
  vjp: ({ inputs: [x], attrs: { before, interior }, cotangent }) => [
    sliceNode(cotangent, before, interior.map((i) => i + 1), x!.shape),
  ],
  infer(inputs, attrs) {
    const x = inputs[0]!;
    const before = checkShape('pad', attrs.before, 'before');
    const after = checkShape('pad', attrs.after, 'after');
    const interior = checkStaticShape('pad', attrs.interior, 'interior');
    const rank = x.shape.length;
    if (before.length !== rank || after.length !== rank || interior.length !== rank) {
      throw opError(
        ShapeError,
        'pad',
        inputs,
        `needs one [before, after] pair and one interior width per axis (${rank})`,
        'build with pad(x, pads)',
      );
    }
    // n − 1 gaps of a symbolic n hold only where n ≥ 1 is known (`batch`, not `batch - 1`).
    const gapless = x.shape.findIndex((d, a) => isSymbolic(d) && interior[a]! > 0 && !provablyNonNegative(dimSub(d, 1)));
    if (gapless >= 0) {
      throw opError(ShapeError, 'pad', inputs, `axis ${gapless} has size ${String(x.shape[gapless])}, which may be 0, so its interior padding has no size for every value of its dims`, `bind the dim (dims: {${firstSymbolic(x.shape[gapless]!)}: …})`);
    }
    const negative = [...before, ...after].find((w) => !provablyNonNegative(w));
    if (negative !== undefined) {
      throw opError(ShapeError, 'pad', inputs, `the width ${String(negative)} cannot be shown to be ≥ 0 for every size of its dims`, 'pad by widths that are never negative');
    }
    checkPadValue(inputs, attrs.value, x.dtype);
    return { shape: x.shape.map((d, a) => paddedSize(d, before[a]!, interior[a]!, after[a]!)), dtype: x.dtype };
  },
  evaluate(inputs, attrs, out, ctx) {
    const x = inputs[0]!;
    const result = emptyLike(out, ctx);
    result.data.fill(attrs.value);
    const strides = stridesOf(evalShape('pad', out.shape));
    const base = evalShape('pad', attrs.before).reduce((sum, b, a) => sum + b * strides[a]!, 0);
    const spread = strides.map((s, a) => s * (attrs.interior[a]! + 1));
    forEachOffset(x.shape, [spread], (i, [offset]) => {
      result.data[base + offset!] = x.data[i]!;
    });
    return result;
  },
  lower: { kind: 'kernel', emit: (ctx) => padKernel(ctx, ctx.attrs) },
});

/**
 * A slice node from per-axis start, step and size, made canonical as `slice(x, spec)`
 * makes it (an empty axis reads from 0 with step 1, a single element with step 1), so
 * gradients CSE with the user's own slices.
 */
function sliceNode(x: Tensor, starts: readonly Dim[], steps: readonly number[], shape: Shape): Tensor {
  return x.graph.addNode(sliceOp, [x], {
    starts: shape.map((n, a) => (n === 0 ? 0 : starts[a]!)),
    steps: shape.map((n, a) => (n === 0 || n === 1 ? 1 : steps[a]!)),
    shape: [...shape],
  });
}

/**
 * The transpose of a strided slice of an axis of length L: a pad with zeros that puts
 * element i back at start + i·step. A negative step reads the axis backward, so the
 * cotangent is reversed first and placed from the smallest index read, forward.
 */
function sliceTranspose(g: Tensor, inputShape: Shape, { starts, steps, shape }: SliceAttrs): Tensor {
  // A symbolic axis is sliced forward with step 1 (the shape rule holds to it): only static axes read backward or strided.
  const backward = steps.map((step, a) => step < 0 && shape[a] !== 0 && shape[a] !== 1);
  const forward = backward.some(Boolean)
    ? sliceNode(
        g,
        shape.map((n, a) => (backward[a] ? dimSub(n, 1) : 0)),
        backward.map((b) => (b ? -1 : 1)),
        shape,
      )
    : g;
  const first = starts.map((start, a) => (backward[a] ? dimAdd(start, dimMul(dimSub(shape[a]!, 1), steps[a]!)) : start));
  const before = first.map((start, a) => (shape[a] === 0 ? 0 : start));
  const interior = steps.map((step, a) => (shape[a] !== 0 && shape[a] !== 1 ? Math.abs(step) - 1 : 0));
  const after = inputShape.map((length, a) => dimSub(length, paddedSize(shape[a]!, before[a]!, interior[a]!, 0)));
  return padWithInterior(forward, { before, after, interior });
}

function checkPadValue(inputs: readonly TensorType[], value: number, dtype: DType): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    // Infinity is not JSON: attributes would not survive a save. f32's extremes do the same job.
    throw opError(
      ArgumentError,
      'pad',
      inputs,
      `the pad value must be a finite number, got ${String(value)}`,
      'for max-pooling style padding use -3.4028234663852886e38 (the lowest f32)',
    );
  }
  const fits = isFloat(dtype) || (dtype === 'bool' ? value === 0 || value === 1 : value === (value | 0));
  if (!fits) {
    throw opError(DTypeError, 'pad', inputs, `the pad value ${value} is not a ${dtype} value`, dtype === 'bool' ? 'pad bool with 0 or 1' : 'pad with an integer in the i32 range');
  }
}

/**
 * Strided slice with Python semantics, one entry per leading axis (omitted trailing
 * axes are taken whole): negative bounds count from the end, out-of-range bounds clamp,
 * negative steps walk backward, step 0 is an error. The result may have size 0.
 *
 * ```ts
 * slice(x, [{ start: 1, end: 5, step: 2 }])   // x[1:5:2]
 * slice(x, [null, [null, null, -1]])          // x[:, ::-1]
 * ```
 */
export function slice(x: Tensor, spec: readonly SliceAxis[]): Tensor {
  requireTensor('slice', x);
  const axes = requireArray('slice', 'spec', spec, 'an array with one entry per axis') as readonly SliceAxis[];
  if (axes.length > x.rank) {
    throw opError(ShapeError, 'slice', [x.node], `the spec has ${axes.length} entries but the operand has rank ${x.rank}`, 'give at most one entry per axis');
  }
  const resolved = x.shape.map((n, a) => resolveAxis(x, n, a < axes.length ? axes[a]! : null, a));
  return x.graph.addNode(sliceOp, [x], {
    starts: resolved.map((r) => r.start),
    steps: resolved.map((r) => r.step),
    shape: resolved.map((r) => r.size),
  });
}

/** Joins tensors along an existing axis (negative counts from the end). */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const list = requireArray('concat', 'tensors', tensors, 'an array of Tensors');
  if (list.length === 0) throw new ArgumentError('concat: needs at least one tensor; got an empty list.');
  const operands = list.map((t, k) => requireTensor('concat', t, `operand ${k}`));
  const types = operands.map((t) => t.node);
  const rank = types[0]!.shape.length;
  requireInteger('concat', 'axis', axis);
  // Scalars are left to the shape rule, whose message says why they cannot be joined.
  const canonical = rank === 0 ? axis : normalizeAxis('concat', types, axis, rank);
  return operands[0]!.graph.addNode(concatOp, operands, { axis: canonical });
}

/**
 * Splits `x` along `axis` into `count` equal parts, or into parts of the given sizes
 * (which must sum to the axis size). Returns the parts in order.
 */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  requireTensor('split', x);
  const a = normalizeAxis('split', [x.node], requireInteger('split', 'axis', axis), x.rank);
  const n = x.shape[a]!;
  let sizes: Dim[];
  if (typeof sizesOrCount === 'number') {
    const count = requireInteger('split', 'the count', sizesOrCount);
    if (count <= 0) throw new ArgumentError(`split: the count must be a positive integer, got ${count}.`);
    const part = dimDivide(n, count);
    if (part === undefined) {
      throw opError(
        ShapeError,
        'split',
        [x.node],
        `axis ${a} has size ${String(n)}, which ${count} does not divide${isSymbolic(n) ? ` for every size of dim '${firstSymbolic(n)}'` : ''}`,
        'pass a count that divides it, or a list of sizes',
      );
    }
    sizes = new Array<Dim>(count).fill(part);
  } else {
    const given = requireArray('split', 'sizes', sizesOrCount, 'a count or an array of sizes').map((s) => requireInteger('split', 'each size', s));
    const negative = given.find((s) => s < 0);
    if (negative !== undefined) throw new ArgumentError(`split: sizes must be non-negative, got ${negative}.`);
    const total = given.reduce((sum, s) => sum + s, 0);
    if (total !== n) {
      throw opError(
        ShapeError,
        'split',
        [x.node],
        `sizes ${formatShape(given)} sum to ${total} but axis ${a} has size ${String(n)}`,
        isSymbolic(n) ? `split a symbolic axis into a count of equal parts, or bind the dim (dims: {${firstSymbolic(n)}: …})` : 'give sizes that sum to the axis size',
      );
    }
    sizes = given;
  }
  // Parts are slice nodes as slice(x, spec) builds them; a part of a symbolic axis may start at a symbolic offset.
  let start: Dim = 0;
  return sizes.map((size) => {
    const node = sliceNode(x, x.shape.map((_, b) => (b === a ? start : 0)), x.shape.map(() => 1), x.shape.map((d, b) => (b === a ? size : d)));
    start = dimAdd(start, size);
    return node;
  });
}

/**
 * Pads `x` with a constant: `pads[a] = [before, after]` elements on axis a, one pair per
 * axis (giving fewer pairs than the rank is an error, so no axis is padded by accident).
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  requireTensor('pad', x);
  const pairs = requireArray('pad', 'pads', pads, 'an array of [before, after] pairs');
  if (pairs.length !== x.rank) {
    throw opError(
      ShapeError,
      'pad',
      [x.node],
      `got ${pairs.length} [before, after] pairs for rank ${x.rank}`,
      'give one pair per axis, [0, 0] for an axis not padded',
    );
  }
  const widths = pairs.map((pair, a) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new ArgumentError(`pad: pads[${a}] must be a [before, after] pair, got ${JSON.stringify(pair)}.`);
    }
    return (pair as readonly unknown[]).map((w) => {
      const width = requireInteger('pad', `pads[${a}]`, w);
      if (width < 0) {
        throw new ArgumentError(`pad: pads[${a}] has a negative width ${width}; pad only adds. Fix: use slice to remove elements.`);
      }
      return width;
    });
  });
  return padWithInterior(x, { before: widths.map((w) => w[0]!), after: widths.map((w) => w[1]!) }, value);
}

/** Widths of a general pad, one entry per axis; `interior` defaults to none. */
export interface PadWidths {
  readonly before: readonly Dim[];
  readonly after: readonly Dim[];
  readonly interior?: readonly number[];
}

/**
 * The general pad primitive (XLA's): per axis, `before`/`after` elements of `value`
 * around `x` and `interior` ones between each pair of its elements. This is how a strided
 * slice is transposed; most code wants `pad(x, pads, value)`. Widths are checked by the
 * node's shape rule (non-negative integers, one per axis).
 *
 * @internal
 */
export function padWithInterior(x: Tensor, widths: PadWidths, value = 0): Tensor {
  requireTensor('pad', x);
  requireObject('padWithInterior', 'widths', widths, '{before, after, interior?}');
  requireArray('padWithInterior', 'widths.before', widths.before, 'an array of widths');
  requireArray('padWithInterior', 'widths.after', widths.after, 'an array of widths');
  const interior = widths.interior ?? x.shape.map(() => 0);
  return x.graph.addNode(padOp, [x], { before: [...widths.before], after: [...widths.after], interior: [...interior], value });
}
