/**
 * kiln's NaN semantics for the ops that pick a value, said once (NumPy's and PyTorch's):
 * a NaN wins. maximum/minimum of a NaN is NaN; so is the max or min of a group holding
 * one (the reductions, globalMaxPool, maxPool's windows, logsumexp's and softmax's shift);
 * argmax/argmin and maxPool's arg-max pick the first NaN. ±∞ are ordinary values.
 *
 * Each definition has a host form (the reference interpreter) and a WGSL form (every
 * emitter) side by side. WGSL's max, min and comparisons do not promise NaN behaviour
 * (implementations may assume floats are never NaN), so f32 goes through helpers that
 * test NaN on the bits (shaders/elementwise.ts); i32 has no NaN and uses the builtins.
 */

import type { DType } from '../dtype.js';
import { ISNAN, MAXIMUM, MINIMUM } from '../../shaders/elementwise.js';

/** A NaN-propagating binary max or min. */
export interface Extremum {
  host(a: number, b: number): number;
  wgsl(a: string, b: string, dtype: DType): string;
  /** WGSL functions the f32 form calls. */
  helpers(dtype: DType): readonly string[];
}

function extremum(builtin: 'max' | 'min', helper: string, helpers: readonly string[], host: (a: number, b: number) => number): Extremum {
  return {
    host: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : host(a, b)),
    wgsl: (a, b, dtype) => `${dtype === 'f32' ? helper : builtin}(${a}, ${b})`,
    helpers: (dtype) => (dtype === 'f32' ? helpers : []),
  };
}

/** max(a, b), NaN if either is NaN. */
export const maximumOf = extremum('max', 'kiln_maximum', MAXIMUM, Math.max);
/** min(a, b), NaN if either is NaN. */
export const minimumOf = extremum('min', 'kiln_minimum', MINIMUM, Math.min);

/** Whether value `v` replaces `best` as an arg-max or arg-min's pick. */
export interface Preference {
  host(v: number, best: number): boolean;
  wgsl(v: string, best: string, dtype: DType): string;
  helpers(dtype: DType): readonly string[];
}

/**
 * Strictly better replaces (so the first of tied values stays), a NaN beats every number,
 * and nothing beats a NaN (so the first NaN stays): NumPy's and PyTorch's argmax.
 */
function preference(order: '>' | '<'): Preference {
  const beats = order === '>' ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  return {
    host: (v, best) => !Number.isNaN(best) && (Number.isNaN(v) || beats(v, best)),
    wgsl: (v, best, dtype) => (dtype === 'f32' ? `(!kiln_isnan(${best}) && (kiln_isnan(${v}) || ${v} ${order} ${best}))` : `${v} ${order} ${best}`),
    helpers: (dtype) => (dtype === 'f32' ? ISNAN : []),
  };
}

/** argmax's and maxPool's preference: larger, or the first NaN. */
export const largerOrNaN = preference('>');
/** argmin's preference: smaller, or the first NaN. */
export const smallerOrNaN = preference('<');
