/**
 * A value known at import whose elements are sizes, some symbolic (`Shape` of a tensor with
 * a dynamic batch): how the importer holds it, and how it becomes a run-time tensor where an
 * op computes on it. The folding of ops on such values is in shape-values.ts.
 */

import type { Dim } from '../dims.js';
import { dimNames, isSymbolic } from '../dims.js';
import type { DType } from '../dtype.js';
import type { Graph } from '../graph.js';
import * as k from '../ops/index.js';
import { dimSize } from '../ops/dim-size.js';
import type { Tensor } from '../tensor.js';
import type { KnownValue } from './tensor-proto.js';

/** A value known at import whose elements are sizes, at least one of them symbolic. */
export interface DimsValue {
  /** The element type the value has in the model (i32 for INT64 shapes, f32 after a Cast to float). */
  readonly dtype: DType;
  /** The value's own shape (a shape vector's length, a scalar): always static. */
  readonly shape: readonly number[];
  /** The elements, row-major. */
  readonly dims: readonly Dim[];
}

export function isDimsValue(value: unknown): value is DimsValue {
  return typeof value === 'object' && value !== null && 'dims' in value;
}

/** The value as a KnownValue when every element is a number, else a DimsValue. */
export function valueOfDims(dtype: DType, shape: readonly number[], dims: readonly Dim[]): KnownValue | DimsValue {
  return dims.every((d): d is number => typeof d === 'number') ? { dtype, shape, data: dims } : { dtype, shape, dims };
}

/** A known value's elements as dims. */
export function dimsOf(value: KnownValue | DimsValue): readonly Dim[] {
  return isDimsValue(value) ? value.dims : Array.from(value.data);
}

/** The names of the symbolic dims the value holds, sorted. */
export function namesOf(value: DimsValue): string[] {
  return dimNames(value.dims);
}

/** The value as a tensor of `graph`: each symbolic size read at run time (dimSize), the static ones constants. */
export function dimsTensor(graph: Graph, value: DimsValue): Tensor {
  const dtype: DType = value.dtype === 'f32' ? 'f32' : 'i32';
  const parts = value.dims.map((d) => (isSymbolic(d) ? dimSize(graph, d, dtype) : graph.constant(d, { dtype })).reshape([1]));
  return (parts.length === 1 ? parts[0]! : k.concat(parts, 0)).reshape(value.shape);
}
