/**
 * Neural-network building blocks. softmax and logSoftmax are primitives with one axis
 * attribute: their reference shifts by the max in double precision, so results stay
 * accurate at logits of ±1e4 in f32 (a composite x − logsumexp(x) would cancel two
 * numbers near 1e4 and keep only an ulp of 1e4), and a single node per softmax is what
 * fusion and lowering want to see. oneHot is a primitive; the losses are composites.
 */

import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import { normalizeAxis, sameShape, sizeOf, staticDim } from '../shape.js';
import type { TensorType } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul, sub, where } from './binary.js';
import { requireTensor } from './lift.js';
import { checkKeys } from './args.js';
import type { EvalContext, HostArray, OpDef, RowRule, VjpRule } from './op.js';
import { defineOp, emptyLike, noGradient } from './op.js';
import { logsumexpReducer, mean, sum } from './reduce.js';
import { exp, neg, square } from './unary.js';
import { oneHotKernel, softmaxKernel } from '../../shaders/softmax.js';
import { EXP, LOG } from '../../shaders/elementwise.js';
import type { RowNormalize } from '../codegen/reducer.js';
import { foldGroup } from '../codegen/reducer.js';

/** Composites check their operands under their own name, so an error names the call the user wrote. */
function requireF32(op: string, operands: readonly TensorType[], checked: readonly TensorType[], what: string): void {
  if (checked.some((t) => t.dtype !== 'f32')) {
    const got = checked.map((t) => t.dtype).join(' and ');
    throw opError(DTypeError, op, operands, `${what} must be f32, got ${got}`, "cast with .cast('f32')");
  }
}

type AxisAttrs = { axis: number };

/**
 * Applies `row` to every 1-D slice along `axis` (its softmax, in double), writing the
 * results in place of the slice.
 */
function evaluateAlongAxis(
  x: HostArray,
  axis: number,
  out: TensorType,
  ctx: EvalContext,
  row: (values: Float64Array) => void,
): HostArray {
  const result = emptyLike(out, ctx);
  const length = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const values = new Float64Array(length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      for (let k = 0; k < length; k++) values[k] = x.data[base + k * inner]!;
      row(values);
      for (let k = 0; k < length; k++) result.data[base + k * inner] = values[k]!;
    }
  }
  return result;
}

/**
 * How softmax and logSoftmax compute each element along `axis` from the slice's
 * logsumexp fold (its max `shift`, the sum `total` of exp(x − shift)), said once for the
 * reference, the softmax template and the row kernel. A slice holding a NaN, of only −∞,
 * or with two +∞ (or +∞ and −∞) has a NaN total, so every element is NaN, as NumPy's
 * exp(x − max) / Σ and PyTorch give; a slice with one +∞ too ([+∞, 1]: exp(+∞ − +∞) is NaN).
 */
type NormalizeRule = Extract<RowRule<AxisAttrs>, { kind: 'normalize' }>;
const softmaxRow = (element: RowNormalize): NormalizeRule => ({
  kind: 'normalize',
  reducer: logsumexpReducer,
  alongRows: ({ axis }) => axis === 1,
  element,
});

function defineSoftmax(name: string, row: NormalizeRule, vjp: VjpRule<AxisAttrs>): OpDef<AxisAttrs> {
  return defineOp<AxisAttrs>({
    name,
    arity: 1,
    vjp,
    row,
    infer(inputs, { axis }) {
      const x = inputs[0]!;
      requireF32(name, inputs, inputs, 'the operand');
      if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
        throw opError(ShapeError, name, inputs, `axis ${String(axis)} is not an axis of a rank-${x.shape.length} tensor`, 'pass an axis in range');
      }
      return { shape: x.shape, dtype: 'f32' };
    },
    // In double: the fold and each element, rounded to f32 once when stored.
    evaluate: (inputs, { axis }, out, ctx) =>
      evaluateAlongAxis(inputs[0]!, axis, out, ctx, (values) => {
        const fold = foldGroup(row.reducer, values, 'f32');
        for (let k = 0; k < values.length; k++) values[k] = row.element.host(values[k]!, fold);
      }),
    lower: {
      kind: 'kernel',
      emit: ({ node, inputs: [x], attrs: { axis }, name: kernel, header, limits, dims }) =>
        softmaxKernel({ name: kernel, header, limits, ids: [x!.id, node.id], shape: x!.shape, axis, reducer: row.reducer, element: row.element, dims }),
    },
  });
}

