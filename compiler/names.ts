/**
 * Rules for the names users give inputs, params, state and outputs. Names are data (any
 * other string works: codegen sanitizes them, printers escape them); these are the few
 * that would be lost where a name becomes a key.
 */

import { ArgumentError } from './errors.js';

/**
 * `__proto__` is not an own key of an object literal (`{__proto__: values}` sets the
 * prototype), so a feed, output or plan entry by that name would vanish silently.
 */
const RESERVED_NAMES = new Set(['__proto__']);
/** The safetensors header keeps this key for metadata: a param or state by this name could not be saved. */
const CHECKPOINT_METADATA_KEY = '__metadata__';

/** Names of inputs, params, state and outputs: non-empty strings, and not a name JavaScript objects treat specially. */
export function checkName(op: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError(`${op}: a name is required (a non-empty string).`);
  }
  if (RESERVED_NAMES.has(name)) {
    throw new ArgumentError(`${op} '${name}': the name cannot be used: {${name}: values} sets an object's prototype, so feeds and outputs by this name would be lost; rename it.`);
  }
}

/** Params and state are saved in checkpoints by name: one the format reserves is refused now, not after training. */
export function checkPersistentName(op: string, name: string): void {
  if (name === CHECKPOINT_METADATA_KEY) {
    throw new ArgumentError(`${op} '${name}': the name is reserved for metadata in safetensors checkpoints, so this ${op} could not be saved; rename it.`);
  }
}
