/**
 * The contract every op fulfils, in one place per op: a shape/dtype rule and a CPU
 * reference implementation. Later stages add to the same definition (its VJP for
 * autodiff, its WGSL lowering), so an op is always read and changed in one file.
 */

import type { DType, Precision, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { GraphError } from '../errors.js';
import type { Shape, TensorType } from '../shape.js';
import { sizeOf } from '../shape.js';

/** Attribute values are plain JSON so a graph (and later a plan) serializes as is. */
export type AttrValue = number | string | boolean | null | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = { readonly [key: string]: AttrValue };

/** A tensor's value on the host: the reference interpreter's currency. */
export interface HostArray {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly data: TypedArray;
}

/** What the reference interpreter gives an op's `evaluate`. */
export interface EvalContext {
  /** Float precision of this evaluation: f64 for gradient checks, f32 to mirror the GPU. */
  readonly precision: Precision;
}

export interface OpDef<A extends Attrs = Attrs> {
  /** The op's name as printed in graphs (`matmul`, `sum`, ...). */
  readonly name: string;
  /** Number of inputs, or 'variadic' (concat). */
  readonly arity: number | 'variadic';
  /**
   * Shape and dtype rule. Runs when a node is built and again in `verify`; throws a
   * ShapeError/DTypeError naming the op, the operand types and the fix.
   */
  infer(inputs: readonly TensorType[], attrs: A): TensorType;
  /** CPU reference implementation: plain, obviously correct code; the oracle for GPU tests. */
  evaluate(inputs: readonly HostArray[], attrs: A, out: TensorType, ctx: EvalContext): HostArray;
}

const registry = new Map<string, OpDef>();

/** Registers an op definition under its name (once) and returns it, typed. */
export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new GraphError(`op '${def.name}' is defined twice`);
  // The registry is keyed by name and holds ops of different attribute types; callers
  // that look an op up by name (verify, the interpreter) pass that node's own attrs.
  registry.set(def.name, def as unknown as OpDef);
  return def;
}

/** Looks an op up by name; throws a GraphError listing what exists if it is unknown. */
export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) {
    throw new GraphError(`unknown op '${name}'. Known ops: ${[...registry.keys()].sort().join(', ')}.`);
  }
  return def;
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

/** Allocates a zeroed host array of the given type in the context's precision. */
export function emptyLike(type: TensorType, ctx: EvalContext): HostArray {
  return { shape: type.shape, dtype: type.dtype, data: allocate(type.dtype, sizeOf(type.shape), ctx.precision) };
}
