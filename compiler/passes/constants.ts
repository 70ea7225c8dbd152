/**
 * Reading and making constants, as the simplification passes need them: the values of a
 * const node, whether it is a splat (one value repeated), and new consts built directly
 * (not through `graph.constant`, whose `===` test would merge 0 and −0 into one splat).
 */

import type { DType } from '../dtype.js';
import type { Graph } from '../graph.js';
import type { HostArray } from '../ops/op.js';
import type { ConstAttrs } from '../ops/source.js';
import { constant } from '../ops/source.js';
import type { Shape, TensorType } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { canonicalJson } from './canonical.js';

export function isConst(t: Tensor): boolean {
  return t.node.op === 'const';
}

/** A const's stored values: one (a splat) or one per element. */
export function constValues(t: Tensor): readonly number[] {
  return (t.node.attrs as ConstAttrs).value;
}

/**
 * The value of a const whose elements are all the same one (Object.is, so NaN is a splat
 * and [0, −0] is not), or undefined for any other tensor.
 */
export function splatValue(t: Tensor): number | undefined {
  if (!isConst(t)) return undefined;
  const values = constValues(t);
  const first = values[0];
  return first !== undefined && values.every((v) => Object.is(v, first)) ? first : undefined;
}

/** Whether `t` is a const whose every element is `value` (0 matches both zeros). */
export function isSplatOf(t: Tensor, value: number): boolean {
  const splat = splatValue(t);
  return splat !== undefined && splat === value;
}

/** A new const of `type` from row-major `values`, stored as a splat when they are all one value. */
export function makeConst(graph: Graph, type: TensorType, values: ArrayLike<number>): Tensor {
  const list = Array.from(values);
  const uniform = list.length > 0 && list.every((v) => Object.is(v, list[0]));
  return graph.addNode(constant, [], { shape: [...type.shape], dtype: type.dtype, value: uniform ? [list[0]!] : list });
}

/** A const as the reference interpreter holds it, in f32 (the GPU's precision). */
export function constHost(t: Tensor): HostArray {
  return constant.evaluate([], t.node.attrs as ConstAttrs, t.node, { precision: 'f32' });
}

/** The canonical text of a const (dtype, shape, values, splats collapsed): equal texts, equal tensors. */
export function constKey(dtype: DType, shape: Shape, values: readonly number[]): string {
  const first = values[0];
  const splat = first !== undefined && values.every((v) => Object.is(v, first));
  return `const ${dtype}[${shape.join(',')}] ${canonicalJson(splat ? [first] : values)}`;
}
