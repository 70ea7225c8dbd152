/** Shapes, strides, broadcasting and axes: the arithmetic every shape rule shares. */

import type { DType, TypedArray } from './dtype.js';
import { ArgumentError, ShapeError, opError } from './errors.js';
import type { Dim } from './dims.js';
import { SymDim, dimMul, dimProduct, isDimName, isSymbolic, symbol } from './dims.js';

export type { Dim } from './dims.js';

/** A node's shape: each dim a static size or a symbolic one (`[batch, 784]`). */
export type Shape = readonly Dim[];

/** A shape whose every dim is known: the shape of a value on the host, or of a static node. */
export type StaticShape = readonly number[];

/** What a shape rule computes for a node: its shape and element type. */
export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** A tensor's value on the host: the reference interpreter's currency. */
export interface HostArray {
  readonly shape: StaticShape;
  readonly dtype: DType;
  readonly data: TypedArray;
}

/** `[2,3]`: a shape as error messages spell it. */
export const formatShape = (shape: Shape): string => `[${shape.join(',')}]`;

/** `f32[128,784]`: the spelling used in printed graphs and error messages. */
export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}

/** The number of elements: a number for a static shape, a symbolic size otherwise. */
export function sizeOf(shape: StaticShape): number;
export function sizeOf(shape: Shape): Dim;
export function sizeOf(shape: Shape): Dim {
  return dimProduct(shape);
}

/** Row-major (C order) strides in elements. */
export function stridesOf(shape: StaticShape): number[];
export function stridesOf(shape: Shape): Dim[];
export function stridesOf(shape: Shape): Dim[] {
  const strides = new Array<Dim>(shape.length);
  let s: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s = dimMul(s, shape[i]!);
  }
  return strides;
}

/** Whether every dim of `shape` is a number. */
export function isStaticShape(shape: Shape): shape is StaticShape {
  return shape.every((d) => typeof d === 'number');
}

/**
 * `shape` as numbers, for code that needs its sizes now (a kernel choice, a host array);
 * a symbolic dim is a ShapeError naming `op` and `why` it must be static.
 */
export function staticShape(op: string, shape: Shape, why = 'this needs its sizes when the graph is compiled'): number[] {
  return shape.map((d) => staticDim(op, d, why));
}

/** `d` as a number, or a ShapeError naming `op`, the symbolic dim and `why` it must be static. */
export function staticDim(op: string, d: Dim, why = 'this needs its size when the graph is compiled'): number {
  if (typeof d === 'number') return d;
  throw new ShapeError(`${op}: dim '${d}' is symbolic, but ${why}. Fix: give it a static size (bind it: compile(graph, {dims: {${d.names[0]}: …}})).`);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks a user-given static shape: an array of non-negative integers. */
export function checkStaticShape(op: string, shape: unknown, what = 'shape'): number[] {
  if (!Array.isArray(shape)) {
    throw new ArgumentError(`${op}: ${what} must be an array of non-negative integers, got ${String(shape)}.`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ArgumentError(
        `${op}: ${what} [${shape.join(',')}] has a bad dimension ${String(d)}; dimensions must be non-negative integers.`,
      );
    }
  }
  return [...shape] as number[];
}

/** A dim as a user may write it in a shape: a size, a dim name (`'batch'`), or a dim (`g.dim('batch')`). */
export type DimLike = number | string | SymDim;

/** Checks a user-given shape whose dims may be symbolic (`['batch', 784]`): sizes, names or dims. */
export function checkShape(op: string, shape: unknown, what = 'shape'): Dim[] {
  if (!Array.isArray(shape)) {
    throw new ArgumentError(`${op}: ${what} must be an array of sizes and dim names (e.g. ['batch', 784]), got ${String(shape)}.`);
  }
  return shape.map((d: unknown) => {
    if (d instanceof SymDim) return d;
    if (typeof d === 'string') {
      if (!isDimName(d)) {
        throw new ArgumentError(`${op}: ${what} [${shape.join(',')}] has a bad dim name '${d}'; name a dim with letters, digits and '_' (not starting with a digit), e.g. 'batch'.`);
      }
      return symbol(d);
    }
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ArgumentError(
        `${op}: ${what} [${shape.join(',')}] has a bad dimension ${String(d)}; dimensions must be non-negative integers or dim names such as 'batch'.`,
      );
    }
    return d;
  });
}

/**
 * NumPy broadcasting: shapes are aligned from the right; each pair of dims must be
 * equal or one of them 1.
 */
export function broadcastShapes(op: string, operands: readonly TensorType[]): Dim[] {
  const rank = Math.max(0, ...operands.map((t) => t.shape.length));
  const out = new Array<Dim>(rank).fill(1);
  for (const t of operands) {
    const offset = rank - t.shape.length;
    t.shape.forEach((d, i) => {
      const j = i + offset;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        throw opError(
          ShapeError,
          op,
          operands,
          `shapes cannot be broadcast: axis ${j - rank} (counted from the right) is ${String(out[j])} in one operand and ${String(d)} in another` +
            (isSymbolic(d) || isSymbolic(out[j]!) ? ' (a symbolic dim broadcasts only against 1 or the same dim: its size is not known until a run)' : ''),
          'make the sizes equal, or 1 where a value should repeat (reshape or unsqueeze the smaller operand)',
        );
      }
    });
  }
  return out;
}

/**
 * Strides for reading an operand of shape `from` as if it had the broadcast shape `to`:
 * broadcast (size-1 or missing) axes get stride 0.
 */
export function broadcastStrides(from: StaticShape, to: StaticShape): number[];
export function broadcastStrides(from: Shape, to: Shape): Dim[];
export function broadcastStrides(from: Shape, to: Shape): Dim[] {
  const strides = stridesOf(from);
  const offset = to.length - from.length;
  return to.map((_, j) => {
    const i = j - offset;
    return i < 0 || from[i] === 1 ? 0 : strides[i]!;
  });
}

/** Normalizes a possibly negative axis against `rank`, or throws naming the op. */
export function normalizeAxis(op: string, operands: readonly TensorType[], axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw opError(
      ShapeError,
      op,
      operands,
      `axis ${axis} is out of range for rank ${rank}`,
      rank === 0 ? 'a scalar has no axes; pass no axis' : `use an integer axis in [${-rank}, ${rank - 1}]`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes a list of axes (sorted, no repeats); `undefined` means every axis. */
export function normalizeAxes(
  op: string,
  operands: readonly TensorType[],
  axes: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const normalized = list.map((a) => normalizeAxis(op, operands, a, rank));
  if (new Set(normalized).size !== normalized.length) {
    throw opError(ShapeError, op, operands, `axes [${list.join(',')}] name the same axis twice`, 'list each axis once');
  }
  return normalized.sort((a, b) => a - b);
}

/**
 * Calls `visit(outIndex, offsets)` for every element of `shape`, in row-major order,
 * with each operand's element offset under its own strides (0 for broadcast axes).
 * This is the reference interpreter's one loop over multi-indices.
 */
export function forEachOffset(
  shape: StaticShape,
  operandStrides: readonly (readonly number[])[],
  visit: (outIndex: number, offsets: readonly number[]) => void,
): void {
  const rank = shape.length;
  const total = sizeOf(shape);
  const index = new Array<number>(rank).fill(0);
  const offsets = new Array<number>(operandStrides.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    visit(flat, offsets);
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      for (let k = 0; k < offsets.length; k++) offsets[k]! += operandStrides[k]![axis]!;
      if (index[axis]! < shape[axis]!) break;
      for (let k = 0; k < offsets.length; k++) offsets[k]! -= operandStrides[k]![axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}
