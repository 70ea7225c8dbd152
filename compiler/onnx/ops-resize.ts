/**
 * ONNX Resize (opsets 10-19) and Upsample (7, 9), composed at import from kiln's gather,
 * mul and add: no kernel of their own. Resize is separable, so each resized axis becomes
 * a few gathers along it (one per tap: 1 for nearest, 2 for linear, 4 for cubic) whose
 * results are summed with per-position weights; the index and weight tables are computed
 * here (resize-taps.ts), from the scales or sizes, which must be known at import as every
 * shape in kiln is. The gradient comes for free: gather's is a scatter-add, and the
 * weighted sum's is the transposed interpolation.
 */

import type { Tensor } from '../tensor.js';
import type { HandlerOutput, NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { axisOf } from './ops-shape.js';
import type { AxisResize, AxisTaps, CoordinateMode, NearestMode, ResizeMode, ResizeRule } from './resize-taps.js';
import { COORDINATE_MODES, NEAREST_MODES, axisTaps, isIdentity } from './resize-taps.js';
import { checkDims } from './tensor-proto.js';

const MODES: readonly ResizeMode[] = ['nearest', 'linear', 'cubic'];
const ASPECT_POLICIES = ['stretch', 'not_larger', 'not_smaller'] as const;

function choice<T extends string>(n: NodeContext, name: string, fallback: T, allowed: readonly T[]): T {
  const value = n.string(name, fallback);
  if (!(allowed as readonly string[]).includes(value)) throw n.unsupported(`${name} '${value}' is not one kiln imports (${allowed.join(', ')})`);
  return value as T;
}

/**
 * The node's resampling rule. Before opset 11 (and in Upsample) there were no attributes
 * but `mode`: coordinates are asymmetric and nearest rounds down when upsampling, up when
 * downsampling, as ONNX Runtime does for those opsets (`nearest` is set per axis later).
 */
function ruleOf(n: NodeContext, legacy: boolean): ResizeRule {
  const mode = choice(n, 'mode', 'nearest', legacy ? MODES.slice(0, 2) : MODES);
  if (legacy) return { mode, coordinates: 'asymmetric', nearest: 'floor', cubicA: -0.75, excludeOutside: false, extrapolation: 0 };
  if (n.int('antialias', 0) !== 0) throw n.unsupported('antialias=1 (a filter widened by the downsampling factor) is not supported; export with antialias=0');
  return {
    mode,
    coordinates: choice<CoordinateMode>(n, 'coordinate_transformation_mode', 'half_pixel', COORDINATE_MODES),
    nearest: choice<NearestMode>(n, 'nearest_mode', 'round_prefer_floor', NEAREST_MODES),
    cubicA: n.float('cubic_coeff_a', -0.75),
    excludeOutside: n.int('exclude_outside', 0) === 1,
    extrapolation: n.float('extrapolation_value', 0),
  };
}

/** A known input's values, or undefined when it is omitted or empty (ONNX's way of leaving scales or sizes out before opset 13). */
function givenValues(n: NodeContext, k: number, what: string): number[] | undefined {
  if (!n.has(k)) return undefined;
  const values = Array.from(n.constant(k, what).data);
  return values.length > 0 ? values : undefined;
}

/** Per axis of the input: the output length, the scale and the region of interest. */
function axesPlan(n: NodeContext, x: Tensor, scales: readonly number[] | undefined, sizes: readonly number[] | undefined): AxisResize[] {
  const rank = x.rank;
  const shape = n.staticShape(x.shape, 'Resize computes its taps at import');
  const axes = (n.ints('axes') ?? shape.map((_, a) => a)).map((a) => axisOf(n, a, rank));
  if (new Set(axes).size !== axes.length) throw n.invalid(`axes [${axes.join(',')}] repeat an axis`);
  if ((scales === undefined) === (sizes === undefined)) throw n.invalid('exactly one of scales and sizes must be given');
  const given = (scales ?? sizes)!;
  if (given.length !== axes.length) throw n.invalid(`${scales ? 'scales' : 'sizes'} holds ${given.length} values for ${axes.length} axes`);
  const scale = shape.map(() => 1);
  const output = [...shape];
  if (scales) {
    axes.forEach((a, i) => {
      if (!(scales[i]! > 0)) throw n.invalid(`scale ${scales[i]} of axis ${a} is not positive`);
      scale[a] = scales[i]!;
      output[a] = Math.floor(scales[i]! * shape[a]!);
    });
  } else {
    axes.forEach((a, i) => {
      if (!Number.isInteger(sizes![i]) || sizes![i]! < 0) throw n.invalid(`size ${sizes![i]} of axis ${a} is not a non-negative integer`);
      scale[a] = sizes![i]! / shape[a]!;
      output[a] = sizes![i]!;
    });
    const policy = choice(n, 'keep_aspect_ratio_policy', 'stretch', ASPECT_POLICIES);
    if (policy !== 'stretch') {
      const ratios = axes.map((a) => scale[a]!);
      const kept = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const a of axes) [scale[a], output[a]] = [kept, Math.floor(kept * shape[a]! + 0.5)];
    }
  }
  checkDims(n.describe('the output'), output);
  const roi = regionsOf(n, axes, rank);
  return shape.map((inputSize, a) => ({ inputSize, outputSize: output[a]!, scale: scale[a]!, roi: roi[a]! }));
}

