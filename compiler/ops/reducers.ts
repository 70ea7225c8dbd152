/**
 * The reducers of the reduction ops (compiler/ops/reduce.ts): each reduction's semantics,
 * its WGSL and its host form side by side (the type and what each piece means:
 * compiler/codegen/reducer.ts). Floats accumulate in double on the host (a JS number)
 * and are rounded once when stored; i32 wraps at each step on both. NaN and ±∞ in sums
 * and products follow IEEE arithmetic everywhere (∞ − ∞ is NaN); max, min, argmax and
 * argmin follow kiln's NaN rule (./extremum.ts: a NaN wins). A change of semantics is a
 * change here, and reaches the reference, the reduction templates and the row kernel alike.
 */

import type { FoldReducer, IndexReducer } from '../codegen/reducer.js';
import { IS_INF_HELPER, literal, wgslSizeF32 } from '../codegen/wgsl.js';
import { isSymbolic } from '../dims.js';
import { EXP } from '../../shaders/elementwise.js';
import type { Extremum, Preference } from './extremum.js';
import { largerOrNaN, maximumOf, minimumOf, smallerOrNaN } from './extremum.js';

/** Sum: identity 0, so a size-0 axis sums to 0. */
export const sumReducer: FoldReducer = {
  kind: 'fold',
  op: 'sum',
  identity: 0,
  startsAtFirst: false,
  refusesEmpty: false,
  combine: { wgsl: { operator: '+' }, host: (a, v, dtype) => (dtype === 'i32' ? (a + v) | 0 : a + v) },
};

/**
 * Mean: the sum over the group's size; a size-0 axis is 0/0 = NaN, as NumPy's mean. f32
 * only. A symbolic group's size is read from the size block and converted to f32.
 */
export const meanReducer: FoldReducer = {
  ...sumReducer,
  op: 'mean',
  finalize: {
    wgsl: (acc, { count }) => `${acc} / ${isSymbolic(count) ? wgslSizeF32(count) : literal(count, 'f32')}`,
    host: (acc, { count }) => acc / count,
  },
};

/** Product: identity 1, so a size-0 axis gives 1. */
export const prodReducer: FoldReducer = {
  kind: 'fold',
  op: 'prod',
  identity: 1,
  startsAtFirst: false,
  refusesEmpty: false,
  combine: { wgsl: { operator: '*' }, host: (a, v, dtype) => (dtype === 'i32' ? Math.imul(a, v) : a * v) },
};

/**
 * Max and min: no value for an empty set (a size-0 axis is a ShapeError). They fold with
 * the elementwise maximum and minimum, so a group holding a NaN gives NaN (NumPy's max);
 * ±∞ are ordinary values.
 */
const extremum = (op: 'max' | 'min', identity: number, pick: Extremum): FoldReducer => ({
  kind: 'fold',
  op,
  identity,
  startsAtFirst: true,
  refusesEmpty: true,
  combine: { wgsl: { expr: pick.wgsl }, helpers: pick.helpers, host: pick.host },
});
export const maxReducer = extremum('max', -Infinity, maximumOf);
export const minReducer = extremum('min', Infinity, minimumOf);

/**
 * log Σ exp(x), stably: m + log Σ exp(x − m) with m the group's max, so large inputs do
 * not overflow. A group whose max is ±∞ (all −∞, or any +∞) is that max itself, as in
 * PyTorch: x − m would be NaN there, but the answer is exact; a size-0 axis is −∞ (log
 * of an empty sum). A group holding a NaN has a NaN max, so its logsumexp is NaN. The
 * shifted sum is NaN wherever some x − m is (softmax's rows rely on it: a row with two
 * +∞ is all NaN), so its exp keeps NaN (kiln_exp: SwiftShader's exp(NaN) is +∞). f32 only.
 */
export const logsumexpReducer: FoldReducer = {
  ...sumReducer,
  op: 'logsumexp',
  shift: { reducer: maxReducer, wgsl: (v, max) => `kiln_exp(${v} - ${max})`, helpers: EXP, host: (v, max) => Math.exp(v - max) },
  finalize: {
    wgsl: (total, { shift }) => `select(${shift!} + log(${total}), ${shift!}, kiln_is_inf(${shift!}))`,
    host: (total, { shift }) => (shift === Infinity || shift === -Infinity ? shift! : shift! + Math.log(total)),
    helpers: [IS_INF_HELPER],
  },
};

/** argmax and argmin: the first index of the best value (ties keep the first), or of the first NaN, as NumPy. */
const argExtremum = (op: 'argmax' | 'argmin', better: Preference): IndexReducer => ({ kind: 'index', op, better });
export const argmaxReducer = argExtremum('argmax', largerOrNaN);
export const argminReducer = argExtremum('argmin', smallerOrNaN);
