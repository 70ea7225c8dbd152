/**
 * Slice bounds: one axis of a `slice(x, spec)` resolved against its size, as Python's
 * `slice.indices` does for a static size, and, for a symbolic size, only where the result
 * is one polynomial for every size of its dims (a ShapeError naming the dim otherwise).
 * `provablyNonNegative` is the test both slice's and pad's shape rules use.
 */

import type { Dim } from '../dims.js';
import { dimSub, isSymbolic } from '../dims.js';
import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { requireInteger } from './args.js';

/**
 * One axis of a slice. Any field may be omitted: `start`/`end` default to the whole
 * axis in the direction of `step` (default 1). Shorthands: `null` (or `{}`) takes the
 * whole axis; a tuple `[start, end, step?]` with `null` for an omitted bound, so
 * `[null, null, -1]` reverses an axis (Python's `::-1`).
 */
export type SliceAxis =
  | { readonly start?: number | null; readonly end?: number | null; readonly step?: number | null }
  | readonly [start: number | null, end: number | null, step?: number | null]
  | null;

/**
 * Whether `d ≥ 0` for every value of its names (each ≥ 1, as every symbolic dim at run
 * time): true when every term with names has a non-negative coefficient (so the
 * polynomial grows with each name) and its value with every name 1 is ≥ 0. `batch - 1`
 * is; `batch - 2` and `3 - batch` are not decidable, so they count as not.
 */
export function provablyNonNegative(d: Dim): boolean {
  if (typeof d === 'number') return d >= 0;
  return d.terms.every((t) => t.names.length === 0 || t.coefficient >= 0) && d.terms.reduce((sum, t) => sum + t.coefficient, 0) >= 0;
}

/** The first dim name among `dims`, for messages and fixes (`batch`). */
export const firstSymbolic = (...dims: readonly Dim[]): string => dims.find(isSymbolic)?.names[0] ?? String(dims[0]);

/** The integer fields of one axis's spec: [start, end, step], null where omitted. */
function axisFields(axis: SliceAxis, a: number): [number | null, number | null, number] {
  const what = (field: string): string => `${field} of axis ${a}`;
  const optional = (value: unknown, field: string): number | null =>
    value === undefined || value === null ? null : requireInteger('slice', what(field), value);
  let fields: readonly unknown[];
  if (axis === null) fields = [];
  else if (Array.isArray(axis)) fields = axis;
  else if (typeof axis === 'object') {
    const { start, end, step } = axis as { start?: unknown; end?: unknown; step?: unknown };
    fields = [start, end, step];
  } else {
    throw new ArgumentError(`slice: axis ${a} must be {start, end, step}, [start, end, step?] or null, got ${String(axis)}.`);
  }
  const step = optional(fields[2], 'step') ?? 1;
  if (step === 0) throw new ArgumentError(`slice: the step of axis ${a} is 0; a step must be a non-zero integer.`);
  return [optional(fields[0], 'start'), optional(fields[1], 'end'), step];
}

export interface ResolvedAxis {
  start: Dim;
  step: number;
  size: Dim;
}

/** Resolves one axis's spec against size `n` as Python's `slice.indices` does. */
export function resolveAxis(x: Tensor, n: Dim, axis: SliceAxis, a: number): ResolvedAxis {
  const [given, givenEnd, step] = axisFields(axis, a);
  if (typeof n !== 'number') return resolveSymbolicAxis(x, n, [given, givenEnd, step], a);
  // Bounds clamp to [0, n] going forward and to [-1, n-1] going backward (-1 = before the start).
  const [lower, upper] = step > 0 ? [0, n] : [-1, n - 1];
  const bound = (value: number | null, fallback: number): number => {
    if (value === null) return fallback;
    const v = value < 0 ? value + n : value;
    return Math.min(Math.max(v, lower), upper);
  };
  const start = bound(given, step > 0 ? lower : upper);
  const end = bound(givenEnd, step > 0 ? upper : lower);
  const size = step > 0 ? Math.max(0, Math.ceil((end - start) / step)) : Math.max(0, Math.ceil((start - end) / -step));
  // An empty or single-element axis reads nothing or one place: canonical start/step keep CSE exact.
  if (size === 0) return { start: 0, step: 1, size };
  return { start, step: size === 1 ? 1 : step, size };
}

/**
 * One axis of symbolic size `n` (≥ 1 at run time, otherwise unknown). Python's clamping
 * depends on n, so a slice is taken only where its size is one polynomial for every n:
 * forward, step 1, from a start ≥ 0 to an end (n when omitted) that provably lies within
 * n — `[:]` keeps `batch`, `[1:]` gives `batch - 1`, `[0:1]` gives 1. Negative indices
 * (from the end), ends that may pass n, other steps: a ShapeError naming the dim.
 */
function resolveSymbolicAxis(x: Tensor, n: Dim, [start, end, step]: [number | null, number | null, number], a: number): ResolvedAxis {
  const refuse = (problem: string): never => {
    throw opError(
      ShapeError,
      'slice',
      [x.node],
      `axis ${a} has the symbolic size '${String(n)}': ${problem}`,
      `slice it forward with step 1 between bounds within its size, or bind the dim (dims: {${firstSymbolic(n)}: …})`,
    );
  };
  if (step !== 1) refuse(`a step of ${step} gives a size that depends on '${String(n)}' in a way a shape cannot hold`);
  if ((start ?? 0) < 0 || (end ?? 0) < 0) refuse(`a negative index counts from its end, which is not known until a run`);
  const from = start ?? 0;
  if (end !== null && end <= from) return { start: 0, step: 1, size: 0 };
  const to: Dim = end ?? n;
  const size = dimSub(to, from);
  if (!provablyNonNegative(size) || !provablyNonNegative(dimSub(n, to))) {
    refuse(`the bounds [${from}, ${String(to)}) may lie beyond '${String(n)}' for some of its sizes`);
  }
  return { start: size === 0 ? 0 : from, step: 1, size };
}

