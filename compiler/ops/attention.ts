/**
 * Scaled dot-product attention as two primitives:
 *
 * - `attention(q, k, v)`: softmax(scale·q·kᵀ, masked)·v. Its forward is ONE kernel in the
 *   style of FlashAttention (shaders/attention.ts): scores, scale, masks, an online softmax
 *   (running max and sum) and the weighted sum of v, never writing the [Tq, Tk] weights.
 * - `attentionWeights(q, k)`: the normalized weights softmax(scale·q·kᵀ, masked) themselves,
 *   one row kernel. attention's VJP recomputes them with it (the weights are not kept from
 *   the forward pass), and the rest of the VJP is matmuls and elementwise ops.
 *
 * Shapes: q [..., Tq, d], k [..., Tk, d], v [..., Tk, dv] → [..., Tq, dv]; the leading
 * (batch × heads) dims broadcast NumPy-style, so keys and values may be shared across
 * heads. A bool mask broadcastable to [..., Tq, Tk] says which keys each query may attend
 * (true: attend); `causal` allows key j for query i when j ≤ i (top-left aligned, as
 * PyTorch). A query with no allowed key gets an all-zero weight row, hence a zero output
 * and zero gradients, where a plain softmax would give NaN.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { dimMul } from '../dims.js';
import type { Shape, StaticShape, TensorType } from '../shape.js';
import { broadcastStrides, forEachOffset, formatShape, sizeOf, staticDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul, sub } from './binary.js';
import { requireTensor } from './lift.js';
import { checkKeys, requireArray, requireObject } from './args.js';
import { matmul } from './matmul.js';
import type { EvalContext, HostArray, LoweringContext } from './op.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import { sum } from './reduce.js';
import type { AttentionKernelParams, AttentionLayout, AttentionStrides } from '../../shaders/attention.js';
import { attentionKernel } from '../../shaders/attention.js';
import { attentionRowsKernel, rowsVariantFits } from '../../shaders/attention-rows.js';
import { attentionWeightsKernel } from '../../shaders/attention-weights.js';
import { attentionVariantFor, variantRows } from '../codegen/attention-tuning.js';

export type AttentionAttrs = { scale: number; causal: boolean };


/** Broadcasts the batch dims of the operands, with a message naming attention's operands. */
function broadcastBatch(op: string, inputs: readonly TensorType[], operands: readonly TensorType[]): Dim[] {
  const batches = operands.map((t) => t.shape.slice(0, -2));
  const rank = Math.max(...batches.map((b) => b.length));
  const out = new Array<Dim>(rank).fill(1);
  for (const batch of batches) {
    batch.forEach((size, i) => {
      const j = i + rank - batch.length;
      if (out[j] === 1) out[j] = size;
      else if (size !== 1 && size !== out[j]) {
        const problem = `the leading (batch) dims ${batches.map(formatShape).join(', ')} cannot be broadcast (${String(out[j])} vs ${String(size)})`;
        throw opError(ShapeError, op, inputs, problem, 'give q, k and v the same batch and head dims, or 1 where one is shared');
      }
    });
  }
  return out;
}

/**
 * The shape rule shared by both ops: `inputs` are [q, k, v?, mask?] (`withValues` says
 * whether v is among them). Errors name the node's operands and say which size to fix.
 */
