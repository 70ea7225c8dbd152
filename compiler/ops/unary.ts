/**
 * Elementwise unary ops. Each entry is the whole op: its name, the dtypes it takes, its
 * reference scalar function and its VJP (later also its WGSL expression).
 */

import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, div, greater, greaterEqual, lessEqual, logicalAnd, mul, sub, where } from './binary.js';
import type { DTypeClass } from './elementwise.js';
import { evaluateElementwise, inferElementwise } from './elementwise.js';
import type { Attrs, OpDef, VjpRule } from './op.js';
import { defineOp, noGradient } from './op.js';
import { requireTensor } from './lift.js';
import { erf as erfScalar, roundHalfEven, sigmoid as sigmoidScalar, softplus as softplusScalar } from './special.js';

function defineUnary<A extends Attrs>(
  name: string,
  accepts: DTypeClass,
  reference: (x: number, attrs: A) => number,
  vjp: VjpRule<A>,
): OpDef<A> {
  return defineOp<A>({
    name,
    arity: 1,
    vjp,
    infer: (inputs) => inferElementwise(name, inputs, accepts),
    evaluate: (inputs, attrs, out, ctx) => evaluateElementwise(inputs, out, ctx, ([x]) => reference(x!, attrs)),
  });
}

type NoAttrs = Record<string, never>;
const unary =
  (def: OpDef<NoAttrs>) =>
  (x: Tensor): Tensor =>
    requireTensor(def.name, x).graph.addNode(def, [x], {});

/**
 * The VJP of an elementwise unary op from its derivative: `derivative(x, y, g, attrs)`
 * returns g·f'(x) in graph ops, given the input x, the output y = f(x) and the cotangent g.
 */
const chain =
  <A extends Attrs>(derivative: (x: Tensor, y: Tensor, g: Tensor, attrs: A) => Tensor): VjpRule<A> =>
  ({ inputs, output, cotangent, attrs }) => [derivative(inputs[0]!, output, cotangent, attrs)];

const cube = (x: Tensor): Tensor => mul(x, square(x));

export const negOp = defineUnary<NoAttrs>('neg', 'numeric', (x) => -x, ({ cotangent }) => [neg(cotangent)]);
// At x = 0, sign gives 0: the subgradient JAX and PyTorch pick.
export const absOp = defineUnary<NoAttrs>('abs', 'numeric', Math.abs, chain((x, _, g) => mul(g, sign(x))));
export const signOp = defineUnary<NoAttrs>('sign', 'numeric', (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), noGradient);
export const squareOp = defineUnary<NoAttrs>('square', 'numeric', (x) => x * x, chain((x, _, g) => mul(g, mul(x, 2))));
// At x = 0 no gradient flows, as in JAX and PyTorch.
export const reluOp = defineUnary<NoAttrs>('relu', 'numeric', (x) => (x > 0 ? x : 0), chain((x, _, g) => where(greater(x, 0), g, 0)));
export const expOp = defineUnary<NoAttrs>('exp', 'float', Math.exp, chain((_, y, g) => mul(g, y)));
export const logOp = defineUnary<NoAttrs>('log', 'float', Math.log, chain((x, _, g) => div(g, x)));
export const log1pOp = defineUnary<NoAttrs>('log1p', 'float', Math.log1p, chain((x, _, g) => div(g, add(x, 1))));
// eˣ = y + 1 reuses the output instead of computing exp again.
export const expm1Op = defineUnary<NoAttrs>('expm1', 'float', Math.expm1, chain((_, y, g) => mul(g, add(y, 1))));
export const sqrtOp = defineUnary<NoAttrs>('sqrt', 'float', Math.sqrt, chain((_, y, g) => div(mul(g, 0.5), y)));
// d/dx x^(-1/2) = -x^(-3/2)/2 = -y³/2: from the output, with no division by x.
export const rsqrtOp = defineUnary<NoAttrs>('rsqrt', 'float', (x) => 1 / Math.sqrt(x), chain((_, y, g) => mul(g, mul(cube(y), -0.5))));
// d/dx 1/x = -1/x² = -y².
export const reciprocalOp = defineUnary<NoAttrs>('reciprocal', 'float', (x) => 1 / x, chain((_, y, g) => neg(mul(g, square(y)))));
export const sinOp = defineUnary<NoAttrs>('sin', 'float', Math.sin, chain((x, _, g) => mul(g, cos(x))));
export const cosOp = defineUnary<NoAttrs>('cos', 'float', Math.cos, chain((x, _, g) => neg(mul(g, sin(x)))));
export const tanhOp = defineUnary<NoAttrs>('tanh', 'float', Math.tanh, chain((_, y, g) => mul(g, sub(1, square(y)))));
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
export const erfOp = defineUnary<NoAttrs>(
  'erf',
  'float',
  erfScalar,
  chain((x, _, g) => mul(g, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI))),
);
// σ' = σ(1 − σ), from the output, as JAX and PyTorch; where 1 − σ rounds to 0 the true value is below f32's epsilon.
export const sigmoidOp = defineUnary<NoAttrs>('sigmoid', 'float', sigmoidScalar, chain((_, y, g) => mul(g, mul(y, sub(1, y)))));
export const softplusOp = defineUnary<NoAttrs>('softplus', 'float', softplusScalar, chain((x, _, g) => mul(g, sigmoid(x))));
export const floorOp = defineUnary<NoAttrs>('floor', 'float', Math.floor, noGradient);
export const ceilOp = defineUnary<NoAttrs>('ceil', 'float', Math.ceil, noGradient);
export const roundOp = defineUnary<NoAttrs>('round', 'float', roundHalfEven, noGradient);

