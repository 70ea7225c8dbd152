/**
 * The host-side arithmetic of ONNX Resize along one axis: for every output position, which
 * input positions it reads and with what weights. Resize is separable (ONNX's reference
 * resizes one axis at a time), so an N-D resize is these per-axis tables applied in turn;
 * ops-resize.ts turns each table into gathers and weighted sums of kiln ops.
 *
 * The formulas follow ONNX's reference implementation (onnx/reference/ops/op_resize.py):
 * the coordinate transformation maps an output index to a fractional input coordinate,
 * the n nearest input positions (n = 2 for nearest and linear, 4 for cubic) are
 * taken from the input padded by edge replication, and weighted by the mode's coefficients
 * of the fractional part, renormalised over the in-range ones when `excludeOutside`.
 */

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

export const COORDINATE_MODES = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
] as const;
export type CoordinateMode = (typeof COORDINATE_MODES)[number];

export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
export type NearestMode = (typeof NEAREST_MODES)[number];

/** How every axis is resampled (the node's attributes). */
export interface ResizeRule {
  readonly mode: ResizeMode;
  readonly coordinates: CoordinateMode;
  readonly nearest: NearestMode;
  /** The cubic kernel's `a` (cubic_coeff_a). */
  readonly cubicA: number;
  readonly excludeOutside: boolean;
  /** The value of an output position that maps outside the input under tf_crop_and_resize. */
  readonly extrapolation: number;
}

/** One axis: its input and output lengths, the scale (output/input), and for tf_crop_and_resize the region [start, end]. */
export interface AxisResize {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly scale: number;
  readonly roi: readonly [number, number];
}

/**
 * Output i = Σ_t weights[t][i] · input[indices[t][i]] + offsets[i]. Indices are in range;
 * a position with fewer non-zero taps than others has weight 0 (at index 0) in the rest.
 */
export interface AxisTaps {
  readonly indices: readonly (readonly number[])[];
  readonly weights: readonly (readonly number[])[];
  /** Non-zero only where tf_crop_and_resize extrapolates; undefined when all are zero. */
  readonly offsets?: readonly number[];
}

/** The input coordinate output index `x` maps to, or undefined outside tf_crop_and_resize's region. */
function sourceCoordinate(x: number, axis: AxisResize, rule: ResizeRule): number | undefined {
  const { inputSize, outputSize, scale, roi } = axis;
  // As ONNX's reference: the unrounded output length, so a 1-long output is detected as it does.
  const outputWidth = scale * inputSize;
  switch (rule.coordinates) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inputSize / 2) * (1 - outputSize / outputWidth);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outputWidth === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'align_corners':
      return outputWidth === 1 ? 0 : (x * (inputSize - 1)) / (outputWidth - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const [start, end] = roi;
      const span = outputWidth === 1 ? ((end - start) * (inputSize - 1)) / 2 : (x * (end - start) * (inputSize - 1)) / (outputWidth - 1);
      const coordinate = span + start * (inputSize - 1);
      return coordinate < 0 || coordinate > inputSize - 1 ? undefined : coordinate;
    }
  }
}

/** The mode's coefficients for the n neighbours of a coordinate whose fractional part (in (0, 1]) is `ratio`. */
function coefficients(ratio: number, rule: ResizeRule): number[] {
  switch (rule.mode) {
    case 'nearest': {
      if (ratio === 1) return [0, 1];
      const up = { round_prefer_floor: ratio > 0.5, round_prefer_ceil: ratio >= 0.5, floor: false, ceil: true }[rule.nearest];
      return up ? [0, 1] : [1, 0];
    }
    case 'linear':
      return [1 - ratio, ratio];
    case 'cubic': {
      const a = rule.cubicA;
      const [r, s] = [ratio, 1 - ratio];
      return [
        ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
        ((a + 2) * r - (a + 3)) * r * r + 1,
        ((a + 2) * s - (a + 3)) * s * s + 1,
        ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
      ];
    }
  }
}

/**
 * The n positions nearest `x` among [0, limit), ties to the smaller, ascending — as the
 * reference's get_neighbor_idxes, on the input padded by ceil(n/2) on each side.
 */
function neighbours(x: number, n: number, limit: number): number[] {
  // The answer is a window of n; one of 2n + 1 around x (kept inside [0, limit)) holds it.
  const base = Math.floor(x);
  const first = Math.max(0, Math.min(base - n, limit - 1 - 2 * n));
  const last = Math.min(limit - 1, Math.max(base + n, 2 * n));
  const candidates = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  return candidates
    .sort((p, q) => Math.abs(x - p) - Math.abs(x - q) || p - q)
    .slice(0, n)
    .sort((p, q) => p - q);
}

/** The (index, weight) pairs one output position reads, with equal indices merged and zero weights dropped. */
function positionTaps(coordinate: number, inputSize: number, rule: ResizeRule): Map<number, number> {
  const floor = Math.floor(coordinate);
  const ratio = coordinate === floor ? 1 : coordinate - floor;
  const coeffs = coefficients(ratio, rule);
  const pad = Math.ceil(coeffs.length / 2);
  const indices = neighbours(coordinate + pad, coeffs.length, inputSize + 2 * pad).map((i) => i - pad);
  if (rule.excludeOutside) {
    indices.forEach((i, t) => (i < 0 || i >= inputSize) && (coeffs[t] = 0));
    const total = coeffs.reduce((a, b) => a + b, 0);
    coeffs.forEach((c, t) => (coeffs[t] = c / total));
  }
  const taps = new Map<number, number>();
  indices.forEach((i, t) => {
    // Edge padding: a neighbour beyond the input reads its nearest end.
    const index = Math.min(Math.max(i, 0), inputSize - 1);
    taps.set(index, (taps.get(index) ?? 0) + coeffs[t]!);
  });
  for (const [index, weight] of taps) if (weight === 0) taps.delete(index);
  return taps;
}

/** The sampling table of one axis. */
export function axisTaps(axis: AxisResize, rule: ResizeRule): AxisTaps {
  const positions: Map<number, number>[] = [];
  const offsets = new Array<number>(axis.outputSize).fill(0);
  for (let x = 0; x < axis.outputSize; x++) {
    const coordinate = sourceCoordinate(x, axis, rule);
    if (coordinate === undefined) offsets[x] = rule.extrapolation;
    positions.push(coordinate === undefined ? new Map() : positionTaps(coordinate, axis.inputSize, rule));
  }
  // At least one tap, so a table whose every position extrapolates still has the output's length.
  const count = Math.max(1, ...positions.map((p) => p.size));
  const indices = Array.from({ length: count }, () => new Array<number>(axis.outputSize).fill(0));
  const weights = Array.from({ length: count }, () => new Array<number>(axis.outputSize).fill(0));
  positions.forEach((taps, x) =>
    [...taps].forEach(([index, weight], t) => {
      indices[t]![x] = index;
      weights[t]![x] = weight;
    }),
  );
  return offsets.some((v) => v !== 0) ? { indices, weights, offsets } : { indices, weights };
}

/** Whether the table reads input i into output i unchanged (an axis the resize leaves alone). */
export function isIdentity(taps: AxisTaps, inputSize: number): boolean {
  const [indices, weights] = [taps.indices[0], taps.weights[0]];
  return (
    taps.indices.length === 1 &&
    taps.offsets === undefined &&
    indices!.length === inputSize &&
    indices!.every((index, x) => index === x) &&
    weights!.every((w) => w === 1)
  );
}
