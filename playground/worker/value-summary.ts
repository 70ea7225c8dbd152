/**
 * A tensor's values in a few numbers, for the node panel: its shape and dtype, the range,
 * mean and spread of its finite values, how many are NaN or infinite, a histogram and the
 * first values. Plain data, so it crosses from the worker to the page as it is. Sums run
 * in f64, so a large f32 tensor's mean does not drift.
 */

const HISTOGRAM_BINS = 24;
const FIRST_VALUES = 32;

/** Values as the reference interpreter and the session give them (bool as 0/1). */
export interface Values {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface ValueSummary {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Elements in all. */
  readonly count: number;
  /** Over the finite values; NaN when there are none. */
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation. */
  readonly std: number;
  readonly nanCount: number;
  /** +∞ and −∞ together. */
  readonly infCount: number;
  /** `counts[i]` finite values fall in [min + i·w, min + (i+1)·w) with w = (max − min) / bins; the last bin includes max. */
  readonly histogram: { readonly min: number; readonly max: number; readonly counts: readonly number[] };
  /** The first values in row-major order. */
  readonly first: readonly number[];
}

export function summarizeValues(values: Values, bins = HISTOGRAM_BINS, firstCount = FIRST_VALUES): ValueSummary {
  const { data } = values;
  let nanCount = 0;
  let infCount = 0;
  let finite = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) nanCount++;
    else if (!Number.isFinite(v)) infCount++;
    else {
      finite++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const mean = sum / finite;
  // A second pass: squares of deviations from the mean, which do not cancel as a sum of squares of large values would.
  let squares = 0;
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    squares += (v - mean) ** 2;
    counts[width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0]!++;
  }
  const none = finite === 0;
  return {
    dtype: values.dtype,
    shape: [...values.shape],
    count: data.length,
    min: none ? NaN : min,
    max: none ? NaN : max,
    mean: none ? NaN : mean,
    std: none ? NaN : Math.sqrt(squares / finite),
    nanCount,
    infCount,
    histogram: { min: none ? NaN : min, max: none ? NaN : max, counts },
    first: Array.from({ length: Math.min(firstCount, data.length) }, (_, i) => data[i]!),
  };
}

/**
 * The largest |a − b| over two tensors of one shape: 0 where both are NaN, or both the
 * same infinity; Infinity where only one is NaN or infinite (they disagree completely).
 */
export function maxAbsDifference(a: Values, b: Values): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]) || a.data.length !== b.data.length) {
    throw new Error(`maxAbsDifference: the values have different shapes, [${a.shape.join(',')}] and [${b.shape.join(',')}].`);
  }
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const difference = Math.abs(x - y);
    worst = Math.max(worst, Number.isNaN(difference) ? Infinity : difference);
  }
  return worst;
}
