/** A graph node, in its own module so that graph.ts and the JSON codec it uses (graph-json.ts) share one definition. */

import type { Attrs } from './attrs.js';
import type { DType } from './dtype.js';
import type { Shape } from './shape.js';

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly shape: Shape;
  readonly dtype: DType;
  readonly attrs: Attrs;
  /** The user's name: required for inputs, params and state; an optional label otherwise. */
  readonly name?: string;
}
