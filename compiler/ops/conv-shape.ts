/**
 * Shapes of the convolution ops (conv.ts): the options a user passes, resolved into the
 * attributes a node stores, the shape rules with their errors, and the geometry the
 * reference and the WGSL templates work from (its type, `ConvGeometry`, is the template's
 * parameter, so it is declared in shaders/conv.ts).
 *
 * All three ops relate an *image* [N, C_img, ...S] (a convolution's input) and a
 * *response* [N, C_resp, ...O] (its output) through a weight [C_resp, C_img/groups, ...K]:
 * image position = response position · stride − padding before + kernel position ·
 * dilation, along each spatial axis. conv computes the response, convTranspose the image
 * (its input is a response, so PyTorch's ConvTranspose weight [C_in, C_out/groups, ...K]
 * is this same weight), convWeightGrad the weight.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Shape, TensorType } from '../shape.js';
import { formatShape, staticDim } from '../shape.js';
import type { ConvGeometry } from '../../shaders/conv.js';

/** Spatial axes: 1 for the 1-D ops ([N, C, L]), 2 for the 2-D ops ([N, C, H, W]). */
export type SpatialRank = 1 | 2;

/** What a node stores. `padding` holds a [before, after] pair per spatial axis. */
export type ConvAttrs = { stride: number[]; padding: number[][]; dilation: number[]; groups: number };
/** convTranspose also stores `outputPadding`: extra rows/columns at the end of each axis, each below the stride. */
export type ConvTransposeAttrs = { stride: number[]; padding: number[][]; dilation: number[]; groups: number; outputPadding: number[] };
/** convWeightGrad also stores the kernel's spatial size, which its operands do not determine. */
export type ConvWeightGradAttrs = { stride: number[]; padding: number[][]; dilation: number[]; groups: number; kernel: number[] };

/** Padding as users write it; see `ConvOptions.padding`. */
export type ConvPadding = number | readonly (number | readonly [number, number])[] | 'same' | 'valid';

export interface ConvOptions {
  /** Step between windows, per spatial axis or one number for all (default 1). */
  stride?: number | readonly number[];
  /**
   * Zeros around the input: a number for every side; per axis a number (both sides) or a
   * [before, after] pair (`[[top, bottom], [left, right]]` in 2-D, `[[left, right]]` in 1-D);
   * `'valid'` (none, the default); or `'same'`: ONNX's SAME_UPPER (TensorFlow's SAME), so
   * the output has ceil(input / stride) positions per axis, with the odd padding element,
   * if any, at the end.
   */
  padding?: ConvPadding;
  /** Spacing between kernel taps, per spatial axis or one number (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups (default 1): C_in and C_out are split into `groups` independent convolutions; groups = C_in is depthwise. */
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: number | readonly number[];
  /** As PyTorch's: removed from both ends of the output (a number, per axis, or [before, after] pairs). */
  padding?: number | readonly (number | readonly [number, number])[] | 'valid';
  /** Extra positions at the end of each axis of the output, each smaller than the stride (default 0). */
  outputPadding?: number | readonly number[];
  dilation?: number | readonly number[];
  groups?: number;
}

export interface ConvWeightGradOptions extends ConvOptions {
  /** The kernel's spatial size (kH, kW), one number for all axes or per axis. */
  kernelSize: number | readonly number[];
}

/** Names of the spatial axes in messages. */
const AXIS_NAMES: Record<SpatialRank, readonly string[]> = { 1: ['L'], 2: ['H', 'W'] };
const KERNEL_NAMES: Record<SpatialRank, readonly string[]> = { 1: ['k'], 2: ['kH', 'kW'] };

/** `[N, C_in, H, W]`: a layout as messages spell it. */
export function layout(rank: SpatialRank, leading: readonly string[], kernel = false): string {
  return `[${[...leading, ...(kernel ? KERNEL_NAMES : AXIS_NAMES)[rank]].join(', ')}]`;
}

const plural = (rank: SpatialRank): string => (rank === 1 ? '1 integer' : `${rank} integers`);

/**
 * A per-axis option as `rank` integers ≥ `min`: one number stands for every axis.
 * Throws an ArgumentError naming the op, its operands and the option otherwise.
 */
