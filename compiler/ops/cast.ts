/**
 * `cast`: converts between dtypes. float → i32 truncates toward zero and saturates at
 * the i32 range (NaN → 0); anything → bool is `x != 0` (so NaN → true); bool → number is
 * 0 or 1. The lowering spells these out, since WGSL implementations differ at the edges
 * (SwiftShader saturates at 2147483520, maps NaN to i32 min and compiles f32 != as ordered).
 */

import type { DType } from '../dtype.js';
import { isDType } from '../dtype.js';
import { ArgumentError, GraphError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { defineOp, emptyLike, noGradient } from './op.js';
import { requireTensor } from './lift.js';
import { literal } from '../codegen/wgsl.js';
import { F32_TO_I32, operand } from '../../shaders/elementwise.js';

type CastAttrs = { dtype: DType };

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

function toI32(v: number): number {
  if (Number.isNaN(v)) return 0;
  return Math.trunc(Math.min(Math.max(v, I32_MIN), I32_MAX));
}

const CONVERT: Readonly<Record<DType, (v: number) => number>> = {
  f32: (v) => v,
  i32: toI32,
  bool: (v) => Number(v !== 0),
};

/** The WGSL conversion with the reference's semantics (WGSL's own i32(f32) is undefined out of range). */
function castWgsl(x: string, from: DType, to: DType): string {
  // !(x == 0), not x != 0: SwiftShader compiles f32 != as ordered, which makes NaN false.
  if (to === 'bool') return from === 'bool' ? x : `!(${operand(x)} == ${literal(0, from)})`;
  if (from === 'f32' && to === 'i32') return `kiln_f32_to_i32(${x})`;
  return from === to ? x : `${to}(${x})`;
}

export const castOp = defineOp<CastAttrs>({
  name: 'cast',
  arity: 1,
  infer(inputs, attrs) {
    if (!isDType(attrs.dtype)) throw new GraphError(`cast: unknown target dtype '${String(attrs.dtype)}'`);
    return { shape: inputs[0]!.shape, dtype: attrs.dtype };
  },
  evaluate(inputs, attrs, out, ctx) {
    const x = inputs[0]!;
    const convert = CONVERT[attrs.dtype];
    const result = emptyLike(out, ctx);
    // i32 → f32 rounds to the nearest f32 when the result array is a Float32Array.
    for (let i = 0; i < x.data.length; i++) result.data[i] = convert(x.data[i]!);
    return result;
  },
  // cast always changes the dtype (a cast to the same dtype builds no node), and f32 is
  // the only float dtype, so one side of every cast is i32 or bool: integer and bool
  // values are constant to autodiff, so no gradient flows. A second float dtype (f16)
  // would need the rule `cast(g, x.dtype)` for float → float casts.
  vjp: noGradient,
  lower: { kind: 'elementwise', expr: ([x], _, types) => castWgsl(x!, types.inputs[0]!, types.output), helpers: F32_TO_I32 },
});

/**
 * Converts `x` to `dtype`. Casting to the dtype `x` already has returns `x` itself (no
 * node), as JAX and PyTorch do. f32 → i32 truncates toward zero and saturates (NaN → 0);
 * → bool is `x != 0`; bool → f32/i32 is 0 or 1.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  requireTensor('cast', x);
  if (!isDType(dtype)) {
    throw new ArgumentError(`cast(${x.toString()}): unknown dtype '${String(dtype)}'. Use f32, i32 or bool.`);
  }
  if (dtype === x.dtype) return x;
  return x.graph.addNode(castOp, [x], { dtype });
}
