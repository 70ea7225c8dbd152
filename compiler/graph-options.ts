/** The options of a Graph and of its params and state, and their checks (unknown keys are typos). */

import type { DType } from './dtype.js';
import type { InitKind, InitSpec } from './init.js';
import { checkKeys } from './ops/args.js';

export interface PersistentOptions {
  /** Initializer: a kind such as `'glorotUniform'`, or a full spec. Default zeros. */
  init?: InitKind | InitSpec;
  dtype?: DType;
}

export interface GraphOptions {
  /** Seed of every random initializer that does not name its own. Default 0. */
  seed?: number;
}

/** Checks `new Graph(name, options)`'s options: an object whose only key is `seed`. */
export function checkGraphOptions(options: unknown): asserts options is GraphOptions {
  checkKeys('Graph', options, ['seed']);
}

/** Checks a param's or state's options (`where` names it): an object of `init` and `dtype`. */
export function checkPersistentOptions(where: string, options: unknown): asserts options is PersistentOptions {
  checkKeys(where, options, ['init', 'dtype']);
}
