/** Nested arrays of numbers, written inline as constants: their shape and flat values. */

import { ArgumentError } from './errors.js';

/** Nested arrays of numbers, for constants written inline. */
export type NestedNumbers = number | readonly NestedNumbers[];

/** The shape of a rectangular nested array and its values in row-major order. */
export function flattenNested(value: NestedNumbers): { shape: number[]; values: number[] } {
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