// Both gradients are written with the output y, never re-exponentiating x: exp(logSoftmax) ≤ 1 cannot overflow.
// logSoftmax's log keeps NaN (kiln_log: SwiftShader's log(NaN) is 89.1), so a NaN total gives NaN.
export const logSoftmaxOp = defineSoftmax(
  'logSoftmax',
  softmaxRow({ wgsl: (x, { total, shift }) => `${x} - ${shift} - kiln_log(${total})`, helpers: LOG, host: (x, { total, shift }) => x - shift - Math.log(total) }),
  // dx = g − softmax(x)·Σg: every output shares the subtracted log Σ exp.
  ({ output: y, attrs: { axis }, cotangent: g }) => [sub(g, mul(exp(y), sum(g, axis, true)))],
);
export const softmaxOp = defineSoftmax(
  'softmax',
  softmaxRow({ wgsl: (x, { total, shift }) => `kiln_exp(${x} - ${shift}) / ${total}`, helpers: EXP, host: (x, { total, shift }) => Math.exp(x - shift) / total }),
  // dx = y·(g − Σ g·y): the Jacobian diag(y) − y·yᵀ applied to g.
  ({ output: y, attrs: { axis }, cotangent: g }) => [mul(y, sub(g, sum(mul(g, y), axis, true)))],
);

function softmaxAxis(op: string, x: Tensor, axis: number): number {
  requireTensor(op, x);
  requireF32(op, [x.node], [x.node], 'the operand');
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new ArgumentError(`${op}: axis must be an integer, got ${String(axis)}.`);
  }
  return normalizeAxis(op, [x.node], axis, x.rank);
}

/** log softmax(x) along `axis` (default the last): (x − max) − log Σ exp(x − max). f32 only. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const checked = softmaxAxis('logSoftmax', x, axis);
  return x.graph.addNode(logSoftmaxOp, [x], { axis: checked });
}

/**
 * softmax(x) along `axis` (default the last): each slice sums to 1; inputs of ±1e4 neither
 * overflow nor lose accuracy. f32 only.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const checked = softmaxAxis('softmax', x, axis);
  return x.graph.addNode(softmaxOp, [x], { axis: checked });
}

export type OneHotAttrs = { depth: number; dtype: DType; axis: number };

export const oneHotOp = defineOp<OneHotAttrs>({
  name: 'oneHot',
  arity: 1,
  vjp: noGradient,
  infer(inputs, { depth, dtype, axis }) {
    const indices = inputs[0]!;
    if (indices.dtype !== 'i32') {
      throw opError(
        DTypeError,
        'oneHot',
        inputs,
        `indices must be i32, got ${indices.dtype}`,
        "pass class indices as i32 (declare the input with dtype 'i32', or .cast('i32'))",
      );
    }
    if (!Number.isInteger(depth) || depth < 1) {
      const problem = `depth must be a positive integer, got ${String(depth)}`;
      throw opError(ArgumentError, 'oneHot', inputs, problem, 'pass the number of classes');
    }
    if (dtype !== 'f32' && dtype !== 'i32' && dtype !== 'bool') {
      const problem = `dtype must be 'f32', 'i32' or 'bool', got '${String(dtype)}'`;
      throw opError(ArgumentError, 'oneHot', inputs, problem, "use 'f32' (the default), 'i32' or 'bool' (a mask)");
    }
    const rank = indices.shape.length;
    if (!Number.isInteger(axis) || axis < 0 || axis > rank) {
      throw opError(
        ArgumentError,
        'oneHot',
        inputs,
        `the axis attribute ${String(axis)} is not in [0, ${rank}]`,
        'build the node with the functional oneHot, which normalizes axis',
      );
    }
    const shape = [...indices.shape];
    shape.splice(axis, 0, depth);
    return { shape, dtype };
  },
  evaluate(inputs, { depth, axis }, out, ctx) {
    const indices = inputs[0]!;
    const result = emptyLike(out, ctx);
    // Index i = (outer, inner) around `axis`; its one sits at (outer, index, inner).
    const inner = indices.shape.slice(axis).reduce((a, b) => a * b, 1);
    indices.data.forEach((index, i) => {
      // Out-of-range (and negative) indices give an all-zero slice, as TF and ONNX do.
      if (index < 0 || index >= depth) return;
      const outer = Math.floor(i / inner);
      result.data[(outer * depth + index) * inner + (i % inner)] = 1;
    });
    return result;
  },
  lower: {
    kind: 'kernel',
    emit: ({ node, inputs: [indices], attrs: { depth, dtype, axis }, name, header, limits, dims }) =>
      oneHotKernel({ name, header, limits, ids: [indices!.id, node.id], indices: indices!.shape, depth, axis, dtype, dims }),
  },
});

export interface OneHotOptions {
  /** Element type of the result. Default 'f32'; 'bool' gives a mask for `where`. */
  dtype?: DType;
  /** Where the new axis of size `depth` goes in the result; default -1 (last). */
  axis?: number;
}

