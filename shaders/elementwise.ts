/**
 * WGSL helper functions for elementwise ops, for three reasons:
 * - WGSL lacks them: log1p, expm1, erf, a stable sigmoid and softplus;
 * - WGSL leaves undefined what the reference defines: log at 0 and below, pow of a
 *   negative base, f32 → i32 out of range or NaN, NaN in max/min/clamp (all checked on
 *   SwiftShader: log(0) = -88, i32(NaN) = i32 min, max(NaN, 0) = 0);
 * - implementations are allowed to be poor: sin/cos need only be within 2^-11 absolute
 *   (SwiftShader: 1.9e-4), and tanh inherits sinh/cosh's overflow (SwiftShader gives NaN
 *   past |x| ≈ 89) and loses relative accuracy near 0 (4% at 1e-3 on SwiftShader).
 * Elementwise kernels are bound by memory traffic, so the extra arithmetic is free.
 *
 * Each export is the list of function sources an expression needs, dependencies first;
 * the emitter deduplicates them per kernel. NaN is tested on the bits (`kiln_isnan`):
 * `x != x` is folded to false by compilers that assume no NaN (SwiftShader does).
 */

import { SPECIAL_FLOAT_HELPERS, literal } from '../compiler/codegen/wgsl.js';

/**
 * `expr`, parenthesized unless it is atomic (a name, an indexed load, a call, a
 * parenthesized expression), so it can be any operator's operand.
 */
export function operand(expr: string): string {
  let depth = 0;
  for (const ch of expr) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0 && !/[A-Za-z0-9_.]/.test(ch)) return `(${expr})`;
  }
  return expr;
}