export function attentionLayout(op: string, inputs: readonly TensorType[], attrs: AttentionAttrs, withValues: boolean): AttentionLayout {
  requireArray('attentionLayout', 'inputs', inputs, 'an array of operand types');
  checkKeys('attentionLayout', attrs, ['scale', 'causal']);
  const tensors = withValues ? 3 : 2;
  const operandNames = withValues ? 'q, k, v' : 'q, k';
  if (inputs.length !== tensors && inputs.length !== tensors + 1) {
    throw opError(ArgumentError, op, inputs, `takes ${operandNames} and an optional mask, got ${inputs.length} operands`, `pass ${operandNames}`);
  }
  const operands = inputs.slice(0, tensors);
  const mask = inputs[tensors];
  if (operands.some((t) => t.dtype !== 'f32')) {
    const got = operands.map((t) => t.dtype).join(', ');
    throw opError(DTypeError, op, inputs, `${operandNames} must be f32, got ${got}`, "cast with .cast('f32')");
  }
  if (mask && mask.dtype !== 'bool') {
    const fix = 'pass a bool mask, true where a query may attend a key (e.g. keep.greater(0)); add float biases to q·kᵀ yourself';
    throw opError(DTypeError, op, inputs, `the mask must be bool, got ${mask.dtype}`, fix);
  }
  if (operands.some((t) => t.shape.length < 2)) {
    const fix = 'give each a sequence axis and a feature axis: q [..., Tq, d], k [..., Tk, d], v [..., Tk, dv] (unsqueeze a single vector)';
    throw opError(ShapeError, op, inputs, `${operandNames} must have rank ≥ 2`, fix);
  }
  if (typeof attrs.scale !== 'number' || !Number.isFinite(attrs.scale)) {
    throw opError(ArgumentError, op, inputs, `scale must be a finite number, got ${String(attrs.scale)}`, 'omit it for 1/√d');
  }
  if (typeof attrs.causal !== 'boolean') {
    throw opError(ArgumentError, op, inputs, `causal must be a boolean, got ${String(attrs.causal)}`, 'pass true or false');
  }
  const [q, k, v] = operands as [TensorType, TensorType, TensorType | undefined];
  // Sequence lengths may be symbolic; feature sizes are static (the kernels keep a row of d in registers).
  const featureSize = (t: TensorType, name: string): number =>
    staticDim(op, t.shape[t.shape.length - 1]!, `the last axis of ${name} is its feature size, which must be static (only batch, head and sequence dims may be symbolic)`);
  const [queries, keys] = [q.shape[q.shape.length - 2]!, k.shape[k.shape.length - 2]!];
  const [depth, keyDepth] = [featureSize(q, 'q'), featureSize(k, 'k')];
  if (keyDepth !== depth) {
    const problem = `q's feature size ${depth} (its last dim) differs from k's ${keyDepth}`;
    throw opError(ShapeError, op, inputs, problem, 'project queries and keys to the same size d: q [..., Tq, d], k [..., Tk, d]');
  }
  let valueDepth = 0;
  if (v) {
    const [values, size] = [v.shape[v.shape.length - 2]!, featureSize(v, 'v')];
    if (values !== keys) {
      const problem = `k has ${String(keys)} keys (its second-last dim) but v has ${String(values)} values`;
      throw opError(ShapeError, op, inputs, problem, 'give v one row per key: v [..., Tk, dv] with the Tk of k [..., Tk, d]');
    }
    valueDepth = size;
  }
  const batch = broadcastBatch(op, inputs, operands);
  if (mask) {
    const scores = [...batch, queries, keys];
    const offset = scores.length - mask.shape.length;
    const fits = offset >= 0 && mask.shape.every((size, i) => size === 1 || size === scores[i + offset]);
    if (!fits) {
      const problem = `the mask ${formatShape(mask.shape)} does not broadcast to the scores' shape ${formatShape(scores)} ([..., Tq, Tk])`;
      throw opError(ShapeError, op, inputs, problem, 'shape the mask [Tq, Tk], [..., Tq, Tk], or [..., 1, Tk] for a key padding mask');
    }
  }
  return { batch, queries, keys, depth, valueDepth };
}


export function attentionStrides(layout: AttentionLayout, shapes: readonly Shape[], withValues: boolean): AttentionStrides {
  requireObject('attentionStrides', 'layout', layout, 'an attention layout (attentionLayout)');
  requireArray('attentionStrides', 'shapes', shapes, 'an array of operand shapes');
  const { batch, queries, keys, depth, valueDepth } = layout;
  const matrixStrides = (shape: Shape | undefined, size: Dim): Dim[] =>
    shape ? broadcastStrides(shape.slice(0, -2), batch).map((s) => dimMul(s, size)) : batch.map(() => 0);
  const maskShape = shapes[withValues ? 3 : 2];
  const scores = [...batch, queries, keys];
  return {
    q: matrixStrides(shapes[0], dimMul(queries, depth)),
    k: matrixStrides(shapes[1], dimMul(keys, depth)),
    v: matrixStrides(withValues ? shapes[2] : undefined, dimMul(keys, valueDepth)),
    mask: maskShape ? broadcastStrides(maskShape, scores) : scores.map(() => 0),
  };
}

