/**
 * Batched matrix multiplication. The primitive `matmul` node takes operands of rank ≥ 2
 * whose leading (batch) dims broadcast NumPy-style, and transpose flags that swap the
 * last two dims of an operand, so a transposed weight never needs a transpose node
 * (and the simplifier can fold transposes into these flags). The functional form also
 * takes 1-D operands as NumPy does, by reshaping around the primitive node.
 */

import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { Dim } from '../dims.js';
import { dimMul, isSymbolic } from '../dims.js';
import type { Shape, StaticShape, TensorType } from '../shape.js';
import { broadcastStrides, forEachOffset, isStaticShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkDTypes } from './elementwise.js';
import { requireTensor } from './lift.js';
import { checkKeys } from './args.js';
import type { HostArray, VjpRule } from './op.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import { reshape } from './shape.js';
import { matmulKernel } from '../../shaders/matmul.js';
import { DEFAULT_MATMUL_VARIANT, matmulVariantFor } from '../codegen/tuning.js';

export type MatmulAttrs = { transposeA: boolean; transposeB: boolean };

/** The [rows, cols] an operand contributes after its transpose flag. */
function matrixDims(t: { readonly shape: StaticShape }, transpose: boolean): [number, number];
function matrixDims(t: { readonly shape: Shape }, transpose: boolean): [Dim, Dim];
function matrixDims(t: { readonly shape: Shape }, transpose: boolean): [Dim, Dim] {
  const r = t.shape[t.shape.length - 2]!;
  const c = t.shape[t.shape.length - 1]!;
  return transpose ? [c, r] : [r, c];
}

