/**
 * What the random-graph generator's steps share: the sizes it draws, the values it keeps
 * with what it knows of them, and what a step may ask of the graph being built.
 */

import type { Graph } from '../../compiler/graph.js';
import type { Shape } from '../../compiler/shape.js';
import { broadcastShapes, staticShape } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Random } from './random.js';

/** Awkward sizes: 1 (broadcast), small odd sizes and a prime that no tile width divides. */
export const DIMS = [1, 1, 2, 3, 5, 17];
export const WIDE_DIMS = [2, 3, 5, 17];
export const MAX_RANK = 4;
/** Keeps the reference interpreter and SwiftShader fast. */
export const MAX_ELEMENTS = 1200;

/** A value of the graph being built, with what the generator knows about its elements. */
export interface Value {
  readonly tensor: Tensor;
  /** The largest |element| (reference interpreter, f32). */
  readonly maxAbs: number;
  /**
   * Computed from the leaves without rounding (neg, abs, max, layout, ...): comparisons
   * and floor of it give the same answer on every device, so only these feed them.
   */
  readonly exact: boolean;
}

/** A built op: its tensor and whether it is exact (see `Value.exact`); undefined when the op does not apply. */
export type Built = { readonly tensor: Tensor; readonly exact: boolean } | undefined;

/** What a step may use of the graph being built. */
export interface StepContext {
  readonly rng: Random;
  readonly graph: Graph;
  /** A value of exactly `shape`: an existing one or a new leaf. */
  valueOfShape(shape: Shape): Value;
  /** A shape of rank ≤ `maxRank` that broadcasts against `shape` (see the generator's `partner`). */
  partnerShape(shape: Shape, maxRank: number): number[];
}

/** The shape `a` and `b` broadcast to (NumPy's rule). */
export function broadcast(a: Shape, b: Shape): number[] {
  return staticShape('fuzz', broadcastShapes('fuzz', [
    { shape: a, dtype: 'f32' },
    { shape: b, dtype: 'f32' },
  ]));
}

/** The sizes of a node or tensor of a fuzzed graph: the generator builds static graphs only. */
export function shapeOf(t: { readonly shape: Shape }): number[] {
  return staticShape('fuzz', t.shape);
}
