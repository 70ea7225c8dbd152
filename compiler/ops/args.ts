/**
 * Checks of plain-number arguments shared by the data-movement ops (slice bounds, pad
 * widths, split sizes), and the spelling of shapes in their messages. Shapes and axes
 * have their own checks in ../shape.ts.
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