export function spatialIntegers(
  op: string,
  shown: readonly TensorType[],
  what: string,
  value: unknown,
  rank: SpatialRank,
  min: number,
): number[] {
  const values = typeof value === 'number' ? Array.from({ length: rank }, () => value) : value;
  const valid = Array.isArray(values) && values.length === rank && values.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min);
  if (!valid) {
    const got = Array.isArray(value) ? formatShape(value as number[]) : String(value);
    throw opError(ArgumentError, op, shown, `${what} must be an integer ≥ ${min} or ${plural(rank)} ≥ ${min} (one per spatial axis), got ${got}`, `pass e.g. ${what}: ${min === 0 ? 1 : 2}`);
  }
  return [...(values as number[])];
}

/** The groups option or attribute: a positive integer. */
export function checkGroups(op: string, shown: readonly TensorType[], groups: unknown): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    throw opError(ArgumentError, op, shown, `groups must be a positive integer, got ${String(groups)}`, 'pass groups: 1 for a full convolution, or C_in for a depthwise one');
  }
  return groups;
}

/** Stored padding: `rank` pairs of non-negative integers. */
export function checkPaddingPairs(op: string, shown: readonly TensorType[], padding: unknown, rank: SpatialRank): number[][] {
  const valid =
    Array.isArray(padding) &&
    padding.length === rank &&
    padding.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 0));
  if (!valid) {
    throw opError(
      ArgumentError,
      op,
      shown,
      `padding must be ${rank} [before, after] pair${rank === 1 ? '' : 's'} of non-negative integers, got ${JSON.stringify(padding)}`,
      `pass e.g. padding: 1, or padding: ${rank === 1 ? '[[1, 0]]' : '[[1, 0], [2, 2]]'}`,
    );
  }
  return (padding as number[][]).map((pair) => [...pair]);
}

/** The size of the dilated kernel along one axis: the input span one window covers. */
export const kernelSpan = (kernel: number, dilation: number): number => dilation * (kernel - 1) + 1;

/** The response size along one axis: floor((input + padding − span) / stride) + 1. */
export function convOutputSize(input: number, kernel: number, stride: number, dilation: number, pad: readonly number[]): number {
  return Math.floor((input + pad[0]! + pad[1]! - kernelSpan(kernel, dilation)) / stride) + 1;
}

/**
 * The output padding that makes convTranspose give back an image of `input` positions
 * from conv's response (what the floor of convOutputSize dropped).
 */
export function outputPaddingFor(input: number, kernel: number, stride: number, dilation: number, pad: readonly number[]): number {
  return (input + pad[0]! + pad[1]! - kernelSpan(kernel, dilation)) % stride;
}

/**
 * Resolves the padding option into [before, after] pairs. 'same' needs the input's and
 * kernel's sizes and the stride and dilation (`same`); ops without it refuse 'same'.
 */
export function resolvePadding(
  op: string,
  shown: readonly TensorType[],
  padding: unknown,
  rank: SpatialRank,
  same?: { input: readonly number[]; kernel: readonly number[]; stride: readonly number[]; dilation: readonly number[] },
): number[][] {
  if (padding === undefined || padding === 'valid') return Array.from({ length: rank }, () => [0, 0]);
  if (padding === 'same') {
    if (!same) throw opError(ArgumentError, op, shown, "padding 'same' is only for convolutions", 'pass the padding as numbers or [before, after] pairs');
    return same.input.map((size, axis) => {
      const stride = same.stride[axis]!;
      const span = kernelSpan(same.kernel[axis]!, same.dilation[axis]!);
      const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + span - size);
      const before = Math.floor(total / 2);
      return [before, total - before];
    });
  }
  const perAxis = typeof padding === 'number' ? Array.from({ length: rank }, () => padding) : padding;
  const pairs = Array.isArray(perAxis) ? perAxis.map((p: unknown) => (typeof p === 'number' ? [p, p] : p)) : perAxis;
  return checkPaddingPairs(op, shown, pairs, rank);
}

/** Both operands f32, of rank 2 + `rank`, laid out as `layouts` say. */
export function checkOperands(op: string, inputs: readonly TensorType[], rank: SpatialRank, names: readonly [string, string], layouts: readonly [string, string]): void {
  if (inputs.some((t) => t.dtype !== 'f32')) {
    throw opError(DTypeError, op, inputs, `${names[0]} and ${names[1]} must be f32, got ${inputs.map((t) => t.dtype).join(' and ')}`, "cast with .cast('f32')");
  }
  inputs.forEach((t, k) => {
    if (t.shape.length !== rank + 2) {
      const batchHint = k === 0 && t.shape.length === rank + 1 ? ` (a single example needs a batch axis: ${names[0]}.unsqueeze(0))` : '';
      throw opError(
        ShapeError,
        op,
        inputs,
        `${names[k]} must be ${layouts[k]} (rank ${rank + 2}), got rank ${t.shape.length}`,
        `reshape ${names[k]} to ${layouts[k]}${batchHint}`,
      );
    }
    staticTail(op, t, names[k]!);
  });
}

