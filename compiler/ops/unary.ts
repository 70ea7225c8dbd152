/**
 * Elementwise unary ops. Each entry is the whole op: its name, the dtypes it takes and
 * its reference scalar function (later also its VJP and WGSL expression).
 */

import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
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

export const negOp = defineUnary<NoAttrs>('neg', 'numeric', (x) => -x);
export const absOp = defineUnary<NoAttrs>('abs', 'numeric', Math.abs);
export const signOp = defineUnary<NoAttrs>('sign', 'numeric', (x) => (x > 0 ? 1 : x < 0 ? -1 : 0));
export const squareOp = defineUnary<NoAttrs>('square', 'numeric', (x) => x * x);
export const reluOp = defineUnary<NoAttrs>('relu', 'numeric', (x) => (x > 0 ? x : 0));
export const expOp = defineUnary<NoAttrs>('exp', 'float', Math.exp);
export const logOp = defineUnary<NoAttrs>('log', 'float', Math.log);
export const log1pOp = defineUnary<NoAttrs>('log1p', 'float', Math.log1p);
export const expm1Op = defineUnary<NoAttrs>('expm1', 'float', Math.expm1);
export const sqrtOp = defineUnary<NoAttrs>('sqrt', 'float', Math.sqrt);
export const rsqrtOp = defineUnary<NoAttrs>('rsqrt', 'float', (x) => 1 / Math.sqrt(x));
export const reciprocalOp = defineUnary<NoAttrs>('reciprocal', 'float', (x) => 1 / x);
export const sinOp = defineUnary<NoAttrs>('sin', 'float', Math.sin);
export const cosOp = defineUnary<NoAttrs>('cos', 'float', Math.cos);
export const tanhOp = defineUnary<NoAttrs>('tanh', 'float', Math.tanh);
export const erfOp = defineUnary<NoAttrs>('erf', 'float', erfScalar);
export const sigmoidOp = defineUnary<NoAttrs>('sigmoid', 'float', sigmoidScalar);
export const softplusOp = defineUnary<NoAttrs>('softplus', 'float', softplusScalar);
export const floorOp = defineUnary<NoAttrs>('floor', 'float', Math.floor);
export const ceilOp = defineUnary<NoAttrs>('ceil', 'float', Math.ceil);
export const roundOp = defineUnary<NoAttrs>('round', 'float', roundHalfEven);

type AlphaAttrs = { alpha: number };
export const leakyReluOp = defineUnary<AlphaAttrs>('leakyRelu', 'float', (x, { alpha }) => (x > 0 ? x : alpha * x));
export const eluOp = defineUnary<AlphaAttrs>('elu', 'float', (x, { alpha }) => (x > 0 ? x : alpha * Math.expm1(x)));

export type GeluApproximation = 'none' | 'tanh';
type GeluAttrs = { approximate: GeluApproximation };
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
export const geluOp = defineUnary<GeluAttrs>('gelu', 'float', (x, { approximate }) =>
  approximate === 'tanh'
    ? 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    : 0.5 * x * (1 + erfScalar(x / Math.SQRT2)),
);

type ClipAttrs = { min: number | null; max: number | null };
export const clipOp = defineUnary<ClipAttrs>('clip', 'numeric', (x, { min, max }) => {
  const low = min === null ? x : Math.max(x, min);
  return max === null ? low : Math.min(low, max);
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
