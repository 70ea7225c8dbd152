/**
 * Sequence ops: `cumsum` (a primitive with its own scan kernel), and the triangular
 * masks `tril`/`triu`/`causalMask`, which are composites: a constant bool mask and
 * `where`, so their gradients and fusion come from `where` for free.
 */

import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import type { TensorType } from '../shape.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkKeys, requireInteger } from './args.js';
import { where } from './binary.js';
import { requireTensor } from './lift.js';
import { defineOp, emptyLike } from './op.js';
import { scanKernel } from '../../shaders/scan.js';

export type CumsumAttrs = { axis: number; exclusive: boolean; reverse: boolean };

function requireSummable(op: string, inputs: readonly TensorType[]): DType {
  const dtype = inputs[0]!.dtype;
  if (dtype !== 'f32' && dtype !== 'i32') {
    throw opError(DTypeError, op, inputs, `the operand must be f32 or i32, got ${dtype}`, "cast a bool mask with .cast('i32') to count it");
  }
  return dtype;
}

export const cumsumOp = defineOp<CumsumAttrs>({
  name: 'cumsum',
  arity: 1,
  // Each input element feeds every output at or after it (before it, reversed), so its
  // cotangent is the sum of the cotangents there: the same scan in the other direction.
  vjp: ({ attrs: { axis, exclusive, reverse }, cotangent }) => [cumsum(cotangent, axis, { exclusive, reverse: !reverse })],
  infer(inputs, { axis, exclusive, reverse }) {
    const x = inputs[0]!;
    const dtype = requireSummable('cumsum', inputs);
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
      const problem = `the axis attribute ${String(axis)} is not an axis of a rank-${x.shape.length} tensor`;
      throw opError(ShapeError, 'cumsum', inputs, problem, 'build the node with the functional cumsum, which normalizes axis');
    }
    if (typeof exclusive !== 'boolean' || typeof reverse !== 'boolean') {
      throw opError(ArgumentError, 'cumsum', inputs, 'exclusive and reverse must be booleans', 'pass true or false');
    }
    return { shape: x.shape, dtype };
  },
  evaluate(inputs, { axis, exclusive, reverse }, out, ctx) {
    const x = inputs[0]!;
    const result = emptyLike(out, ctx);
    const length = x.shape[axis]!;
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const wrap = out.dtype === 'i32';
    for (let o = 0; o < outer; o++) {
      for (let t = 0; t < inner; t++) {
        const base = o * length * inner + t;
        // Floats accumulate in double and round once per stored element; i32 wraps, as on the GPU.
        let total = 0;
        for (let step = 0; step < length; step++) {
          const at = base + (reverse ? length - 1 - step : step) * inner;
          const value = x.data[at]!;
          if (exclusive) result.data[at] = total;
          total = wrap ? (total + value) | 0 : total + value;
          if (!exclusive) result.data[at] = total;
        }
      }
    }
    return result;
  },
  lower: {
    kind: 'kernel',
    emit: ({ node, inputs: [x], attrs, name, header, limits, dims }) =>
      scanKernel({ name, header, limits, ids: [x!.id, node.id], shape: x!.shape, dtype: node.dtype, ...attrs, dims }),
  },
});

export interface CumsumOptions {
  /** Leave each element out of its own sum: the first result is 0. Default false. */
  exclusive?: boolean;
  /** Sum from the end of the axis toward its start. Default false. */
  reverse?: boolean;
}

function optionalFlag(op: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ArgumentError(`${op}: ${name} must be a boolean, got ${String(value)}.`);
  return value;
}

/**
 * Cumulative sum of f32 or i32 `x` along `axis` (negative counts from the end): result
 * element p is x[0] + … + x[p] (`exclusive`: up to x[p−1]; `reverse`: from the end). i32
 * sums wrap on overflow, as on the GPU.
 */
export function cumsum(x: Tensor, axis: number, options: CumsumOptions = {}): Tensor {
  requireTensor('cumsum', x);
  requireSummable('cumsum', [x.node]);
  const canonical = normalizeAxis('cumsum', [x.node], requireInteger('cumsum', 'axis', axis), x.rank);
  checkKeys('cumsum', options, ['exclusive', 'reverse']);
  const exclusive = optionalFlag('cumsum', 'exclusive', options.exclusive);
  const reverse = optionalFlag('cumsum', 'reverse', options.reverse);
  return x.graph.addNode(cumsumOp, [x], { axis: canonical, exclusive, reverse });
}

/**
 * A bool [rows, cols] constant, true where `keep(column − row)` holds: the triangles of
 * tril/triu and the causal mask. The mask is a constant (folded and uploaded once), so
 * nothing computes indices at run time.
 */
function diagonalMask(graph: Graph, rows: number, cols: number, keep: (offset: number) => boolean): Tensor {
  const values = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) values[i * cols + j] = keep(j - i) ? 1 : 0;
  }
  return graph.constant(values, { dtype: 'bool', shape: [rows, cols] });
}

function triangle(op: 'tril' | 'triu', x: Tensor, k: number): Tensor {
  requireTensor(op, x);
  const diagonal = requireInteger(op, 'k (the diagonal offset)', k);
  if (x.rank < 2) {
    const fix = 'pass a tensor of rank ≥ 2 (unsqueeze a vector into a [1,n] row or [n,1] column)';
    throw opError(ShapeError, op, [x.node], `${op} works on the last two axes, but the operand has rank ${x.rank}`, fix);
  }
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const mask = diagonalMask(x.graph, rows, cols, op === 'tril' ? (offset) => offset <= diagonal : (offset) => offset >= diagonal);
  return where(mask, x, 0);
}

/**
 * The lower triangle of the last two axes of `x` (a batch of matrices): elements with
 * column − row ≤ k are kept, the rest are 0 (false for bool). k = 0 keeps the main
 * diagonal, k = −1 drops it, k = 1 keeps one diagonal above it, as NumPy's tril.
 */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle('tril', x, k);
}

/** The upper triangle of the last two axes of `x`: elements with column − row ≥ k are kept, the rest are 0, as NumPy's triu. */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle('triu', x, k);
}

/**
 * The causal attention mask, a bool [queries, keys] constant: true where key j may be
 * attended from query i, i.e. j ≤ i (aligned at the top left, as PyTorch's
 * `scaled_dot_product_attention(is_causal=True)`). Pass it as `attention`'s `mask`, or use
 * `causal: true`, which applies the same rule inside the kernel without a mask buffer.
 */
export function causalMask(graph: Graph, queries: number, keys = queries): Tensor {
  requireGraph('causalMask', graph);
  requireInteger('causalMask', 'queries', queries);
  requireInteger('causalMask', 'keys', keys);
  if (queries < 0 || keys < 0) {
    throw new ArgumentError(`causalMask: queries and keys must be non-negative, got ${queries} and ${keys}.`);
  }
  return diagonalMask(graph, queries, keys, (offset) => offset <= 0);
}