/**
 * The reference: for each query row, its weights in double (0 where masked, all 0 when no
 * key is allowed), shifted by the row's max so scores of ±1e4 neither overflow nor lose
 * accuracy; `visit` gets them with the row's offsets.
 */
function forEachWeightRow(
  op: string,
  inputs: readonly HostArray[],
  attrs: AttentionAttrs,
  withValues: boolean,
  visit: (matrix: number, row: number, weights: Float64Array, valueBase: number) => void,
): void {
  const layout = attentionLayout(op, inputs, attrs, withValues);
  const { depth } = layout;
  // The interpreter evaluates bound graphs: every size below is a number.
  const [queries, keys, ...batch] = evalShape(op, [layout.queries, layout.keys, ...layout.batch]) as [number, number, ...number[]];
  const symbolic = attentionStrides(layout, inputs.map((t) => t.shape), withValues);
  const strides = { q: evalShape(op, symbolic.q), k: evalShape(op, symbolic.k), v: evalShape(op, symbolic.v), mask: evalShape(op, symbolic.mask) };
  const [q, k] = inputs as [HostArray, HostArray];
  const mask = inputs[withValues ? 3 : 2];
  const [maskRow, maskKey] = strides.mask.slice(-2) as [number, number];
  const scores = new Float64Array(keys);
  const weights = new Float64Array(keys);
  const allowed = new Uint8Array(keys);
  forEachOffset(batch, [strides.q, strides.k, strides.v, strides.mask.slice(0, -2)], (matrix, [qBase, kBase, vBase, maskBase]) => {
    for (let row = 0; row < queries; row++) {
      let max = -Infinity;
      let anyAllowed = false;
      for (let key = 0; key < keys; key++) {
        allowed[key] = (!attrs.causal || key <= row) && (!mask || mask.data[maskBase! + row * maskRow + key * maskKey] !== 0) ? 1 : 0;
        if (!allowed[key]) continue;
        anyAllowed = true;
        let dot = 0;
        for (let c = 0; c < depth; c++) dot += q.data[qBase! + row * depth + c]! * k.data[kBase! + key * depth + c]!;
        scores[key] = attrs.scale * dot;
        max = Math.max(max, scores[key]!);
      }
      let total = 0;
      for (let key = 0; key < keys; key++) {
        weights[key] = allowed[key] ? Math.exp(scores[key]! - max) : 0;
        total += weights[key]!;
      }
      // A NaN or +∞ score gives a NaN total, and NaN weights, as softmax does (kiln's NaN semantics).
      for (let key = 0; key < keys; key++) weights[key] = anyAllowed ? weights[key]! / total : 0;
      visit(matrix, row, weights, vBase!);
    }
  });
}

function evaluateAttention(inputs: readonly HostArray[], attrs: AttentionAttrs, out: TensorType, ctx: EvalContext): HostArray {
  const result = emptyLike(out, ctx);
  const v = inputs[2]!;
  const [queries, valueDepth] = result.shape.slice(-2) as [number, number];
  const keys = v.shape[v.shape.length - 2]!;
  const row = new Float64Array(valueDepth);
  forEachWeightRow('attention', inputs, attrs, true, (matrix, query, weights, vBase) => {
    row.fill(0);
    for (let key = 0; key < keys; key++) {
      if (weights[key] === 0) continue;
      for (let c = 0; c < valueDepth; c++) row[c]! += weights[key]! * v.data[vBase + key * valueDepth + c]!;
    }
    result.data.set(row, (matrix * queries + query) * valueDepth);
  });
  return result;
}