/**
 * One-hot encoding of i32 class `indices`: a new axis of size `depth` (last by default)
 * holding 1 at the index and 0 elsewhere. An index outside [0, depth), negative ones
 * included, gives an all-zero slice, as TensorFlow and ONNX do.
 */
export function oneHot(indices: Tensor, depth: number, options: OneHotOptions = {}): Tensor {
  requireTensor('oneHot', indices, 'indices');
  checkKeys('oneHot', options, ['dtype', 'axis']);
  if (options.axis !== undefined && (typeof options.axis !== 'number' || !Number.isInteger(options.axis))) {
    throw new ArgumentError(`oneHot: axis must be an integer, got ${String(options.axis)}.`);
  }
  // The result has one more axis than the indices, so -1 names the new last axis.
  const axis = normalizeAxis('oneHot', [indices.node], options.axis ?? -1, indices.rank + 1);
  return indices.graph.addNode(oneHotOp, [indices], { depth, dtype: options.dtype ?? 'f32', axis });
}

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  /** How per-example losses are combined: their mean (default), their sum, or none (kept). */
  reduction?: Reduction;
}

/** Checked before any node is built, so a bad option leaves no stray nodes behind. */
function checkReduction(op: string, options: LossOptions): Reduction {
  checkKeys(op, options, ['reduction']);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'.`);
  }
  return reduction;
}

function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return mean(loss);
  if (reduction === 'sum') return sum(loss);
  return loss;
}

/**
 * Softmax cross-entropy of `logits` [..., C] against i32 class `labels` [...]:
 * −logSoftmax(logits)[label] per example, then reduced (default: mean). Stable and
 * accurate for large logits; its gradient is softmax − oneHot. The label's entry is
 * picked with a bool one-hot mask and `where`, so a masked class with logit −∞ costs
 * nothing unless it is the label. A label outside [0, C) picks nothing: its loss is 0;
 * the labels' range is declared on the graph, so a session run with `checkFeeds: true`
 * rejects such a label instead.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, options: LossOptions = {}): Tensor {
  requireTensor('softmaxCrossEntropy', logits, 'logits');
  requireTensor('softmaxCrossEntropy', labels, 'labels');
  const reduction = checkReduction('softmaxCrossEntropy', options);
  const operands = [logits.node, labels.node];
  requireF32('softmaxCrossEntropy', operands, [logits.node], 'logits');
  if (labels.dtype !== 'i32') {
    throw opError(
      DTypeError,
      'softmaxCrossEntropy',
      operands,
      `labels must be i32 class indices, got ${labels.dtype}`,
      "declare the labels input with dtype 'i32', or .cast('i32')",
    );
  }
  if (logits.rank === 0) {
    const fix = 'pass logits of shape [..., classes]';
    throw opError(ShapeError, 'softmaxCrossEntropy', operands, 'logits must have a class axis (the last)', fix);
  }
  const expected = logits.shape.slice(0, -1);
  if (!sameShape(labels.shape, expected)) {
    throw opError(
      ShapeError,
      'softmaxCrossEntropy',
      operands,
      `labels must have the logits' shape without the class axis, [${expected.join(',')}], got [${labels.shape.join(',')}]`,
      'labels are class indices (one i32 per example), not one-hot rows; pass argmax of one-hot labels, or squeeze a trailing 1',
    );
  }
  const classes = staticDim('softmaxCrossEntropy', logits.shape[logits.rank - 1]!, 'the class axis is the depth of the labels\' one-hot rows');
  return labels.graph.atomically(() => {
    if (classes > 0) labels.graph.declareRange(labels, 0, classes - 1, `class labels of softmaxCrossEntropy over ${classes} classes`);
    const picked = where(oneHot(labels, classes, { dtype: 'bool' }), logSoftmax(logits), 0);
    return reduceLoss(neg(sum(picked, -1)), reduction);
  });
}

/**
 * Mean squared error: square(prediction − target), reduced (default: mean). The two
 * must have the same shape: broadcasting [N,1] against [N] would silently give [N,N].
 */
export function mse(prediction: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  requireTensor('mse', prediction, 'prediction');
  requireTensor('mse', target, 'target');
  const reduction = checkReduction('mse', options);
  const operands = [prediction.node, target.node];
  requireF32('mse', operands, operands, 'prediction and target');
  if (!sameShape(prediction.shape, target.shape)) {
    throw opError(
      ShapeError,
      'mse',
      operands,
      'prediction and target have different shapes',
      'reshape one to match the other (e.g. squeeze a trailing 1); mse does not broadcast, as that usually hides a bug',
    );
  }
  return prediction.graph.atomically(() => reduceLoss(square(sub(prediction, target)), reduction));
}
