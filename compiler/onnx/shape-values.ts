/**
 * Shape values that hold symbolic sizes. A model with a dynamic batch computes shapes from
 * it (`Shape → Gather → Unsqueeze → Concat → Reshape`): those values are not known numbers
 * at import, but they are known sizes (`[batch, 784]`), and kiln's shapes take sizes. So
 * the importer carries them as `DimsValue`s through the ops that compute shapes, and the
 * handlers that take a shape (Reshape, Expand, ConstantOfShape, Slice's ends) read them as
 * dims. An op it cannot compute on sizes (an inexact division, a comparison it cannot
 * decide) computes the value at run time instead, from the plan's size block (`dimSize`);
 * a handler that then needs it at import names the dims to bind.
 */

import type { Dim } from '../dims.js';
import { dimAdd, dimDivide, dimMul, dimProduct, dimSub } from '../dims.js';
import type { DimsValue } from './dims-value.js';
import { dimsOf, valueOfDims } from './dims-value.js';
import type { NodeContext } from './handler.js';
import type { KnownValue } from './tensor-proto.js';

/**
 * The ops that only move elements, and which of their inputs are the moved data: the
 * importer folds them on indices into a pool of the data's sizes (so it reuses each
 * handler), the other inputs (Gather's indices, Reshape's shape) being known numbers.
 */
export const MOVED_INPUTS: Readonly<Record<string, 'all' | readonly number[]>> = {
  Identity: [0],
  Cast: [0],
  Reshape: [0],
  Flatten: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Transpose: [0],
  Gather: [0],
  Slice: [0],
  Concat: 'all',
  Split: [0],
  Expand: [0],
  Tile: [0],
  Where: [1, 2],
};

/** Row-major coordinates → offset into a tensor of `shape`, broadcast from the output shape `out`. */
function broadcastOffset(shape: readonly number[], out: readonly number[], index: number): number {
  let offset = 0;
  let stride = 1;
  let rest = index;
  for (let a = out.length - 1; a >= 0; a--) {
    const coordinate = rest % out[a]!;
    rest = Math.floor(rest / out[a]!);
    const axis = a - (out.length - shape.length);
    if (axis < 0) continue;
    if (shape[axis]! !== 1) offset += coordinate * stride;
    stride *= shape[axis]!;
  }
  return offset;
}

function broadcastStatic(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** The least value `d` can take when every name is ≥ 1 and its coefficients are all positive, else undefined. */
function lowerBound(d: Dim): number | undefined {
  if (typeof d === 'number') return d;
  return d.terms.every((t) => t.coefficient > 0) ? d.terms.reduce((sum, t) => sum + t.coefficient, 0) : undefined;
}

/** a == b on sizes: 1, 0, or undefined when it depends on the sizes. */
function equalDims(a: Dim, b: Dim): number | undefined {
  if (a === b) return 1;
  if (typeof a === 'number' && typeof b === 'number') return 0;
  const difference = dimSub(a, b);
  const low = lowerBound(difference) ?? lowerBound(dimSub(b, a));
  return low !== undefined && low > 0 ? 0 : undefined;
}

type Binary = (a: Dim, b: Dim) => Dim | undefined;

/** ONNX's integer division truncates: exact quotients only (an inexact one is computed at run time). */
const BINARY: Readonly<Record<string, Binary>> = {
  Add: dimAdd,
  Sub: dimSub,
  Mul: dimMul,
  Div: (a, b) => dimDivide(a, b),
  Equal: equalDims,
};

/** Elementwise Add/Sub/Mul/Div/Equal on sizes (broadcasting), or undefined when a result is not a size. */
function binary(n: NodeContext, op: Binary, bool: boolean): KnownValue | DimsValue | undefined {
  const [a, b] = [n.knownOrDims(0), n.knownOrDims(1)];
  if (!a || !b) return undefined;
  const out = broadcastStatic(a.shape, b.shape);
  if (!out) return undefined;
  const [x, y] = [dimsOf(a), dimsOf(b)];
  const size = out.reduce((p, d) => p * d, 1);
  const result: Dim[] = [];
  for (let i = 0; i < size; i++) {
    const r = op(x[broadcastOffset(a.shape, out, i)]!, y[broadcastOffset(b.shape, out, i)]!);
    if (r === undefined) return undefined;
    result.push(r);
  }
  return valueOfDims(bool ? 'bool' : a.dtype, out, result);
}

/**
 * Folders of ops that compute on sizes (not only move them). Each returns undefined when
 * the answer is not a size known at import; the importer then computes it at run time.
 */
export const DIMS_FOLDERS: Readonly<Record<string, (n: NodeContext) => KnownValue | DimsValue | undefined>> = {
  Add: (n) => binary(n, BINARY.Add!, false),
  Sub: (n) => binary(n, BINARY.Sub!, false),
  Mul: (n) => binary(n, BINARY.Mul!, false),
  Div: (n) => binary(n, BINARY.Div!, false),
  Equal: (n) => binary(n, BINARY.Equal!, true),
  Neg: (n) => {
    const x = n.knownOrDims(0);
    return x && valueOfDims(x.dtype, x.shape, dimsOf(x).map((d) => dimSub(0, d)));
  },
  // A size is an integer: rounding it changes nothing.
  Floor: (n) => n.knownOrDims(0),
  Ceil: (n) => n.knownOrDims(0),
  Round: (n) => n.knownOrDims(0),
  ReduceProd: (n) => {
    const x = n.knownOrDims(0);
    if (!x || x.shape.length > 1 || n.hasAttr('axes') || n.inputCount > 1) return undefined;
    return valueOfDims(x.dtype, n.int('keepdims', 1) === 1 ? x.shape.map(() => 1) : [], [dimProduct(dimsOf(x))]);
  },
};
