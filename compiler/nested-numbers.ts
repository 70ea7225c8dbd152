/** Nested arrays of numbers, written inline as constants: their shape and flat values. */

import type { DType } from './dtype.js';
import { isDType } from './dtype.js';
import { ArgumentError } from './errors.js';
import type { DimLike, Shape } from './shape.js';
import { checkShape, sizeOf } from './shape.js';

/** Nested arrays of numbers, for constants written inline. */
export type NestedNumbers = number | readonly NestedNumbers[];

/** The shape of a rectangular nested array and its values in row-major order. */
function flattenNested(value: NestedNumbers): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  for (let level: NestedNumbers = value; Array.isArray(level); level = (level as readonly NestedNumbers[])[0]!) {
    shape.push((level as readonly NestedNumbers[]).length);
    if ((level as readonly NestedNumbers[]).length === 0) break;
  }
  const values: number[] = [];
  const walk = (v: NestedNumbers, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new ArgumentError('const: nested arrays must be rectangular.');
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ArgumentError('const: nested arrays must be rectangular.');
    }
    for (const item of v as readonly NestedNumbers[]) walk(item, depth + 1);
  };
  walk(value, 0);
  return { shape, values };
}

/**
 * `graph.constant`'s arguments checked and normalized: `value` is a number (a scalar, or a
 * splat when `shape` is given), a nested array, or a flat array with `shape`; floats default
 * to f32; a literal whose values are all equal is stored as one value (a splat).
 */
export function constantLiteral(value: NestedNumbers | ArrayLike<number>, options: { dtype?: DType; shape?: readonly DimLike[] }): { shape: Shape; dtype: DType; value: number[] } {
  const dtype = options.dtype ?? 'f32';
  if (!isDType(dtype)) throw new ArgumentError(`const: unknown dtype '${String(dtype)}'. Use f32, i32 or bool.`);
  let shape: Shape;
  let values: number[];
  if (typeof value === 'number') {
    shape = options.shape ? checkShape('const', options.shape) : [];
    values = [value];
  } else if (options.shape) {
    shape = checkShape('const', options.shape);
    values = Array.from(value as ArrayLike<number>);
  } else {
    ({ shape, values } = flattenNested(value as NestedNumbers));
  }
  if (values.some((v) => typeof v !== 'number')) {
    throw new ArgumentError('const: every value must be a number.');
  }
  if (dtype !== 'f32' && values.some((v) => !Number.isInteger(v))) {
    throw new ArgumentError(`const: ${dtype} constants must hold integers; got a fraction. Use dtype 'f32'.`);
  }
  if (values.length === sizeOf(shape) && values.length > 1 && values.every((v) => v === values[0])) {
    values = [values[0]!];
  }
  return { shape, dtype, value: values };
}
