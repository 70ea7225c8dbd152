/** Scalar special functions the reference implementations need and Math lacks. */

/**
 * The error function to near double precision: its Maclaurin series for |x| < 2.5 and
 * a continued fraction for erfc beyond (each converges fast in its range), so gradient
 * checks in f64 of erf-based ops (GELU) are not limited by this function.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), evaluated bottom-up.
  let fraction = ax;
  for (let k = 60; k >= 1; k--) fraction = ax + k / 2 / fraction;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}

/**
 * The complementary error function, accurate in the far tail where 1 − erf(x) would
 * cancel to nothing (GELU at large negative x needs it).
 */
export function erfc(x: number): number {
  if (!(x >= 2.5)) return 1 - erf(x);
  let fraction = x;
  for (let k = 60; k >= 1; k--) fraction = x + k / 2 / fraction;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / fraction;
}

/** Round half to even, as WGSL's `round` and NumPy's `round` do. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  const rounded = diff < 0.5 ? floor : diff > 0.5 ? floor + 1 : floor % 2 === 0 ? floor : floor + 1;
  // x * 0 keeps the sign of zero: round(-0.4) is -0, as in IEEE and NumPy.
  return rounded === 0 ? x * 0 : rounded;
}

/** Logistic sigmoid without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
