/**
 * The geometry of pooling windows, shared by the pooling ops (pool.ts), their reference
 * implementations and their kernels (shaders/pool.ts): user options normalized into
 * canonical attributes, the shape rule, and the windows themselves (their type,
 * `PoolWindows`, is the template's parameter, so it is declared in shaders/pool.ts).
 *
 * Along a spatial axis of size L with kernel k, stride s and padding b before and a after,
 * window o covers input positions [o·s − b, o·s − b + k), clipped to [0, L). There are
 * ⌊(L + b + a − k) / s⌋ + 1 windows; in ceil mode ⌈(L + b + a − k) / s⌉ + 1, less one when
 * the last would start past the input and the left padding (o·s ≥ L + b), as in PyTorch
 * and ONNX. Padding is at most ⌊k/2⌋ on each side (PyTorch's rule), so every window
 * holds at least one input element: a max is never taken over padding alone, and an
 * average never divides by zero.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Shape, StaticShape, TensorType } from '../shape.js';
import { sizeOf, stridesOf } from '../shape.js';
import { staticTail } from './conv-shape.js';
import type { PoolWindows } from '../../shaders/pool.js';

/** Canonical pooling attributes: one entry per spatial axis in every array. */
export type PoolAttrs = { kernel: number[]; stride: number[]; padBefore: number[]; padAfter: number[]; ceilMode: boolean };
export type AvgPoolAttrs = PoolAttrs & { countIncludePad: boolean };

/** Options of the pooling functions (`maxPool2d(x, options)`, ...). */
export interface PoolOptions {
  /** The window's size: one number for every spatial axis, or one per axis. */
  kernelSize: number | readonly number[];
  /** The step between windows (default: the kernel size, so windows tile the input). */
  stride?: number | readonly number[];
  /**
   * Padding of each spatial axis (default 0): one number on both sides of every axis, or
   * per axis a number (both sides) or a `[before, after]` pair. At most half the
   * kernel on each side. Max pooling pads with −∞ (never chosen); average pooling skips
   * padding unless `countIncludePad`.
   */
  padding?: number | readonly (number | readonly [number, number])[];
  /**
   * Rounds the number of windows up instead of down (default false), so the input's tail
   * gets a partial window; a window that would start past the input and the left padding
   * is dropped (PyTorch's and ONNX's rule).
   */
  ceilMode?: boolean;
}

export interface AvgPoolOptions extends PoolOptions {
  /**
   * Whether padding counts in each window's divisor (default false, as ONNX's
   * AveragePool; PyTorch's AvgPool defaults to true). Either way, the part of a ceil-mode
   * window that hangs past the padding never counts.
   */
  countIncludePad?: boolean;
}


const AXIS_NAMES: Record<number, readonly string[]> = { 1: ['L'], 2: ['H', 'W'], 3: ['D', 'H', 'W'] };

/** `N, C, H, W`: how the layout of an input with `spatialRank` spatial axes is spelled. */
export function layoutName(spatialRank: number): string {
  return ['N', 'C', ...(AXIS_NAMES[spatialRank] ?? [])].join(', ');
}

/** `axis 2 (H)`: a spatial axis named in messages. */
function axisName(spatial: number, spatialRank: number): string {
  return `axis ${spatial + 2} (${AXIS_NAMES[spatialRank]![spatial]})`;
}

/** The number of windows along one axis (see the module comment). */
export function windowCount(size: number, kernel: number, stride: number, before: number, after: number, ceilMode: boolean): number {
  const span = size + before + after - kernel;
  const count = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  return ceilMode && (count - 1) * stride >= size + before ? count - 1 : count;
}

/** Checks that `x` is a float tensor of rank 2 + `spatialRank` ([N, C, spatial…]). */
export function requirePoolInput(op: string, operands: readonly TensorType[], x: TensorType, spatialRank: number): void {
  if (x.shape.length !== spatialRank + 2) {
    const layout = layoutName(spatialRank);
    const problem = `expects a rank-${spatialRank + 2} input [${layout}], got rank ${x.shape.length}`;
    throw opError(ShapeError, op, operands, problem, `reshape the input to [${layout}] (x.unsqueeze(0) adds a batch axis of 1)`);
  }
  if (x.dtype !== 'f32') {
    throw opError(DTypeError, op, operands, `the input must be f32, got ${x.dtype}`, "cast it with .cast('f32')");
  }
}