function evaluateWeights(inputs: readonly HostArray[], attrs: AttentionAttrs, out: TensorType, ctx: EvalContext): HostArray {
  const result = emptyLike(out, ctx);
  const [queries, keys] = result.shape.slice(-2) as [number, number];
  forEachWeightRow('attentionWeights', inputs, attrs, false, (matrix, query, weights) => result.data.set(weights, (matrix * queries + query) * keys));
  return result;
}

/**
 * The VJP of softmax-normalized scores S = scale·q·kᵀ given the weights P and dS's
 * building block: dS = P ⊙ (dP − rowDot), dq = scale·dS·k, dk = scale·dSᵀ·q. Masked
 * entries have P = 0, so no gradient flows through them.
 */
function scoreGradients(q: Tensor, k: Tensor, weights: Tensor, weightsCotangent: Tensor, rowDot: Tensor, scale: number): [Tensor, Tensor] {
  const scores = mul(weights, sub(weightsCotangent, rowDot));
  return [mul(matmul(scores, k), scale), mul(matmul(scores, q, { transposeA: true }), scale)];
}

/** What both kernels are given: the layout, strides and attributes, the node ids bound in order (inputs, then output). */
function kernelParams(op: string, ctx: LoweringContext<AttentionAttrs>, withValues: boolean): AttentionKernelParams {
  const shapes = ctx.inputs.map((t) => t.shape);
  const layout = attentionLayout(op, ctx.inputs, ctx.attrs, withValues);
  return {
    name: ctx.name,
    header: ctx.header,
    limits: ctx.limits,
    ids: [...ctx.inputs.map((t) => t.id), ctx.node.id],
    layout,
    strides: attentionStrides(layout, shapes, withValues),
    masked: shapes.length === (withValues ? 4 : 3),
    dims: ctx.dims,
    ...ctx.attrs,
  };
}

/**
 * The products' arithmetic, 2·d per score for q·kᵀ (and 2·dv more for ·v): every score
 * counts, masked or causal ones too, as FlashAttention's figures do for a dense mask.
 */
const scoreFlops = (scores: number, q: StaticShape, v?: StaticShape): number => 2 * scores * (q[q.length - 1]! + (v ? v[v.length - 1]! : 0));

export const attentionWeightsOp = defineOp<AttentionAttrs>({
  name: 'attentionWeights',
  arity: 'variadic',
  flops: ([q], out) => scoreFlops(sizeOf(out), q!),
  vjp: ({ inputs: [q, k, mask], attrs: { scale }, output: weights, cotangent: g }) => [
    // rowDot = Σⱼ gᵢⱼ·Pᵢⱼ, the softmax Jacobian's shared term.
    ...scoreGradients(q!, k!, weights, g, sum(mul(g, weights), -1, true), scale),
    ...(mask ? [null] : []),
  ],
  infer(inputs, attrs) {
    const { batch, queries, keys } = attentionLayout('attentionWeights', inputs, attrs, false);
    return { shape: [...batch, queries, keys], dtype: 'f32' };
  },
  evaluate: (inputs, attrs, out, ctx) => evaluateWeights(inputs, attrs, out, ctx),
  lower: { kind: 'kernel', emit: (ctx) => attentionWeightsKernel(kernelParams('attentionWeights', ctx, false)) },
});

