/**
 * Checks of plain arguments shared by the ops and the optimizers: integers and arrays
 * (slice bounds, pad widths, split sizes), numbers in a range (epsilon, momentum, rates)
 * and option keys. Shapes and axes have their own checks in ../shape.ts.
 */

import { ArgumentError } from '../errors.js';

/** Returns `value` if it is an integer, else throws an ArgumentError naming `what`. */
export function requireInteger(op: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ArgumentError(`${op}: ${what} must be an integer, got ${String(value)}.`);
  }
  return value;
}

/** Returns `value` if it is an array, else throws an ArgumentError describing what was expected. */
export function requireArray(op: string, what: string, value: unknown, expected: string): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new ArgumentError(`${op}: ${what} must be ${expected}, got ${value === null ? 'null' : typeof value}.`);
  }
  return value as readonly unknown[];
}

/** An inclusive/exclusive numeric range a hyper-parameter must lie in. */
export interface NumberRange {
  min?: number;
  /** The minimum itself is not allowed. */
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
  integer?: boolean;
}

function describeRange(range: NumberRange): string {
  const kind = range.integer ? 'an integer' : 'a finite number';
  const { min, max } = range;
  if (min !== undefined && max !== undefined) {
    return `${kind} in ${range.minExclusive ? '(' : '['}${min}, ${max}${range.maxExclusive ? ')' : ']'}`;
  }
  if (min !== undefined) return `${kind} ${range.minExclusive ? '>' : '≥'} ${min}`;
  if (max !== undefined) return `${kind} ${range.maxExclusive ? '<' : '≤'} ${max}`;
  return kind;
}

/** Throws an ArgumentError naming `where` and `key` unless `value` is a number in `range`. */
export function checkNumber(where: string, key: string, value: unknown, range: NumberRange): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.min === undefined || (range.minExclusive ? value > range.min : value >= range.min)) &&
    (range.max === undefined || (range.maxExclusive ? value < range.max : value <= range.max));
  if (!ok) {
    const got = typeof value === 'string' ? `'${value}'` : String(value);
    throw new ArgumentError(`${where}: ${key} must be ${describeRange(range)}, got ${got}.`);
  }
  return value as number;
}

/** Throws an ArgumentError if `options` has a key not in `known` (a typo, or PyTorch's `betas`). */
export function checkKeys(where: string, options: unknown, known: readonly string[]): void {
  for (const key of Object.keys(requireObject(where, 'options', options, `an object ({${known.join(', ')}})`))) {
    if (!known.includes(key)) {
      throw new ArgumentError(`${where}: unknown option '${key}'. Options: ${known.join(', ')}.`);
    }
  }
}

/** Returns `value` if it is an object (not null, not an array), else throws an ArgumentError describing what was expected. */
export function requireObject(where: string, what: string, value: unknown, expected: string): object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? `the string '${value}'` : typeof value;
    throw new ArgumentError(`${where}: ${what} must be ${expected}, got ${got}.`);
  }
  return value;
}
