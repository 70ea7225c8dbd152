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
  /** Where the node came from (scope, source line), for tools; absent when unknown. Printing, JSON, plans and WGSL ignore it. */
  readonly origin?: Origin;
}

/**
 * Where a node came from: `scope` is the path of the scopes open when it was built
 * (`block0/attn`, see `Graph.scope`; nn layers open their own name), `line` the source line
 * a tool's line source gave (the playground's editor line, 1-based). A node built in place of
 * another (by a pass, autodiff or an optimizer) has that node's origin.
 */
export interface Origin {
  readonly scope?: string;
  readonly line?: number;
}
