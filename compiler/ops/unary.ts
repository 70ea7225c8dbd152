/**
 * Elementwise unary ops. Each entry is the whole op: its name, the dtypes it takes, its
 * reference scalar function, its VJP and its WGSL expression.
 */

import { literal } from '../codegen/wgsl.js';
import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, div, greater, greaterEqual, lessEqual, logicalAnd, mul, sub, where } from './binary.js';
import type { DTypeClass } from './elementwise.js';
import { evaluateElementwise, inferElementwise } from './elementwise.js';
import type { Attrs, OpDef, VjpRule } from './op.js';
import { defineOp, noGradient } from './op.js';
import { requireTensor } from './lift.js';
import { checkKeys } from './args.js';
import { ATAN, COS, ERF, ERFC, EXP, EXPM1, ISNAN, LOG, LOG1P, SIGMOID, SIN, SOFTPLUS, TANH, operand } from '../../shaders/elementwise.js';
import { erf as erfScalar, erfc as erfcScalar, roundHalfEven, sigmoid as sigmoidScalar, softplus as softplusScalar } from './special.js';

/** One elementwise unary op, whole: what it accepts, its reference, its VJP and its WGSL. */
interface UnaryDef<A extends Attrs> {
  readonly name: string;
  readonly accepts: DTypeClass;
  /** The reference scalar function; `dtype` is the operand's (i32 arithmetic wraps). */
  readonly reference: (x: number, attrs: A, dtype: DType) => number;
  readonly vjp: VjpRule<A>;
  /** The WGSL expression of one element `x` of dtype `dtype` (the output has the same dtype). */
  readonly wgsl: (x: string, attrs: A, dtype: DType) => string;
  /** WGSL functions the expression calls (from shaders/elementwise.ts). */
  readonly helpers?: readonly string[];
}