/** Checks that stored sizes are `count` integers of at least `min`; `shown` is how the message spells them. */
function requireSizes(op: string, operands: readonly TensorType[], what: string, values: readonly unknown[][], count: number, min: number, shown: string): void {
  const ok = values.every((v) => Array.isArray(v) && v.length === count && v.every((d) => Number.isInteger(d) && (d as number) >= min));
  if (!ok) {
    const kind = min === 1 ? 'positive' : 'non-negative';
    const problem = `${what} must be ${kind} integers, one per spatial axis (${count}), got ${shown}`;
    throw opError(ArgumentError, op, operands, problem, `pass ${kind} integers`);
  }
}

/**
 * The shape rule of a pooling of `x` ([N, C, spatial…]; its spatial rank is the kernel's
 * length): checks the attributes and the input, and returns the output's spatial sizes.
 * `operands` are the types the error messages name.
 */
export function pooledSize(op: string, operands: readonly TensorType[], x: TensorType, attrs: PoolAttrs): number[] {
  const spatialRank = Array.isArray(attrs.kernel) ? attrs.kernel.length : 0;
  if (spatialRank < 1 || spatialRank > 3) {
    const problem = `the kernel attribute ${JSON.stringify(attrs.kernel)} must have 1 to 3 entries (one per spatial axis)`;
    throw opError(ArgumentError, op, operands, problem, 'build the node with a pooling function (maxPool2d, avgPool1d, ...)');
  }
  const { kernel, stride, padBefore, padAfter } = attrs;
  requireSizes(op, operands, 'kernelSize', [kernel], spatialRank, 1, JSON.stringify(kernel));
  requireSizes(op, operands, 'stride', [stride], spatialRank, 1, JSON.stringify(stride));
  const padding = `before ${JSON.stringify(padBefore)} and after ${JSON.stringify(padAfter)}`;
  requireSizes(op, operands, 'padding', [padBefore, padAfter], spatialRank, 0, padding);
  if (typeof attrs.ceilMode !== 'boolean') {
    throw opError(ArgumentError, op, operands, `ceilMode must be a boolean, got ${String(attrs.ceilMode)}`, 'pass true or false');
  }
  requirePoolInput(op, operands, x, spatialRank);
  return spatialOf(op, x).map((size, a) => {
    const k = kernel[a]!;
    const [before, after] = [padBefore[a]!, padAfter[a]!];
    const where = axisName(a, spatialRank);
    if (size === 0) {
      throw opError(ShapeError, op, operands, `${where} is empty`, 'pool an input with at least one element along every spatial axis');
    }
    if (before > Math.floor(k / 2) || after > Math.floor(k / 2)) {
      const problem = `padding [${before}, ${after}] on ${where} is more than half the kernel size ${k}, so a window could hold only padding`;
      throw opError(ArgumentError, op, operands, problem, `pad at most ${Math.floor(k / 2)} on each side of that axis`);
    }
    if (size + before + after < k) {
      const problem = `kernel size ${k} on ${where} is larger than the padded input, ${size} + ${before} + ${after} = ${size + before + after}`;
      throw opError(ShapeError, op, operands, problem, 'use a smaller kernelSize, or more padding');
    }
    return windowCount(size, k, stride[a]!, before, after, attrs.ceilMode);
  });
}

/** `give 2 spatial entries, for [N, C, H, W]`: the fix for a per-axis option of the wrong length. */
const perAxisFix = (spatialRank: number): string =>
  `give ${spatialRank} entr${spatialRank === 1 ? 'y' : 'ies'}, one per spatial axis of [${layoutName(spatialRank)}]`;

/** One number for every spatial axis, or one per axis. */
function perAxis(op: string, x: TensorType, what: string, value: unknown, spatialRank: number): number[] {
  if (typeof value === 'number') return new Array<number>(spatialRank).fill(value);
  if (Array.isArray(value) && value.length === spatialRank && value.every((v) => typeof v === 'number')) return [...(value as number[])];
  const problem = `${what} must be a number or one number per spatial axis, got ${JSON.stringify(value)}`;
  throw opError(ArgumentError, op, [x], problem, perAxisFix(spatialRank));
}

