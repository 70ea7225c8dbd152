/**
 * `cast`: converts between dtypes with WGSL's rules, so the reference agrees with the
 * GPU: float → i32 truncates toward zero and saturates at the i32 range (NaN → 0);
 * anything → bool is `x != 0` (so NaN → true); bool → number is 0 or 1.
 */

import type { DType } from '../dtype.js';
import { isDType } from '../dtype.js';
import { ArgumentError, GraphError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { defineOp, emptyLike, noGradient } from './op.js';
import { requireTensor } from './lift.js';

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
