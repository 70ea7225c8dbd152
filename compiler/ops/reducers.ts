/**
 * The reducers of the reduction ops (compiler/ops/reduce.ts): each reduction's semantics,
 * its WGSL and its host form side by side (the type and what each piece means:
 * compiler/codegen/reducer.ts). Floats accumulate in double on the host (a JS number)
 * and are rounded once when stored; i32 wraps at each step on both. NaN and ±∞ in sums
 * and products follow IEEE arithmetic everywhere (∞ − ∞ is NaN). A change of semantics,
 * such as how NaN goes through max, is a change here, and reaches the reference, the
 * reduction templates and the row kernel alike.
 */

import type { FoldReducer, IndexReducer } from '../codegen/reducer.js';
import { IS_INF_HELPER, literal } from '../codegen/wgsl.js';

/** NaN-propagating max/min, as NumPy's `max` and kiln's `maximum`. */
const maxOf = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
const minOf = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));

/** Sum: identity 0, so a size-0 axis sums to 0. */
export const sumReducer: FoldReducer = {
  kind: 'fold',
  op: 'sum',
  identity: 0,
  startsAtFirst: false,
  refusesEmpty: false,
  combine: { wgsl: { operator: '+' }, host: (a, v, dtype) => (dtype === 'i32' ? (a + v) | 0 : a + v) },
};

/** Mean: the sum over the group's size; a size-0 axis is 0/0 = NaN, as NumPy's mean. f32 only. */
export const meanReducer: FoldReducer = {
  ...sumReducer,
  op: 'mean',
  finalize: { wgsl: (acc, { count }) => `${acc} / ${literal(count, 'f32')}`, host: (acc, { count }) => acc / count },
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
 * Max and min: no value for an empty set (a size-0 axis is a ShapeError). NaN: the host
 * propagates it (NumPy's max, kiln's maximum); WGSL's max() and min() do not promise to,
 * as WGSL lets implementations assume floats are never NaN. ±∞ are ordinary values.
 */
const extremum = (op: 'max' | 'min', identity: number, host: (a: number, v: number) => number): FoldReducer => ({
  kind: 'fold',
  op,
  identity,
  startsAtFirst: true,
  refusesEmpty: true,
  combine: { wgsl: { fn: op }, host },
});
export const maxReducer = extremum('max', -Infinity, maxOf);
export const minReducer = extremum('min', Infinity, minOf);

/**
 * log Σ exp(x), stably: m + log Σ exp(x − m) with m the group's max, so large inputs do
 * not overflow. A group whose max is ±∞ (all −∞, or any +∞) is that max itself: x − m
 * would be NaN there, but the answer is exact; a size-0 axis is −∞ (log of an empty sum).
 * A NaN gives NaN (through the sum) on the host; its max follows `maxReducer`. f32 only.
 */
export const logsumexpReducer: FoldReducer = {
  ...sumReducer,
  op: 'logsumexp',
  shift: { reducer: maxReducer, wgsl: (v, max) => `exp(${v} - ${max})`, host: (v, max) => Math.exp(v - max) },
  finalize: {
    wgsl: (total, { shift }) => `select(${shift!} + log(${total}), ${shift!}, kiln_is_inf(${shift!}))`,
    host: (total, { shift }) => (shift === Infinity || shift === -Infinity ? shift! : shift! + Math.log(total)),
    helpers: [IS_INF_HELPER],
  },
};

/**
 * argmax and argmin: the first index of the best value (strictly better replaces, so
 * ties keep the first). NaN: on the host a NaN wins both (NumPy returns the first NaN)
 * and once a NaN is best nothing beats it; WGSL's comparisons do not promise that.
 */
export const argmaxReducer: IndexReducer = {
  kind: 'index',
  op: 'argmax',
  better: { wgsl: (v, best) => `${v} > ${best}`, host: (v, best) => !Number.isNaN(best) && (Number.isNaN(v) || v > best) },
};
export const argminReducer: IndexReducer = {
  kind: 'index',
  op: 'argmin',
  better: { wgsl: (v, best) => `${v} < ${best}`, host: (v, best) => !Number.isNaN(best) && (Number.isNaN(v) || v < best) },
};