/** Padding as one [before, after] pair per spatial axis, from a number, or one number or pair per axis. */
function paddingPairs(op: string, x: TensorType, padding: unknown, spatialRank: number): number[][] {
  const isPair = (p: unknown): boolean => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number');
  if (typeof padding === 'number') return new Array<number[]>(spatialRank).fill([padding, padding]);
  if (Array.isArray(padding) && padding.length === spatialRank && padding.every((p) => typeof p === 'number' || isPair(p))) {
    return padding.map((p: number | readonly number[]) => (typeof p === 'number' ? [p, p] : [...p]));
  }
  const problem = `padding must be a number, or one number or [before, after] pair per spatial axis, got ${JSON.stringify(padding)}`;
  throw opError(ArgumentError, op, [x], problem, `${perAxisFix(spatialRank)}; a [before, after] pair is one entry, as in [[0, 1]]`);
}

/**
 * Normalizes a pooling function's options into canonical attributes (checked by
 * `pooledSize`, under the user's op name, before any node is built).
 */
export function poolAttrs(op: string, x: TensorType, spatialRank: number, options: PoolOptions): PoolAttrs {
  requirePoolInput(op, [x], x, spatialRank);
  if (typeof options !== 'object' || options === null) {
    throw opError(ArgumentError, op, [x], `options must be an object, got ${String(options)}`, 'pass { kernelSize, stride?, padding?, ceilMode? }');
  }
  const kernel = perAxis(op, x, 'kernelSize', options.kernelSize, spatialRank);
  const stride = options.stride === undefined ? kernel : perAxis(op, x, 'stride', options.stride, spatialRank);
  const pairs = paddingPairs(op, x, options.padding ?? 0, spatialRank);
  const ceilMode = options.ceilMode ?? false;
  const attrs = { kernel, stride, padBefore: pairs.map((p) => p[0]!), padAfter: pairs.map((p) => p[1]!), ceilMode };
  pooledSize(op, [x], x, attrs);
  return attrs;
}

/** The spatial sizes of a pooling's [N, C, ...spatial] operand: static (only N may be symbolic), else a ShapeError naming the dim. */
export function spatialOf(op: string, x: { readonly shape: Shape }): number[] {
  return staticTail(op, x, 'the input').slice(1);
}

/** The windows of a pooling with these attributes over planes of `inputSize`. */
export function windowsOf(inputSize: StaticShape, attrs: PoolAttrs): PoolWindows {
  const { kernel, stride, padBefore, padAfter, ceilMode } = attrs;
  const outputSize = inputSize.map((size, a) => windowCount(size, kernel[a]!, stride[a]!, padBefore[a]!, padAfter[a]!, ceilMode));
  return { inputSize, outputSize, kernel, stride, padBefore, padAfter };
}

/** The coordinates of window `index` (flat, row-major over the output plane). */
function windowCoords(w: PoolWindows, index: number): number[] {
  const strides = stridesOf(w.outputSize);
  return strides.map((s, a) => Math.floor(index / s) % w.outputSize[a]!);
}

/**
 * Calls `visit` with the in-plane offset of each input element of window `index`, in
 * row-major window order (padding is skipped: it holds no element).
 */
export function forEachInWindow(w: PoolWindows, index: number, visit: (offset: number) => void): void {
  const starts = windowCoords(w, index).map((o, a) => o * w.stride[a]! - w.padBefore[a]!);
  const strides = stridesOf(w.inputSize);
  const walk = (axis: number, offset: number): void => {
    if (axis === starts.length) {
      visit(offset);
      return;
    }
    const start = starts[axis]!;
    const end = Math.min(start + w.kernel[axis]!, w.inputSize[axis]!);
    for (let p = Math.max(start, 0); p < end; p++) walk(axis + 1, offset + p * strides[axis]!);
  };
  walk(0, 0);
}

/**
 * What window `index`'s sum is divided by in average pooling: its input elements, plus,
 * with `countIncludePad`, its padding (but never the part of a ceil-mode window that
 * hangs past the padding, as PyTorch and ONNX).
 */
export function windowDivisor(w: PoolWindows, index: number, countIncludePad: boolean): number {
  return windowCoords(w, index).reduce((count, o, a) => {
    const start = o * w.stride[a]! - w.padBefore[a]!;
    const end = start + w.kernel[a]!;
    const size = w.inputSize[a]!;
    const along = countIncludePad ? Math.min(end, size + w.padAfter[a]!) - start : Math.min(end, size) - Math.max(start, 0);
    return count * along;
  }, 1);
}

/** Elements per plane of the input and of the output. */
export function planeSizes(w: PoolWindows): { input: number; output: number } {
  return { input: sizeOf(w.inputSize), output: sizeOf(w.outputSize) };
}
