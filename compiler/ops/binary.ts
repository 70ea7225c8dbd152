/**
 * Elementwise binary ops with NumPy broadcasting, comparisons (which give bool), logic
 * on bool masks, and `where`. Operands must share a dtype: kiln never promotes
 * implicitly, but numbers adapt to the tensor they meet (`x.mul(2)`).
 */

import type { DType } from '../dtype.js';
import type { Tensor, TensorLike } from '../tensor.js';
import type { DTypeClass } from './elementwise.js';
import { checkDTypes, evaluateElementwise, inferElementwise } from './elementwise.js';
import { DTypeError, opError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { OpDef, VjpArgs, VjpRule } from './op.js';
import { defineOp, noGradient } from './op.js';
import { log, neg } from './unary.js';
import { liftOperands, requireTensor } from './lift.js';

type NoAttrs = Record<string, never>;

function defineBinary(
  name: string,
  accepts: DTypeClass,
  reference: (a: number, b: number, dtype: DType) => number,
  vjp: VjpRule<NoAttrs>,
  result?: DType,
): OpDef<NoAttrs> {
  return defineOp<NoAttrs>({
    name,
    arity: 2,
    vjp,
    infer: (inputs) => inferElementwise(name, inputs, accepts, result),
    evaluate: (inputs, _, out, ctx) => {
      const dtype = inputs[0]!.dtype;
      return evaluateElementwise(inputs, out, ctx, ([a, b]) => reference(a!, b!, dtype));
    },
  });
}

/** Integer division truncates toward zero; x / 0 gives x, as WGSL defines it for i32. */
function divide(a: number, b: number, dtype: DType): number {
  if (dtype !== 'i32') return a / b;
  return b === 0 ? a : Math.trunc(a / b);
}

/** i32 arithmetic wraps around on overflow, as it does on the GPU. */
const wrap = (v: number, dtype: DType): number => (dtype === 'i32' ? v | 0 : v);

/**
 * The VJP of aᵇ. For a: g·b·aᵇ⁻¹, with the exponent b − 1 replaced by 1 where b = 0, so
 * d/da a⁰ is 0 even at a = 0 (not 0·∞ = NaN). For b: g·y·log(a), with log(a) replaced
 * by 0 where a = 0, so 0ᵇ has a finite exponent gradient. Both as JAX (and PyTorch).
 */
function powGradient({ inputs: [a, b], output: y, cotangent: g }: VjpArgs<NoAttrs>): Tensor[] {
  const exponent = where(equal(b!, 0), 1, sub(b!, 1));
  const logBase = log(where(equal(a!, 0), 1, a!));
  return [mul(g, mul(b!, pow(a!, exponent))), mul(g, mul(y, logBase))];
}

/**
 * The VJP of maximum/minimum: g goes to the operand that was picked (`firstWins`,
 * `secondWins`), and is split half and half on ties, as JAX and PyTorch do: a valid
 * subgradient, and max(x, x) gets gradient 1 as x does.
 */
function selectGradient(g: Tensor, firstWins: Tensor, secondWins: Tensor, tie: Tensor): Tensor[] {
  const shared = where(tie, mul(g, 0.5), 0);
  return [where(firstWins, g, shared), where(secondWins, g, shared)];
}

export const addOp = defineBinary('add', 'numeric', (a, b, d) => wrap(a + b, d), ({ cotangent: g }) => [g, g]);
export const subOp = defineBinary('sub', 'numeric', (a, b, d) => wrap(a - b, d), ({ cotangent: g }) => [g, neg(g)]);
export const mulOp = defineBinary(
  'mul',
  'numeric',
  (a, b, d) => (d === 'i32' ? Math.imul(a, b) : a * b),
  ({ inputs: [a, b], cotangent: g }) => [mul(g, b!), mul(g, a!)],
);
// d/db (a/b) = −a/b² is built as −(g/b)·(a/b): no b² to overflow or underflow.
export const divOp = defineBinary('div', 'numeric', divide, ({ output: y, inputs: [, b], cotangent: g }) => {
  const gOverB = div(g, b!);
  return [gOverB, neg(mul(gOverB, y))];
});
export const powOp = defineBinary('pow', 'float', (a, b) => Math.pow(a, b), powGradient);
export const maximumOp = defineBinary(
  'maximum',
  'numeric',
  (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  ({ inputs: [a, b], cotangent: g }) => selectGradient(g, greater(a!, b!), less(a!, b!), equal(a!, b!)),
);
export const minimumOp = defineBinary(
  'minimum',
  'numeric',
  (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  ({ inputs: [a, b], cotangent: g }) => selectGradient(g, less(a!, b!), greater(a!, b!), equal(a!, b!)),
);
export const equalOp = defineBinary('equal', 'any', (a, b) => Number(a === b), noGradient, 'bool');
export const notEqualOp = defineBinary('notEqual', 'any', (a, b) => Number(a !== b), noGradient, 'bool');
export const lessOp = defineBinary('less', 'numeric', (a, b) => Number(a < b), noGradient, 'bool');
export const lessEqualOp = defineBinary('lessEqual', 'numeric', (a, b) => Number(a <= b), noGradient, 'bool');
export const greaterOp = defineBinary('greater', 'numeric', (a, b) => Number(a > b), noGradient, 'bool');
export const greaterEqualOp = defineBinary('greaterEqual', 'numeric', (a, b) => Number(a >= b), noGradient, 'bool');
export const logicalAndOp = defineBinary('logicalAnd', 'bool', (a, b) => Number(a !== 0 && b !== 0), noGradient);
export const logicalOrOp = defineBinary('logicalOr', 'bool', (a, b) => Number(a !== 0 || b !== 0), noGradient);
export const logicalXorOp = defineBinary('logicalXor', 'bool', (a, b) => Number((a !== 0) !== (b !== 0)), noGradient);

export const logicalNotOp = defineOp<NoAttrs>({
  name: 'logicalNot',
  arity: 1,
  vjp: noGradient,
  infer: (inputs) => inferElementwise('logicalNot', inputs, 'bool'),
  evaluate: (inputs, _, out, ctx) => evaluateElementwise(inputs, out, ctx, ([a]) => Number(a === 0)),
});

/** `where(condition, a, b)`: a where condition is true, else b; all three broadcast. */
export const whereOp = defineOp<NoAttrs>({
  name: 'where',
  arity: 3,
  infer(inputs) {
    const [condition, a, b] = inputs as [typeof inputs[0], typeof inputs[0], typeof inputs[0]];
    if (condition!.dtype !== 'bool') {
      throw opError(
        DTypeError,
        'where',
        inputs,
        `the condition must be bool, got ${condition!.dtype}`,
        "build it with a comparison (x.greater(0)) or .cast('bool')",
      );
    }
    const dtype = checkDTypes('where', [a!, b!], 'any');
    return { shape: broadcastShapes('where', inputs), dtype };
  },
  evaluate: (inputs, _, out, ctx) => evaluateElementwise(inputs, out, ctx, ([c, a, b]) => (c !== 0 ? a! : b!)),
  // The condition is a bool mask: no gradient. Each branch gets g where it was picked.
  vjp: ({ inputs: [condition], cotangent: g }) => [null, where(condition!, g, 0), where(condition!, 0, g)],
});

const binary =
  (def: OpDef<NoAttrs>) =>
  (a: TensorLike, b: TensorLike): Tensor => {
    const [x, y] = liftOperands(def.name, [a, b]) as [Tensor, Tensor];
    return x.graph.addNode(def, [x, y], {});
  };

export const add = binary(addOp);
export const sub = binary(subOp);
export const mul = binary(mulOp);
/** a / b. For i32, truncates toward zero (and x / 0 = x, as WGSL). */
export const div = binary(divOp);
/** aᵇ (float only). */
export const pow = binary(powOp);
/** Elementwise max; NaN if either is NaN. */
export const maximum = binary(maximumOp);
/** Elementwise min; NaN if either is NaN. */
export const minimum = binary(minimumOp);
export const equal = binary(equalOp);
export const notEqual = binary(notEqualOp);
export const less = binary(lessOp);
export const lessEqual = binary(lessEqualOp);
export const greater = binary(greaterOp);
export const greaterEqual = binary(greaterEqualOp);
export const logicalAnd = binary(logicalAndOp);
export const logicalOr = binary(logicalOrOp);
export const logicalXor = binary(logicalXorOp);

export function logicalNot(x: Tensor): Tensor {
  const [t] = liftOperands('logicalNot', [x]) as [Tensor];
  return t.graph.addNode(logicalNotOp, [t], {});
}

/** Picks a where condition is true, else b (NumPy `where`); all three broadcast. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const graph = requireTensor('where', condition, 'condition').graph;
  // Two numbers have no tensor to take a dtype from: they become f32 constants.
  const lifted = typeof a === 'number' && typeof b === 'number' ? [graph.constant(a), graph.constant(b)] : liftOperands('where', [a, b]);
  const [x, y] = lifted as [Tensor, Tensor];
  return x.graph.addNode(whereOp, [condition, x, y], {});
}