type AlphaAttrs = { alpha: number };
// At x = 0 the gradient is alpha (the left side), as in PyTorch.
export const leakyReluOp = defineUnary<AlphaAttrs>(
  'leakyRelu',
  'float',
  (x, { alpha }) => (x > 0 ? x : alpha * x),
  chain((x, _, g, { alpha }) => where(greater(x, 0), g, mul(g, alpha))),
);
// For x ≤ 0, d/dx alpha·(eˣ − 1) = alpha·eˣ = y + alpha: from the output, with no second exp.
export const eluOp = defineUnary<AlphaAttrs>(
  'elu',
  'float',
  (x, { alpha }) => (x > 0 ? x : alpha * Math.expm1(x)),
  chain((x, y, g, { alpha }) => where(greater(x, 0), g, mul(g, add(y, alpha)))),
);

export type GeluApproximation = 'none' | 'tanh';
type GeluAttrs = { approximate: GeluApproximation };
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/**
 * GELU's derivative. Exact: Φ(x) + x·φ(x), with Φ the standard normal CDF and φ its
 * density. Tanh form, with t = tanh(u), u = √(2/π)(x + 0.044715x³):
 * ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
 */
function geluDerivative(x: Tensor, approximate: GeluApproximation): Tensor {
  if (approximate === 'tanh') {
    const t = tanh(mul(add(x, mul(cube(x), GELU_CUBIC)), SQRT_2_OVER_PI));
    const du = mul(add(mul(square(x), 3 * GELU_CUBIC), 1), SQRT_2_OVER_PI);
    return mul(add(add(t, 1), mul(mul(x, sub(1, square(t))), du)), 0.5);
  }
  const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
  const density = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return add(cdf, mul(x, density));
}

export const geluOp = defineUnary<GeluAttrs>(
  'gelu',
  'float',
  (x, { approximate }) =>
    approximate === 'tanh'
      ? 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)))
      : 0.5 * x * (1 + erfScalar(x / Math.SQRT2)),
  chain((x, _, g, { approximate }) => mul(g, geluDerivative(x, approximate))),
);

type ClipAttrs = { min: number | null; max: number | null };

/** The gradient of clip: g where min ≤ x ≤ max (bounds included, as PyTorch), 0 outside. */
function clipGradient(x: Tensor, g: Tensor, { min, max }: ClipAttrs): Tensor {
  const above = min === null ? null : greaterEqual(x, min);
  const below = max === null ? null : lessEqual(x, max);
  const inside = above && below ? logicalAnd(above, below) : (above ?? below);
  return inside ? where(inside, g, 0) : g;
}

export const clipOp = defineUnary<ClipAttrs>(
  'clip',
  'numeric',
  (x, { min, max }) => {
    const low = min === null ? x : Math.max(x, min);
    return max === null ? low : Math.min(low, max);
  },
  chain((x, _, g, attrs) => clipGradient(x, g, attrs)),
);

/** −x */
export const neg = unary(negOp);
/** |x| */
export const abs = unary(absOp);
/** −1, 0 or 1 by the sign of x. Not differentiable (its gradient is zero). */
export const sign = unary(signOp);
/** x² */
export const square = unary(squareOp);
/** max(x, 0) */
export const relu = unary(reluOp);
/** eˣ */
export const exp = unary(expOp);
/** Natural logarithm. */
export const log = unary(logOp);
/** log(1 + x), accurate for small x. */
export const log1p = unary(log1pOp);
/** eˣ − 1, accurate for small x. */
export const expm1 = unary(expm1Op);
/** √x */
export const sqrt = unary(sqrtOp);
/** 1/√x */
export const rsqrt = unary(rsqrtOp);
/** 1/x */
export const reciprocal = unary(reciprocalOp);
export const sin = unary(sinOp);
export const cos = unary(cosOp);
export const tanh = unary(tanhOp);
/** The Gauss error function. */
export const erf = unary(erfOp);
/** 1/(1 + e⁻ˣ), computed without overflow. */
export const sigmoid = unary(sigmoidOp);
/** log(1 + eˣ), computed without overflow. */
export const softplus = unary(softplusOp);
export const floor = unary(floorOp);
export const ceil = unary(ceilOp);
/** Rounds half to even (as NumPy and WGSL do). */
export const round = unary(roundOp);

function checkFinite(op: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(`${op}: ${name} must be a finite number, got ${String(value)}.`);
  }
}

/** x for x > 0, alpha·x otherwise (default alpha 0.01, as PyTorch). */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  requireTensor('leakyRelu', x);
  checkFinite('leakyRelu', 'alpha', alpha);
  return x.graph.addNode(leakyReluOp, [x], { alpha });
}

/** x for x > 0, alpha·(eˣ − 1) otherwise (default alpha 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireTensor('elu', x);
  checkFinite('elu', 'alpha', alpha);
  return x.graph.addNode(eluOp, [x], { alpha });
}

/** Gaussian error linear unit: exact (erf) form by default, or the tanh approximation. */
export function gelu(x: Tensor, options: { approximate?: GeluApproximation } = {}): Tensor {
  requireTensor('gelu', x);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'.`);
  }
  return x.graph.addNode(geluOp, [x], { approximate });
}

/** Clamps x to [min, max]; pass null for an open side. */
export function clip(x: Tensor, min: number | null, max: number | null): Tensor {
  requireTensor('clip', x);
  if (min !== null) checkFinite('clip', 'min', min);
  if (max !== null) checkFinite('clip', 'max', max);
  if (min !== null && max !== null && min > max) {
    throw new ArgumentError(`clip: min (${min}) is greater than max (${max}).`);
  }
  return x.graph.addNode(clipOp, [x], { min, max });
}