export const attentionOp = defineOp<AttentionAttrs>({
  name: 'attention',
  arity: 'variadic',
  // The output is [..., Tq, dv]: its rows times Tk are the scores.
  flops: ([q, k, v], out) => scoreFlops(sizeOf(out.slice(0, -1)) * k![k!.length - 2]!, q!, v!),
  // The weights P are recomputed (the forward kernel never stores them). With O = P·v,
  // Σⱼ dPᵢⱼ·Pᵢⱼ = Σ_c gᵢc·Oᵢc, so the softmax's shared term comes from the output (as FlashAttention's D).
  vjp: ({ inputs: [q, k, v, mask], attrs, output, cotangent: g }) => {
    const weights = attentionWeights(q!, k!, { ...attrs, ...(mask ? { mask } : {}) });
    const weightsCotangent = matmul(g, v!, { transposeB: true });
    const [dq, dk] = scoreGradients(q!, k!, weights, weightsCotangent, sum(mul(g, output), -1, true), attrs.scale);
    return [dq, dk, matmul(weights, g, { transposeA: true }), ...(mask ? [null] : [])];
  },
  infer(inputs, attrs) {
    const { batch, queries, valueDepth } = attentionLayout('attention', inputs, attrs, true);
    return { shape: [...batch, queries, valueDepth], dtype: 'f32' };
  },
  evaluate: (inputs, attrs, out, ctx) => evaluateAttention(inputs, attrs, out, ctx),
  lower: {
    kind: 'kernel',
    // The adapter's variant (tiled, or barrier-free rows) when the heads fit in registers; otherwise tiled.
    emit: (ctx) => {
      const params = kernelParams('attention', ctx, true);
      const rows = variantRows(attentionVariantFor(ctx.tuning));
      return rows !== undefined && rowsVariantFits(params.layout) ? attentionRowsKernel(params, rows) : attentionKernel(params);
    },
  },
});

export interface AttentionOptions {
  /** Allow key j for query i only when j ≤ i (top-left aligned). Default false. */
  causal?: boolean;
  /** Multiplies q·kᵀ before the softmax. Default 1/√d, d being q's last dim. */
  scale?: number;
  /** A bool mask broadcastable to [..., Tq, Tk]: true where a query may attend a key. */
  mask?: Tensor;
}

/** Checks the options and the tensors before any node is built, and resolves the default scale. */
function attentionInputs(op: string, tensors: readonly Tensor[], options: AttentionOptions): { inputs: Tensor[]; attrs: AttentionAttrs } {
  const names = ['q', 'k', 'v'];
  tensors.forEach((t, i) => requireTensor(op, t, names[i]));
  checkKeys(op, options, ['causal', 'scale', 'mask']);
  if (options.mask !== undefined) requireTensor(op, options.mask, 'mask');
  const causal = options.causal ?? false;
  if (typeof causal !== 'boolean') throw new ArgumentError(`${op}: causal must be a boolean, got ${String(causal)}.`);
  const q = tensors[0]!;
  // With a rank < 2 q the shape rule reports the problem; √d is then only a placeholder.
  const depth = q.rank >= 2 ? staticDim(op, q.shape[q.rank - 1]!, 'the feature size d of q sets the default scale 1/√d (pass scale to choose it yourself)') : 1;
  const scale = options.scale ?? 1 / Math.sqrt(Math.max(depth, 1));
  return { inputs: [...tensors, ...(options.mask ? [options.mask] : [])], attrs: { scale, causal } };
}

/**
 * Scaled dot-product attention: softmax(scale·q·kᵀ + masks)·v for q [..., Tq, d],
 * k [..., Tk, d], v [..., Tk, dv], giving [..., Tq, dv]. Leading (batch, head) dims
 * broadcast. Computed by one fused kernel with an online, max-shifted softmax, so scores
 * of ±1e4 are exact and the [Tq, Tk] weights are never stored. A query with no allowed
 * key gives zeros.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const { inputs, attrs } = attentionInputs('attention', [q, k, v], options);
  return q.graph.addNode(attentionOp, inputs, attrs);
}

/**
 * The attention weights softmax(scale·q·kᵀ + masks) for q [..., Tq, d] and k [..., Tk, d]:
 * [..., Tq, Tk], each row summing to 1 (0 for a query with no allowed key). For
 * inspecting what a model attends to; `attention` does not store them.
 */
export function attentionWeights(q: Tensor, k: Tensor, options: AttentionOptions = {}): Tensor {
  const { inputs, attrs } = attentionInputs('attentionWeights', [q, k], options);
  return q.graph.addNode(attentionWeightsOp, inputs, attrs);
}