/** `c0 + x * (c1 + x * (c2 + …))`: a polynomial in Horner form with f32 literals. */
function horner(x: string, coefficients: readonly number[]): string {
  const [first, ...rest] = coefficients;
  const head = literal(first!, 'f32');
  if (rest.length === 0) return head;
  const tail = horner(x, rest);
  return `${head} + ${x} * ${rest.length === 1 ? tail : `(${tail})`}`;
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

export const ISNAN: readonly string[] = [
  `
fn kiln_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
];

// exp that keeps NaN (SwiftShader's exp(NaN) is inf).
export const EXP: readonly string[] = [
  ...ISNAN,
  `
fn kiln_exp(x: f32) -> f32 { return select(exp(x), x, kiln_isnan(x)); }`,
];

// log(1 + x) = 2·atanh(s) with s = x / (2 + x). For |x| < 0.5, |s| ≤ 1/3 and the odd
// series 2s(1 + s²/3 + s⁴/5 + …) reaches f32 precision by s¹⁵.
const LOG1P_SERIES = `
fn kiln_log1p_series(x: f32) -> f32 {
  let s = x / (2.0 + x);
  let s2 = s * s;
  return 2.0 * s * (${horner('s2', [1, 3, 5, 7, 9, 11, 13, 15].map((n) => 1 / n))});
}`;

// log with full relative accuracy near 1, where the builtin need only be within 2^-21
// absolute (SwiftShader: 100+ ulps): x − 1 is exact for x in [0.5, 2] (Sterbenz). log(0)
// is -inf; below 0 and for NaN, NaN (SwiftShader's log(NaN) is 89.1).
export const LOG: readonly string[] = [
  SPECIAL_FLOAT_HELPERS,
  LOG1P_SERIES,
  `
fn kiln_log(x: f32) -> f32 {
  if (abs(x - 1.0) < 0.5) { return kiln_log1p_series(x - 1.0); }
  if (x > 0.0) { return log(x); }
  return select(kiln_nan(), -kiln_inf(), x == 0.0);
}`,
];

// log(1 + x): the series for small x; beyond, rounding 1 + x costs at most half an ulp of
// a logarithm that is no longer small.
export const LOG1P: readonly string[] = [
  ...LOG,
  `
fn kiln_log1p(x: f32) -> f32 {
  if (abs(x) < 0.5) { return kiln_log1p_series(x); }
  return kiln_log(1.0 + x);
}`,
];

// eˣ − 1 by its Taylor series for |x| < 0.5 (terms to x⁸/8! reach f32 precision); beyond,
// exp(x) − 1 cancels less than one bit.
export const EXPM1: readonly string[] = [
  `
fn kiln_expm1(x: f32) -> f32 {
  if (abs(x) >= 0.5) { return exp(x) - 1.0; }
  return x * (${horner('x', [1, 2, 3, 4, 5, 6, 7, 8].map(factorial).map((f) => 1 / f))});
}`,
];

// tanh|x| = −m / (2 + m) with m = e^(−2|x|) − 1 ∈ (−1, 0]: never overflows, and expm1
// keeps the relative accuracy near 0 that (1 − e)/(1 + e) would lose.
export const TANH: readonly string[] = [
  ...EXPM1,
  `
fn kiln_tanh(x: f32) -> f32 {
  let m = kiln_expm1(-2.0 * abs(x));
  let magnitude = -m / (2.0 + m);
  return select(magnitude, -magnitude, x < 0.0);
}`,
];

// sin and cos by Cody–Waite reduction x = k·π/2 + r with |r| ≤ π/4, then Taylor
// polynomials in r (to r⁹ and r¹⁰: 3e-9 relative). π/2 is split into 1.5703125 (8 bits),
// a 12-bit part and the (negative) rest, so k·part is exact for the first two while
// |k| < 4096 (|x| < 6400: within 2 ulps), and for the first while |k| < 2^16 (|x| < 1e5:
// within 1e-6 absolute). Beyond, the builtin takes over: as inaccurate, but bounded.
const SIN_COS_REDUCED = `
fn kiln_sin_cos(x: f32, quarter_turns: u32) -> f32 {
  let k = round(x * ${literal(2 / Math.PI, 'f32')});
  let r = ((x - k * 1.5703125f) - k * ${literal(0.0004838705062866211, 'f32')}) + k * ${literal(4.371138828673793e-8, 'f32')};
  let r2 = r * r;
  let sin_r = r * (${horner('r2', [1, 3, 5, 7, 9].map((n, i) => (-1) ** i / factorial(n)))});
  let cos_r = ${horner('r2', [0, 2, 4, 6, 8, 10].map((n, i) => (-1) ** i / factorial(n)))};
  let quadrant = (u32(i32(k)) + quarter_turns) & 3u;
  let value = select(sin_r, cos_r, (quadrant & 1u) == 1u);
  return select(value, -value, quadrant >= 2u);
}`;

export const SIN: readonly string[] = [
  SIN_COS_REDUCED,
  `
fn kiln_sin(x: f32) -> f32 {
  if (abs(x) > 1e5) { return sin(x); }
  return kiln_sin_cos(x, 0u);
}`,
];
// cos(x) = sin(x + π/2): one quarter turn further.
export const COS: readonly string[] = [
  SIN_COS_REDUCED,
  `
fn kiln_cos(x: f32) -> f32 {
  if (abs(x) > 1e5) { return cos(x); }
  return kiln_sin_cos(x, 1u);
}`,
];

// atan as Cephes' atanf: |x| is reduced to |t| ≤ tan(π/8) by atan(a) = π/2 − atan(1/a)
// above tan(3π/8) and π/4 + atan((a − 1)/(a + 1)) above tan(π/8), then a degree-9 odd
// minimax polynomial (about 2 ulps; WGSL only promises 4096 for its builtin). NaN stays
// NaN through every branch; ±∞ gives ±π/2.
export const ATAN: readonly string[] = [
  `
fn kiln_atan(x: f32) -> f32 {
  let a = abs(x);
  let big = a > ${literal(2.414213562373095, 'f32')};
  let mid = a > ${literal(0.414213562373095, 'f32')};
  let t = select(select(a, (a - 1.0) / (a + 1.0), mid), -1.0 / a, big);
  let base = select(select(0.0, ${literal(Math.PI / 4, 'f32')}, mid), ${literal(Math.PI / 2, 'f32')}, big);
  let z = t * t;
  let y = base + (t + t * z * (${horner('z', [-0.333329491539, 0.199777106478, -0.138776856032, 0.0805374449538])}));
  return select(y, -y, x < 0.0);
}`,
];

// e^(−|x|) never overflows: σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) below.
export const SIGMOID: readonly string[] = [
  `
fn kiln_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}`,
];

// log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)): no overflow, no cancellation.
export const SOFTPLUS: readonly string[] = [
  ...LOG1P,
  ...EXP,
  `
fn kiln_softplus(x: f32) -> f32 { return max(x, 0.0) + kiln_log1p(kiln_exp(-abs(x))); }`,
];

// erfc(z) for z ≥ 0 by the Chebyshev fit of Numerical Recipes (2nd ed., §6.2, erfcc):
// relative error below 1.2e-7 everywhere (1.05e-7 measured in f64), so the tail keeps
// its relative accuracy (GELU's negative side is ½x·erfc(−x/√2)); erfc(−z) = 2 − erfc(z).
export const ERFC: readonly string[] = [
  `
fn kiln_erfc(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = ${horner('t', [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277])};
  let tail = t * exp(p - z * z);
  return select(tail, 2.0 - tail, x < 0.0);
}`,
];

// erf by its Maclaurin series (2/√π)·Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)) for |x| < 1 (ten terms
// reach f32 precision), and 1 − erfc(|x|) beyond, where erfc ≤ 0.16.
export const ERF: readonly string[] = [
  ...ERFC,
  `
fn kiln_erf(x: f32) -> f32 {
  if (abs(x) < 1.0) {
    let z = x * x;
    return x * (${horner('z', Array.from({ length: 10 }, (_, n) => ((2 / Math.sqrt(Math.PI)) * (-1) ** n) / (factorial(n) * (2 * n + 1))))});
  }
  let magnitude = 1.0 - kiln_erfc(abs(x));
  return select(magnitude, -magnitude, x < 0.0);
}`,
];

// Math.pow's semantics. The magnitude is |base|^exponent; a negative base keeps its sign
// for odd integer exponents and has no real power for fractional ones (NaN). The sign
// bit decides negativity so that −0 and −inf follow the same rule.
export const POW: readonly string[] = [
  SPECIAL_FLOAT_HELPERS,
  ...ISNAN,
  `
fn kiln_pow(base: f32, exponent: f32) -> f32 {
  if (exponent == 0.0) { return 1.0; }
  if (kiln_isnan(base) || kiln_isnan(exponent)) { return kiln_nan(); }
  let magnitude = abs(base);
  if (magnitude == 1.0 && abs(exponent) == kiln_inf()) { return kiln_nan(); }
  let power = select(pow(magnitude, exponent), select(kiln_inf(), 0.0, exponent > 0.0), magnitude == 0.0);
  if ((bitcast<u32>(base) >> 31u) == 0u) { return power; }
  let is_integer = floor(exponent) == exponent;
  if (!is_integer && magnitude != 0.0 && magnitude != kiln_inf()) { return kiln_nan(); }
  let is_odd = is_integer && floor(exponent * 0.5) != exponent * 0.5;
  return select(power, -power, is_odd);
}`,
];

// max and min that return NaN when either operand is NaN, as the reference (and IEEE
// 754-2019 maximum) do; WGSL's may return the other operand.
export const MAXIMUM: readonly string[] = [
  SPECIAL_FLOAT_HELPERS,
  ...ISNAN,
  `
fn kiln_maximum(a: f32, b: f32) -> f32 { return select(max(a, b), kiln_nan(), kiln_isnan(a) || kiln_isnan(b)); }`,
];
export const MINIMUM: readonly string[] = [
  SPECIAL_FLOAT_HELPERS,
  ...ISNAN,
  `
fn kiln_minimum(a: f32, b: f32) -> f32 { return select(min(a, b), kiln_nan(), kiln_isnan(a) || kiln_isnan(b)); }`,
];

// Truncates toward zero and saturates at the i32 range, NaN → 0. WGSL's i32(x) is
// undefined outside the range (SwiftShader saturates at 2147483520 and maps NaN to i32 min).
export const F32_TO_I32: readonly string[] = [
  ...ISNAN,
  `
fn kiln_f32_to_i32(x: f32) -> i32 {
  if (kiln_isnan(x)) { return 0i; }
  if (x >= 2147483648.0) { return 2147483647i; }
  return i32(max(x, -2147483648.0));
}`,
];