/**
 * An operand's channel and spatial sizes ([C, ...S], or a weight's [C_out, C_in/groups, ...K]
 * past its first axis), which must be static: the kernels specialise on them. Only the
 * leading axis (the batch N of an image) may be symbolic: a ShapeError names the op and dim.
 */
export function staticTail(op: string, t: { readonly shape: Shape }, name = 'the operand'): number[] {
  return t.shape.slice(1).map((d, i) =>
    staticDim(op, d, `axis ${i + 1} of ${name} is a channel or spatial axis, and only the batch axis N of a convolution or pooling may be symbolic (the kernel specialises on the others)`),
  );
}

/** `groups` divides a channel count, or a ShapeError naming `what`. */
export function checkDivides(op: string, inputs: readonly TensorType[], groups: number, channels: number, what: string): void {
  if (channels % groups !== 0) {
    throw opError(ShapeError, op, inputs, `groups = ${groups} does not divide ${what} = ${channels}`, `choose groups dividing ${what} (${channels})`);
  }
}

/** Every dilated kernel fits its padded input: a window needs at least one position. */
export function checkKernelFits(
  op: string,
  inputs: readonly TensorType[],
  rank: SpatialRank,
  input: readonly number[],
  kernel: readonly number[],
  attrs: Pick<ConvAttrs, 'padding' | 'dilation'>,
): void {
  input.forEach((size, axis) => {
    const [before, after] = attrs.padding[axis] as [number, number];
    const span = kernelSpan(kernel[axis]!, attrs.dilation[axis]!);
    if (span > size + before + after) {
      const dilated = attrs.dilation[axis] === 1 ? `kernel ${kernel[axis]}` : `kernel ${kernel[axis]}, dilation ${attrs.dilation[axis]}`;
      throw opError(
        ShapeError,
        op,
        inputs,
        `the kernel spans ${span} along ${AXIS_NAMES[rank][axis]} (${dilated}) but the padded input has ${size + before + after} ` +
          `(${size} + padding ${before} + ${after})`,
        "use a smaller kernel or dilation, or pad the input (padding: 'same' keeps its size)",
      );
    }
  });
}

/** The stored stride, padding, dilation and groups, checked (they may come from JSON). */
export function checkConvAttrs(op: string, inputs: readonly TensorType[], rank: SpatialRank, attrs: ConvAttrs): ConvAttrs {
  return {
    stride: spatialIntegers(op, inputs, 'stride', attrs.stride, rank, 1),
    padding: checkPaddingPairs(op, inputs, attrs.padding, rank),
    dilation: spatialIntegers(op, inputs, 'dilation', attrs.dilation, rank, 1),
    groups: checkGroups(op, inputs, attrs.groups),
  };
}

/** The response's spatial size for an image of spatial size `image`. */
export function responseSize(image: readonly number[], kernel: readonly number[], attrs: Pick<ConvAttrs, 'stride' | 'padding' | 'dilation'>): number[] {
  return image.map((size, axis) => convOutputSize(size, kernel[axis]!, attrs.stride[axis]!, attrs.dilation[axis]!, attrs.padding[axis]!));
}


const lift = (values: readonly number[], fill: number): [number, number] => (values.length === 1 ? [fill, values[0]!] : [values[0]!, values[1]!]);

/** The geometry relating an image shape and a response shape ([N, C, ...spatial]) through `kernel`. */
export function convGeometry(image: Shape, response: Shape, kernel: readonly number[], attrs: ConvAttrs): ConvGeometry {
  const [imageChannels, ...imageSize] = staticTail('conv', { shape: image }, 'the image');
  const [responseChannels, ...responseSize] = staticTail('conv', { shape: response }, 'the response');
  return {
    batch: image[0]!,
    imageChannels: imageChannels!,
    responseChannels: responseChannels!,
    groups: attrs.groups,
    image: lift(imageSize, 1),
    response: lift(responseSize, 1),
    kernel: lift(kernel, 1),
    stride: lift(attrs.stride, 1),
    dilation: lift(attrs.dilation, 1),
    padBefore: lift(attrs.padding.map((pair) => pair[0]!), 0),
    padAfter: lift(attrs.padding.map((pair) => pair[1]!), 0),
  };
}