/** NumPy broadcasting of the batch dims (all but the last two), with a matmul-specific message. */
function broadcastBatch(shown: readonly TensorType[], a: TensorType, b: TensorType): Dim[] {
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const out: Dim[] = [];
  for (let j = 0; j < rank; j++) {
    const da = batchA[j - (rank - batchA.length)] ?? 1;
    const db = batchB[j - (rank - batchB.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw opError(
        ShapeError,
        'matmul',
        shown,
        `batch dims [${batchA.join(',')}] and [${batchB.join(',')}] cannot be broadcast (${String(da)} vs ${String(db)})` +
          (isSymbolic(da) || isSymbolic(db) ? '; a symbolic batch dim broadcasts only against 1 or the same dim' : ''),
        'make the batch sizes equal, or 1 where a matrix should be reused across the batch',
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * The shape rule, for matrices `a` and `b` (rank ≥ 2). Errors name the `shown` operands:
 * the node's own inputs, or the user's 1-D operands before the functional form lifted them.
 */
function inferMatmul(shown: readonly TensorType[], a: TensorType, b: TensorType, attrs: MatmulAttrs): TensorType {
  const { transposeA, transposeB } = attrs;
  if (typeof transposeA !== 'boolean' || typeof transposeB !== 'boolean') {
    throw opError(ArgumentError, 'matmul', shown, 'transposeA and transposeB must be booleans', 'pass true or false');
  }
  const dtype = checkDTypes('matmul', shown, 'numeric');
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw opError(
      ShapeError,
      'matmul',
      shown,
      'the matmul node needs operands of rank ≥ 2',
      'use the functional matmul(a, b), which takes 1-D operands, or reshape to [m,k] and [k,n]',
    );
  }
  const [m, k] = matrixDims(a, transposeA);
  const [kb, n] = matrixDims(b, transposeB);
  if (k !== kb) {
    throw opError(
      ShapeError,
      'matmul',
      shown,
      `inner dimensions differ: a gives [${m},${k}] and b gives [${kb},${n}] with transposeA=${transposeA}, ` +
        `transposeB=${transposeB}, so ${String(k)} ≠ ${String(kb)}` +
          (isSymbolic(k) || isSymbolic(kb) ? ' (a symbolic inner dim must be the same dim on both sides)' : ''),
      `check the layout: a's columns must match b's rows; if b is stored as [n,k] (a PyTorch-style weight), ` +
        `pass transposeB: ${!transposeB}`,
    );
  }
  return { shape: [...broadcastBatch(shown, a, b), m, n], dtype };
}

/**
 * C = op(A)·op(B) gives dop(A) = G·op(B)ᵀ and dop(B) = op(A)ᵀ·G; a transposed operand
 * takes the transpose of that, and every transpose is a flag, never a node. Batch dims
 * an operand was broadcast along come out full size: autodiff sums them back down.
 */
const matmulVjp: VjpRule<MatmulAttrs> = ({ inputs: [a, b], attrs: { transposeA: tA, transposeB: tB }, cotangent: g }) => [
  tA ? matmul(b!, g, { transposeA: tB, transposeB: true }) : matmul(g, b!, { transposeB: !tB }),
  tB ? matmul(g, a!, { transposeA: true, transposeB: tA }) : matmul(a!, g, { transposeA: !tA }),
];

export const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  arity: 2,
  vjp: matmulVjp,
  // 2·m·n·k: a multiply and an add for each of k terms of each output element.
  flops: ([a], out, { transposeA }) => 2 * sizeOf(out) * a![a!.length - (transposeA ? 2 : 1)]!,
  lower: {
    kind: 'kernel',
    acceptsEpilogue: true,
    // xᵀ·g sums g over its rows, as g's column sums do: a row of ones appended to xᵀ computes them too.
    acceptsColumnSums: ({ transposeA, transposeB }) => transposeA === true && transposeB === false,
    emit: ({ node, inputs: [a, b], attrs: { transposeA, transposeB }, name, header, limits, epilogue, tuning, dims }) => {
      const [m, k] = matrixDims(a!, transposeA);
      const n = node.shape[node.shape.length - 1]!;
      const batch = node.shape.slice(0, -2);
      const sizes: Shape = [m, k, n, ...batch];
      return matmulKernel({
        name,
        header,
        limits,
        dtype: node.dtype === 'i32' ? 'i32' : 'f32',
        ids: [a!.id, b!.id, node.id],
        batch,
        m,
        k,
        n,
        transposeA,
        transposeB,
        dims,
        // The same batch strides as the reference: broadcast strides over matrices, times a matrix's size.
        batchStridesA: broadcastStrides(a!.shape.slice(0, -2), batch).map((s) => dimMul(s, dimMul(m, k))),
        batchStridesB: broadcastStrides(b!.shape.slice(0, -2), batch).map((s) => dimMul(s, dimMul(k, n))),
        ...(epilogue ? { epilogue, onesRow: epilogue.columnSums === true } : {}),
        // The adapter's fastest variant for this shape class, when a tuning table was given; a
        // symbolic size has no class (one pipeline serves every size), so it gets the default.
        variant: isStaticShape(sizes)
          ? matmulVariantFor(tuning, { m: sizes[0]!, k: sizes[1]!, n: sizes[2]!, batch: sizeOf(sizes.slice(3)), transposeA, transposeB }, limits)
          : DEFAULT_MATMUL_VARIANT,
      });
    },
  },
  infer: (inputs, attrs) => inferMatmul(inputs, inputs[0]!, inputs[1]!, attrs),
  evaluate(inputs, { transposeA, transposeB }, out, ctx) {
    const [a, b] = inputs as [HostArray, HostArray];
    const result = emptyLike(out, ctx);
    const [m, k] = matrixDims(a, transposeA);
    const outShape = evalShape('matmul', out.shape);
    const n = outShape[outShape.length - 1]!;
    const batch = outShape.slice(0, -2);
    // Batch strides in elements: broadcast strides over matrices, times one matrix's size.
    const strideA = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k);
    const strideB = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n);
    // Stored layouts: a is [m,k] or, transposed, [k,m]; b is [k,n] or [n,k].
    const aAt = (base: number, i: number, p: number): number => a.data[base + (transposeA ? p * m + i : i * k + p)]!;
    const bAt = (base: number, p: number, j: number): number => b.data[base + (transposeB ? j * k + p : p * n + j)]!;
    const wrap = out.dtype === 'i32';
    forEachOffset(batch, [strideA, strideB], (matrix, [baseA, baseB]) => {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          // Floats accumulate in double and round once when stored; i32 wraps each step, as the GPU does.
          let acc = 0;
          for (let p = 0; p < k; p++) {
            const x = aAt(baseA!, i, p);
            const y = bAt(baseB!, p, j);
            acc = wrap ? (acc + Math.imul(x, y)) | 0 : acc + x * y;
          }
          result.data[matrix * m * n + i * n + j] = acc;
        }
      }
    });
    return result;
  },
});

