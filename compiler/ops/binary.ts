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
import { buildLifted, liftOperands, requireTensor } from './lift.js';
import { POW, operand } from '../../shaders/elementwise.js';
import { maximumOf, minimumOf } from './extremum.js';

type NoAttrs = Record<string, never>;

/** One elementwise binary op, whole: what it accepts, its reference, its VJP and its WGSL. */
interface BinaryDef {
  readonly name: string;
  readonly accepts: DTypeClass;
  /** The reference scalar function; `dtype` is the operands' (i32 arithmetic wraps). */
  readonly reference: (a: number, b: number, dtype: DType) => number;
  readonly vjp: VjpRule<NoAttrs>;
  /** The WGSL expression of one element pair, given the operands' dtype. */
  readonly wgsl: (a: string, b: string, dtype: DType) => string;
  /** WGSL functions the expression calls (from shaders/elementwise.ts). */
  readonly helpers?: readonly string[];
  /** The output dtype when it is not the operands' (bool for comparisons). */
  readonly result?: DType;
}

function defineBinary({ name, accepts, reference, vjp, wgsl, helpers, result }: BinaryDef): OpDef<NoAttrs> {
  return defineOp<NoAttrs>({
    name,
    arity: 2,
    vjp,
    infer: (inputs) => inferElementwise(name, inputs, accepts, result),
    evaluate: (inputs, _, out, ctx) => {
      const dtype = inputs[0]!.dtype;
      return evaluateElementwise(inputs, out, ctx, ([a, b]) => reference(a!, b!, dtype));
    },
    lower: { kind: 'elementwise', expr: ([a, b], _, types) => wgsl(a!, b!, types.inputs[0]!), helpers },
  });
}

/** `a op b` with both operands parenthesized where precedence needs it. */
const infix =
  (op: string) =>
  (a: string, b: string): string =>
    `${operand(a)} ${op} ${operand(b)}`;

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

export const addOp = defineBinary({
  name: 'add',
  accepts: 'numeric',
  reference: (a, b, d) => wrap(a + b, d),
  vjp: ({ cotangent: g }) => [g, g],
  wgsl: infix('+'),
});
export const subOp = defineBinary({
  name: 'sub',
  accepts: 'numeric',
  reference: (a, b, d) => wrap(a - b, d),
  vjp: ({ cotangent: g }) => [g, neg(g)],
  wgsl: infix('-'),
});
export const mulOp = defineBinary({
  name: 'mul',
  accepts: 'numeric',
  reference: (a, b, d) => (d === 'i32' ? Math.imul(a, b) : a * b),
  vjp: ({ inputs: [a, b], cotangent: g }) => [mul(g, b!), mul(g, a!)],
  wgsl: infix('*'),
});
// d/db (a/b) = −a/b² is built as −(g/b)·(a/b): no b² to overflow or underflow.
// WGSL's i32 division already gives a / 0 = a (and i32 min / −1 = i32 min, as wrapping does).
export const divOp = defineBinary({
  name: 'div',
  accepts: 'numeric',
  reference: divide,
  vjp: ({ output: y, inputs: [, b], cotangent: g }) => {
    const gOverB = div(g, b!);
    return [gOverB, neg(mul(gOverB, y))];
  },
  wgsl: infix('/'),
});
export const powOp = defineBinary({
  name: 'pow',
  accepts: 'float',
  reference: (a, b) => Math.pow(a, b),
  vjp: powGradient,
  wgsl: (a, b) => `kiln_pow(${a}, ${b})`,
  helpers: POW,
});
// NaN wins, as in the max and min reductions (./extremum.ts); the emitter keeps only the helpers an f32 kernel calls.
export const maximumOp = defineBinary({
  name: 'maximum',
  accepts: 'numeric',
  reference: maximumOf.host,
  vjp: ({ inputs: [a, b], cotangent: g }) => selectGradient(g, greater(a!, b!), less(a!, b!), equal(a!, b!)),
  wgsl: maximumOf.wgsl,
  helpers: maximumOf.helpers('f32'),
});
export const minimumOp = defineBinary({
  name: 'minimum',
  accepts: 'numeric',
  reference: minimumOf.host,
  vjp: ({ inputs: [a, b], cotangent: g }) => selectGradient(g, less(a!, b!), greater(a!, b!), equal(a!, b!)),
  wgsl: minimumOf.wgsl,
  helpers: minimumOf.helpers('f32'),
});