function defineUnary<A extends Attrs>({ name, accepts, reference, vjp, wgsl, helpers }: UnaryDef<A>): OpDef<A> {
  return defineOp<A>({
    name,
    arity: 1,
    vjp,
    infer: (inputs) => inferElementwise(name, inputs, accepts),
    evaluate: (inputs, attrs, out, ctx) => evaluateElementwise(inputs, out, ctx, ([x]) => reference(x!, attrs, out.dtype)),
    lower: { kind: 'elementwise', expr: ([x], attrs, types) => wgsl(x!, attrs, types.output), helpers },
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
const zero = (dtype: DType): string => literal(0, dtype);
/** The WGSL expression `fn(x)`. */
const call =
  (fn: string) =>
  (x: string): string =>
    `${fn}(${x})`;

export const negOp = defineUnary<NoAttrs>({
  name: 'neg',
  accepts: 'numeric',
  reference: (x) => -x,
  vjp: ({ cotangent }) => [neg(cotangent)],
  wgsl: (x) => `-${operand(x)}`,
});
// At x = 0, sign gives 0: the subgradient JAX and PyTorch pick.
export const absOp = defineUnary<NoAttrs>({
  name: 'abs',
  accepts: 'numeric',
  reference: Math.abs,
  vjp: chain((x, _, g) => mul(g, sign(x))),
  wgsl: call('abs'),
});
// Spelled with comparisons so NaN gives 0 as the reference (WGSL's sign leaves NaN undefined).
export const signOp = defineUnary<NoAttrs>({
  name: 'sign',
  accepts: 'numeric',
  // NaN has no sign: it stays NaN (NumPy's and PyTorch's sign).
  reference: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x),
  vjp: noGradient,
  wgsl: (x, _, d) => {
    const sign = `select(select(${zero(d)}, ${literal(-1, d)}, ${operand(x)} < ${zero(d)}), ${literal(1, d)}, ${operand(x)} > ${zero(d)})`;
    return d === 'f32' ? `select(${sign}, ${operand(x)}, kiln_isnan(${operand(x)}))` : sign;
  },
  helpers: ISNAN,
});
export const squareOp = defineUnary<NoAttrs>({
  name: 'square',
  accepts: 'numeric',
  reference: (x, _, dtype) => (dtype === 'i32' ? Math.imul(x, x) : x * x),
  vjp: chain((x, _, g) => mul(g, mul(x, 2))),
  wgsl: (x) => `${operand(x)} * ${operand(x)}`,
});
// At x = 0 no gradient flows, as in JAX and PyTorch. NaN stays NaN, as PyTorch's relu and
// maximum(x, 0) (./extremum.ts); tested on the bits, since WGSL's max may drop it.
export const reluOp = defineUnary<NoAttrs>({
  name: 'relu',
  accepts: 'numeric',
  reference: (x) => (x > 0 || Number.isNaN(x) ? x : 0),
  vjp: chain((x, _, g) => where(greater(x, 0), g, 0)),
  wgsl: (x, _, d) => `select(${zero(d)}, ${x}, ${operand(x)} > ${zero(d)}${d === 'f32' ? ` || kiln_isnan(${x})` : ''})`,
  helpers: ISNAN,
});
export const expOp = defineUnary<NoAttrs>({
  name: 'exp',
  accepts: 'float',
  reference: Math.exp,
  vjp: chain((_, y, g) => mul(g, y)),
  wgsl: call('kiln_exp'),
  helpers: EXP,
});
export const logOp = defineUnary<NoAttrs>({
  name: 'log',
  accepts: 'float',
  reference: Math.log,
  vjp: chain((x, _, g) => div(g, x)),
  wgsl: call('kiln_log'),
  helpers: LOG,
});
export const log1pOp = defineUnary<NoAttrs>({
  name: 'log1p',
  accepts: 'float',
  reference: Math.log1p,
  vjp: chain((x, _, g) => div(g, add(x, 1))),
  wgsl: call('kiln_log1p'),
  helpers: LOG1P,
});
// eˣ = y + 1 reuses the output instead of computing exp again.
export const expm1Op = defineUnary<NoAttrs>({
  name: 'expm1',
  accepts: 'float',
  reference: Math.expm1,
  vjp: chain((_, y, g) => mul(g, add(y, 1))),
  wgsl: call('kiln_expm1'),
  helpers: EXPM1,
});
export const sqrtOp = defineUnary<NoAttrs>({
  name: 'sqrt',
  accepts: 'float',
  reference: Math.sqrt,
  vjp: chain((_, y, g) => div(mul(g, 0.5), y)),
  wgsl: call('sqrt'),
});
// d/dx x^(-1/2) = -x^(-3/2)/2 = -y³/2: from the output, with no division by x.
export const rsqrtOp = defineUnary<NoAttrs>({
  name: 'rsqrt',
  accepts: 'float',
  reference: (x) => 1 / Math.sqrt(x),
  vjp: chain((_, y, g) => mul(g, mul(cube(y), -0.5))),
  wgsl: call('inverseSqrt'),
});
// d/dx 1/x = -1/x² = -y².
export const reciprocalOp = defineUnary<NoAttrs>({
  name: 'reciprocal',
  accepts: 'float',
  reference: (x) => 1 / x,
  vjp: chain((_, y, g) => neg(mul(g, square(y)))),
  wgsl: (x) => `1.0f / ${operand(x)}`,
});
export const sinOp = defineUnary<NoAttrs>({
  name: 'sin',
  accepts: 'float',
  reference: Math.sin,
  vjp: chain((x, _, g) => mul(g, cos(x))),
  wgsl: call('kiln_sin'),
  helpers: SIN,
});
export const cosOp = defineUnary<NoAttrs>({
  name: 'cos',
  accepts: 'float',
  reference: Math.cos,
  vjp: chain((x, _, g) => neg(mul(g, sin(x)))),
  wgsl: call('kiln_cos'),
  helpers: COS,
});
// 1/(1 + x²) written as 1/(1 + x·x) overflows to 0 for huge x, which is the limit anyway.
export const atanOp = defineUnary<NoAttrs>({
  name: 'atan',
  accepts: 'float',
  reference: Math.atan,
  vjp: chain((x, _, g) => div(g, add(square(x), 1))),
  wgsl: call('kiln_atan'),
  helpers: ATAN,
});
export const tanhOp = defineUnary<NoAttrs>({
  name: 'tanh',
  accepts: 'float',
  reference: Math.tanh,
  vjp: chain((_, y, g) => mul(g, sub(1, square(y)))),
  wgsl: call('kiln_tanh'),
  helpers: TANH,
});
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
export const erfOp = defineUnary<NoAttrs>({
  name: 'erf',
  accepts: 'float',
  reference: erfScalar,
  vjp: chain((x, _, g) => mul(g, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI))),
  wgsl: call('kiln_erf'),
  helpers: ERF,
});
// σ' = σ(1 − σ), from the output, as JAX and PyTorch; where 1 − σ rounds to 0 the true value is below f32's epsilon.
export const sigmoidOp = defineUnary<NoAttrs>({
  name: 'sigmoid',
  accepts: 'float',
  reference: sigmoidScalar,
  vjp: chain((_, y, g) => mul(g, mul(y, sub(1, y)))),
  wgsl: call('kiln_sigmoid'),
  helpers: SIGMOID,
});
export const softplusOp = defineUnary<NoAttrs>({
  name: 'softplus',
  accepts: 'float',
  reference: softplusScalar,
  vjp: chain((x, _, g) => mul(g, sigmoid(x))),
  wgsl: call('kiln_softplus'),
  helpers: SOFTPLUS,
});
export const floorOp = defineUnary<NoAttrs>({ name: 'floor', accepts: 'float', reference: Math.floor, vjp: noGradient, wgsl: call('floor') });
export const ceilOp = defineUnary<NoAttrs>({ name: 'ceil', accepts: 'float', reference: Math.ceil, vjp: noGradient, wgsl: call('ceil') });
// WGSL's round is half to even too.
export const roundOp = defineUnary<NoAttrs>({ name: 'round', accepts: 'float', reference: roundHalfEven, vjp: noGradient, wgsl: call('round') });

type AlphaAttrs = { alpha: number };
// At x = 0 the gradient is alpha (the left side), as in PyTorch.
export const leakyReluOp = defineUnary<AlphaAttrs>({
  name: 'leakyRelu',
  accepts: 'float',
  reference: (x, { alpha }) => (x > 0 ? x : alpha * x),
  vjp: chain((x, _, g, { alpha }) => where(greater(x, 0), g, mul(g, alpha))),
  wgsl: (x, { alpha }) => `select(${literal(alpha, 'f32')} * ${operand(x)}, ${x}, ${operand(x)} > 0.0f)`,
});
// For x ≤ 0, d/dx alpha·(eˣ − 1) = alpha·eˣ = y + alpha: from the output, with no second exp.
export const eluOp = defineUnary<AlphaAttrs>({
  name: 'elu',
  accepts: 'float',
  reference: (x, { alpha }) => (x > 0 ? x : alpha * Math.expm1(x)),
  vjp: chain((x, y, g, { alpha }) => where(greater(x, 0), g, mul(g, add(y, alpha)))),
  wgsl: (x, { alpha }) => `select(${literal(alpha, 'f32')} * kiln_expm1(${x}), ${x}, ${operand(x)} > 0.0f)`,
  helpers: EXPM1,
});

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

/**
 * GELU in WGSL without the cancellation of 1 + erf or 1 + tanh for negative x (their tail
 * would keep only a few bits): ½(1 + erf(z)) = ½erfc(−z), and ½(1 + tanh(u)) = σ(2u).
 */
function geluWgsl(x: string, approximate: GeluApproximation): string {
  const v = operand(x);
  if (approximate === 'tanh') {
    return `${v} * kiln_sigmoid(${literal(2 * SQRT_2_OVER_PI, 'f32')} * (${v} + ${literal(GELU_CUBIC, 'f32')} * ${v} * ${v} * ${v}))`;
  }
  return `0.5f * ${v} * kiln_erfc(${literal(-Math.SQRT1_2, 'f32')} * ${v})`;
}

export const geluOp = defineUnary<GeluAttrs>({
  name: 'gelu',
  accepts: 'float',
  // ½(1 + tanh(u)) = σ(2u) keeps the negative tail, where 1 + tanh(u) cancels even in f64.
  reference: (x, { approximate }) =>
    approximate === 'tanh'
      ? x * sigmoidScalar(2 * SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x))
      : 0.5 * x * erfcScalar(-x / Math.SQRT2),
  vjp: chain((x, _, g, { approximate }) => mul(g, geluDerivative(x, approximate))),
  wgsl: (x, { approximate }) => geluWgsl(x, approximate),
  helpers: [...ERFC, ...SIGMOID],
});