/** tf_crop_and_resize's region per axis ([start, end], in [0, 1] of the input); [0, 1] for the other modes, which ignore roi. */
function regionsOf(n: NodeContext, axes: readonly number[], rank: number): [number, number][] {
  const regions = Array.from({ length: rank }, (): [number, number] => [0, 1]);
  if (n.opType !== 'Resize' || n.opset < 11 || n.string('coordinate_transformation_mode', 'half_pixel') !== 'tf_crop_and_resize') return regions;
  const roi = givenValues(n, 1, 'roi');
  if (roi?.length !== 2 * axes.length) throw n.invalid(`tf_crop_and_resize needs roi with ${2 * axes.length} values (starts, then ends), got ${roi?.length ?? 0}`);
  axes.forEach((a, i) => (regions[a] = [roi[i]!, roi[axes.length + i]!]));
  return regions;
}

/** x resampled along `axis` by the table: a gather per tap, weighted and summed. */
function resampleAxis(n: NodeContext, x: Tensor, axis: number, taps: AxisTaps): Tensor {
  const length = taps.indices[0]!.length;
  const plainGather = taps.indices.length === 1 && taps.weights[0]!.every((w) => w === 1) && !taps.offsets;
  if (x.dtype !== 'f32' && !plainGather) throw n.unsupported(`the input is ${x.dtype}; kiln interpolates f32 only (nearest without extrapolation copies any type)`);
  // The weights broadcast against the axes after `axis`.
  const along = [length, ...x.shape.slice(axis + 1).map(() => 1)];
  n.compute((2 * taps.indices.length + 1) * length);
  const terms = taps.indices.map((indices, t) => {
    const gathered = x.gather(n.graph.constant(indices, { dtype: 'i32', shape: [length] }), axis);
    const weights = taps.weights[t]!;
    return weights.every((w) => w === 1) ? gathered : gathered.mul(n.graph.constant(weights, { shape: along }));
  });
  const sum = terms.reduce((a, b) => a.add(b));
  return taps.offsets ? sum.add(n.graph.constant(taps.offsets, { shape: along })) : sum;
}

/** The resize, with the scales or the sizes (exactly one given) as the node's opset reads them. */
function resize(n: NodeContext, legacy: boolean, scales: readonly number[] | undefined, sizes: readonly number[] | undefined): HandlerOutput {
  const x = n.input(0);
  const rule = ruleOf(n, legacy);
  const plan = axesPlan(n, x, scales, sizes);
  const shape = plan.map((a) => a.outputSize);
  if (shape.some((d) => d === 0)) return { dtype: x.dtype, shape, data: [] };
  if (x.size === 0) throw n.invalid(`an empty input [${x.shape.join(',')}] cannot be resized to [${shape.join(',')}]`);
  let y = x;
  // Innermost axis first, as the reference's recursion (it matters only where tf_crop_and_resize extrapolates).
  for (let a = x.rank - 1; a >= 0; a--) {
    const axis = plan[a]!;
    const nearest: NearestMode = legacy ? (axis.scale < 1 ? 'ceil' : 'floor') : rule.nearest;
    const taps = axisTaps(axis, { ...rule, nearest });
    if (!isIdentity(taps, axis.inputSize)) y = resampleAxis(n, y, a, taps);
  }
  return y;
}

registerHandlers({
  Resize: {
    attributes: [
      'mode',
      'coordinate_transformation_mode',
      'nearest_mode',
      'cubic_coeff_a',
      'exclude_outside',
      'extrapolation_value',
      'axes',
      'keep_aspect_ratio_policy',
      'antialias',
    ],
    // Opset 10: (X, scales); from 11: (X, roi, scales, sizes).
    convert: (n) =>
      n.opset < 11 ? resize(n, true, givenValues(n, 1, 'scales'), undefined) : resize(n, false, givenValues(n, 2, 'scales'), givenValues(n, 3, 'sizes')),
  },
  // Deprecated in opset 10 for Resize; the scales are an attribute in opset 7, input 1 from 9.
  Upsample: {
    attributes: ['mode', 'scales'],
    convert: (n) => resize(n, true, n.opset < 9 ? n.floats('scales') : givenValues(n, 1, 'scales'), undefined),
  },
});