/** A predicate (comparison or logic): bool out, no gradient. */
const predicate = (name: string, accepts: DTypeClass, reference: (a: number, b: number) => boolean, op: string): OpDef<NoAttrs> =>
  defineBinary({ name, accepts, reference: (a, b) => Number(reference(a, b)), vjp: noGradient, wgsl: infix(op), result: 'bool' });

export const equalOp = predicate('equal', 'any', (a, b) => a === b, '==');
// Spelled !(a == b): SwiftShader compiles f32 != as ordered, so NaN != 1 came out false.
export const notEqualOp = defineBinary({
  name: 'notEqual',
  accepts: 'any',
  reference: (a, b) => Number(a !== b),
  vjp: noGradient,
  wgsl: (a, b) => `!(${infix('==')(a, b)})`,
  result: 'bool',
});
export const lessOp = predicate('less', 'numeric', (a, b) => a < b, '<');
export const lessEqualOp = predicate('lessEqual', 'numeric', (a, b) => a <= b, '<=');
export const greaterOp = predicate('greater', 'numeric', (a, b) => a > b, '>');
export const greaterEqualOp = predicate('greaterEqual', 'numeric', (a, b) => a >= b, '>=');
// Logic on bool masks: WGSL bools, so != is exclusive or.
export const logicalAndOp = predicate('logicalAnd', 'bool', (a, b) => a !== 0 && b !== 0, '&&');
export const logicalOrOp = predicate('logicalOr', 'bool', (a, b) => a !== 0 || b !== 0, '||');
export const logicalXorOp = predicate('logicalXor', 'bool', (a, b) => (a !== 0) !== (b !== 0), '!=');

export const logicalNotOp = defineOp<NoAttrs>({
  name: 'logicalNot',
  arity: 1,
  vjp: noGradient,
  infer: (inputs) => inferElementwise('logicalNot', inputs, 'bool'),
  evaluate: (inputs, _, out, ctx) => evaluateElementwise(inputs, out, ctx, ([a]) => Number(a === 0)),
  lower: { kind: 'elementwise', expr: ([a]) => `!${operand(a!)}` },
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
  lower: { kind: 'elementwise', expr: ([condition, a, b]) => `select(${b}, ${a}, ${condition})` },
  // The condition is a bool mask: no gradient. Each branch gets g where it was picked.
  vjp: ({ inputs: [condition], cotangent: g }) => [null, where(condition!, g, 0), where(condition!, 0, g)],
});

const binary =
  (def: OpDef<NoAttrs>) =>
  (a: TensorLike, b: TensorLike): Tensor =>
    buildLifted(def.name, [a, b], ([x, y]) => x!.graph.addNode(def, [x!, y!], {}));

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
  return buildLifted('logicalNot', [x], ([t]) => t!.graph.addNode(logicalNotOp, [t!], {}));
}

/** Picks a where condition is true, else b (NumPy `where`); all three broadcast. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const graph = requireTensor('where', condition, 'condition').graph;
  // A condition that is not a bool mask is refused after the branches became constants: they go with it.
  return graph.atomically(() => {
    // Two numbers have no tensor to take a dtype from: they become f32 constants.
    const lifted = typeof a === 'number' && typeof b === 'number' ? [graph.constant(a), graph.constant(b)] : liftOperands('where', [a, b]);
    const [x, y] = lifted as [Tensor, Tensor];
    return graph.addNode(whereOp, [condition, x, y], {});
  });
}