type ClipAttrs = { min: number | null; max: number | null };

/** The gradient of clip: g where min ≤ x ≤ max (bounds included, as PyTorch), 0 outside. */
function clipGradient(x: Tensor, g: Tensor, { min, max }: ClipAttrs): Tensor {
  const above = min === null ? null : greaterEqual(x, min);
  const below = max === null ? null : lessEqual(x, max);
  const inside = above && below ? logicalAnd(above, below) : (above ?? below);
  return inside ? where(inside, g, 0) : g;
}

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

/**
 * clip in WGSL. i32 bounds past the i32 range clip nothing, so they are clamped into it
 * (a literal must fit); f32 keeps NaN as the reference does (WGSL's max/min may drop it).
 */
function clipWgsl(x: string, { min, max }: ClipAttrs, dtype: DType): string {
  const bound = (v: number): string => literal(dtype === 'i32' ? Math.min(Math.max(v, I32_MIN), I32_MAX) : v, dtype);
  const low = min === null ? x : `max(${x}, ${bound(min)})`;
  const clipped = max === null ? low : `min(${low}, ${bound(max)})`;
  return dtype === 'f32' ? `select(${clipped}, ${x}, kiln_isnan(${x}))` : clipped;
}

export const clipOp = defineUnary<ClipAttrs>({
  name: 'clip',
  accepts: 'numeric',
  reference: (x, { min, max }) => {
    const low = min === null ? x : Math.max(x, min);
    return max === null ? low : Math.min(low, max);
  },
  vjp: chain((x, _, g, attrs) => clipGradient(x, g, attrs)),
  wgsl: clipWgsl,
  helpers: ISNAN,
});

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
/** The inverse tangent, in (−π/2, π/2). */
export const atan = unary(atanOp);
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
  checkKeys('gelu', options, ['approximate']);
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
  // As for any number meeting an i32 tensor: a fractional bound has no i32 value.
  const fraction = [min, max].find((v) => v !== null && !Number.isInteger(v));
  if (x.dtype === 'i32' && fraction !== undefined) {
    throw new DTypeError(`clip(${x.toString()}): the bound ${fraction} is a fraction, and x is i32. Fix: round the bound, or cast x with .cast('f32').`);
  }
  return x.graph.addNode(clipOp, [x], { min, max });
}