export interface MatmulOptions {
  /** Use aᵀ (its last two dims swapped). Not allowed for a 1-D a. */
  transposeA?: boolean;
  /** Use bᵀ (its last two dims swapped), e.g. for a weight stored as [out, in]. Not allowed for a 1-D b. */
  transposeB?: boolean;
}

function checkFlag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ArgumentError(`matmul: ${name} must be a boolean, got ${String(value)}.`);
  return value;
}

/**
 * The matrix type a functional operand stands for: a 1-D a is a row [1,k], a 1-D b a
 * column [k,1]. Scalars and transposed vectors are refused here, before any node is built.
 */
function matrixType(shown: readonly TensorType[], x: TensorType, side: 'a' | 'b', transpose: boolean): TensorType {
  const flag = `transpose${side.toUpperCase()}`;
  if (x.shape.length === 0) {
    throw opError(ShapeError, 'matmul', shown, `${side} is a scalar, which has no rows or columns`, 'multiply by a scalar with mul');
  }
  if (x.shape.length > 1) return x;
  if (transpose) {
    throw opError(
      ArgumentError,
      'matmul',
      shown,
      `${flag} has no meaning for a 1-D ${side}`,
      `drop ${flag}; a 1-D operand is read as a vector either way`,
    );
  }
  const k = x.shape[0]!;
  return { shape: side === 'a' ? [1, k] : [k, 1], dtype: x.dtype };
}

/**
 * Matrix product a·b, batched over leading dims that broadcast NumPy-style
 * ([2,1,3,4]·[5,4,6] → [2,5,3,6]). f32 or i32, both the same dtype. A 1-D a is a row
 * vector and a 1-D b a column vector, and the dim they add is removed from the result
 * (so [k]·[k] is a scalar), as in NumPy. `transposeA`/`transposeB` swap the last two
 * dims of an operand without a transpose node.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  requireTensor('matmul', a, 'first operand');
  requireTensor('matmul', b, 'second operand');
  checkKeys('matmul', options, ['transposeA', 'transposeB']);
  const attrs = { transposeA: checkFlag('transposeA', options.transposeA), transposeB: checkFlag('transposeB', options.transposeB) };
  const shown = [a.node, b.node];
  const typeA = matrixType(shown, a.node, 'a', attrs.transposeA);
  const typeB = matrixType(shown, b.node, 'b', attrs.transposeB);
  // Check against the user's operands first, so an error names their shapes and leaves no stray reshape nodes.
  const out = inferMatmul(shown, typeA, typeB, attrs);
  const product = a.graph.addNode(
    matmulOp,
    [a.rank > 1 ? a : reshape(a, typeA.shape), b.rank > 1 ? b : reshape(b, typeB.shape)],
    attrs,
  );
  if (a.rank > 1 && b.rank > 1) return product;
  const rank = out.shape.length;
  return reshape(
    product,
    out.shape.filter((_, i) => !(a.rank === 1 && i === rank - 2) && !(b.rank === 1 && i === rank - 1)),
  );
}
