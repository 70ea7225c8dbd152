/** Turning operands into tensors: numbers become constants of the dtype they meet. */

import { isFloat } from '../dtype.js';
import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { TensorLike } from '../tensor.js';

/**
 * Returns the operands as tensors. Numbers are "weakly typed" as in JAX: a number meets
 * the dtype of the tensor operands (a fraction meeting an i32 tensor is an error).
 */
export function liftOperands(op: string, operands: readonly TensorLike[]): Tensor[] {
  const anchor = operands.find((x): x is Tensor => x instanceof Tensor);
  if (!anchor) {
    throw new ArgumentError(`${op}: at least one operand must be a Tensor; got only numbers. Wrap one with graph.constant(...).`);
  }
  return operands.map((x) => {
    if (x instanceof Tensor) return x;
    if (typeof x !== 'number') {
      throw new ArgumentError(`${op}: operands must be Tensors or numbers, got ${x === null ? 'null' : typeof x}.`);
    }
    return scalarLike(op, x, anchor.dtype, anchor);
  });
}

/**
 * Lifts the operands and builds the op from them in one step: if the op's shape or dtype
 * rule refuses them, the constants made for number operands are rolled back with it.
 */
export function buildLifted(op: string, operands: readonly TensorLike[], build: (tensors: Tensor[]) => Tensor): Tensor {
  const anchor = operands.find((x): x is Tensor => x instanceof Tensor);
  if (!anchor) return build(liftOperands(op, operands));
  return anchor.graph.atomically(() => build(liftOperands(op, operands)));
}

function scalarLike(op: string, value: number, dtype: DType, anchor: Tensor): Tensor {
  if (dtype === 'bool') {
    if (value !== 0 && value !== 1) throw new DTypeError(`${op}: the number ${value} cannot meet a bool tensor; use 0/1 or cast the tensor.`);
  } else if (!isFloat(dtype) && !Number.isInteger(value)) {
    throw new DTypeError(
      `${op}(${anchor.toString()}, ${value}): the fraction ${value} cannot meet an ${dtype} tensor. Fix: cast the tensor with .cast('f32').`,
    );
  }
  return anchor.graph.constant(value, { dtype });
}

/** Checks that a functional op got a Tensor (not a number or array) where it needs one. */
export function requireTensor(op: string, x: unknown, what = 'operand'): Tensor {
  if (!(x instanceof Tensor)) {
    const got = Array.isArray(x) ? 'an array (wrap literals with graph.constant)' : x === null ? 'null' : typeof x;
    throw new ArgumentError(`${op}: the ${what} must be a Tensor, got ${got}.`);
  }
  return x;
}
