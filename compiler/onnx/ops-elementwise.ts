/**
 * ONNX elementwise ops: unary math and activations, binary arithmetic, comparisons and
 * logic (NumPy broadcasting, as kiln's), variadic Sum/Mean/Max/Min, Where, Clip, Cast.
 * Ops kiln has no primitive for are composed in their numerically careful form
 * (sinh from expm1, asinh from log1p, asin and acos from atan).
 */

import type { DType } from '../dtype.js';
import { sameShape } from '../shape.js';
import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext, OpHandler } from './handler.js';
import { registerHandlers } from './handler.js';
import { onnx, requireDType } from './tensor-proto.js';

type Unary = (x: Tensor) => Tensor;
type Binary = (a: Tensor, b: Tensor) => Tensor;

const unary = (f: Unary): OpHandler => ({ convert: (n) => f(n.input(0)) });
const binary = (f: Binary): OpHandler => ({ convert: (n) => f(n.input(0), n.input(1)) });

/** A unary op with float attributes (defaults as the ONNX spec gives them). */
function withFloats(defaults: Readonly<Record<string, number>>, f: (x: Tensor, a: Readonly<Record<string, number>>) => Tensor): OpHandler {
  return {
    attributes: Object.keys(defaults),
    convert: (n) => f(n.input(0), Object.fromEntries(Object.entries(defaults).map(([name, d]) => [name, n.float(name, d)]))),
  };
}

/** Folds a variadic op (Sum, Max, ...) pairwise; one input is returned as is. */
const variadic = (f: Binary, finish: (r: Tensor, count: number) => Tensor = (r) => r): OpHandler => ({
  convert: (n) => {
    const inputs = n.inputs();
    return finish(inputs.slice(1).reduce(f, inputs[0]!), inputs.length);
  },
});

/** trunc(v) without a trunc primitive: floor toward zero. */
const trunc = (v: Tensor): Tensor => v.abs().floor().mul(v.sign());

/** Integer bases are raised in f32 and rounded back (exact while the result fits f32's 24 bits). */
function power(n: NodeContext): Tensor {
  const base = n.input(0);
  const exponent = n.input(1);
  if (base.dtype === 'f32') return base.pow(exponent.dtype === 'f32' ? exponent : exponent.cast('f32'));
  if (base.dtype !== 'i32') throw n.unsupported(`the base is ${base.dtype}`);
  return base.cast('f32').pow(exponent.cast('f32')).round().cast('i32');
}

/**
 * From opset 7 the slope broadcasts as NumPy does (a [C] slope along the last axis). Before,
 * it is one value, one per element, or (as older exporters wrote PyTorch's PReLU) one per
 * channel along axis 1, whatever the rank.
 */
function prelu(n: NodeContext): Tensor {
  const x = n.input(0);
  let slope = n.input(1);
  if (n.opset < 7 && slope.size !== 1 && !sameShape(slope.shape, x.shape)) {
    if (slope.rank !== 1 || x.rank < 2 || slope.shape[0] !== x.shape[1]) {
      throw n.unsupported(
        `a slope of shape [${slope.shape.join(',')}] for an input of shape [${x.shape.join(',')}]: before opset 7 the slope is one value, ` +
          'one per channel (axis 1) or one per element; re-export the model with opset 7 or later',
      );
    }
    slope = slope.reshape([slope.size, ...Array<number>(x.rank - 2).fill(1)]);
  }
  return x.mul(slope).where(x.less(0), x);
}

/** fmod = 1: C's fmod (the sign of the dividend); fmod = 0: Python's % (the sign of the divisor, integers only). */
function modulo(n: NodeContext): Tensor {
  const a = n.input(0);
  const b = n.input(1);
  const fmod = n.int('fmod', 0);
  if (a.dtype === 'f32' && fmod !== 1) throw n.invalid('floating-point Mod needs fmod = 1');
  const truncated = a.dtype === 'f32' ? a.sub(trunc(a.div(b)).mul(b)) : a.sub(a.div(b).mul(b));
  if (fmod === 1) return truncated;
  const signsDiffer = truncated.less(0).logicalXor(b.less(0));
  return truncated.add(b).where(truncated.notEqual(0).logicalAnd(signsDiffer), truncated);
}

/** Clip's bounds: attributes before opset 11, optional inputs from it (a run-time bound uses maximum/minimum). */
function clipHandler(n: NodeContext): Tensor {
  const x = n.input(0);
  if (n.opset < 11) return x.clip(n.float('min') ?? null, n.float('max') ?? null);
  const bound = (k: number): number | Tensor | null => {
    if (!n.has(k)) return null;
    const known = n.known(k);
    return known ? known.data[0]! : n.input(k);
  };
  const [low, high] = [bound(1), bound(2)];
  if (typeof low !== 'object' && typeof high !== 'object') return x.clip(low ?? null, high ?? null);
  let y = x;
  if (low !== null) y = y.maximum(low);
  if (high !== null) y = y.minimum(high);
  return y;
}

function castTo(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : x.cast(dtype);
}

const { FLOAT16 } = onnx.TensorProto.DataType;
const FLOAT16_MAX = 65504;
/** 2^(e − 10) for f16's exponents e = −14 … 15: the spacing of f16 values in each binade (subnormals share e = −14's). */
const FLOAT16_SPACINGS = Array.from({ length: 30 }, (_, i) => 2 ** (i - 24));

/**
 * Cast to FLOAT16, held as f32: x rounded to the nearest f16 value (ties to even, as
 * round), ±∞ past f16's largest finite value. The spacing comes from a table indexed by the
 * binade, so it is an exact power of two; log's error only matters within a few f32 ulps of
 * a power of two, where either neighbouring spacing rounds x to that power.
 */
function roundToFloat16(x: Tensor): Tensor {
  const magnitude = x.abs().where(x.equal(x), 1);
  const exponent = magnitude.log().div(Math.LN2).floor().clip(-14, 15).add(14).cast('i32');
  const spacing = x.graph.constant(FLOAT16_SPACINGS, { shape: [FLOAT16_SPACINGS.length] }).gather(exponent);
  const rounded = x.div(spacing).round().mul(spacing);
  return x.sign().mul(Infinity).where(rounded.abs().greater(FLOAT16_MAX), rounded);
}

function cast(n: NodeContext): Tensor {
  const x = n.input(0);
  const to = n.int('to', 0);
  if (to === FLOAT16) return roundToFloat16(castTo(x, 'f32'));
  return castTo(x, requireDType(to, n.describe("attribute 'to'")));
}

/**
 * x·2^y and x ÷ 2^y (truncating, so floor for the non-negative values unsigned types hold):
 * exact while the result fits i32, the type kiln holds unsigned integers in. A uint8's
 * wrap-around past 255 is not reproduced (see tensor-proto.ts). Right shifts of 31 bits or
 * more give 0, as every value held is below 2^31.
 */
function bitShift(n: NodeContext): Tensor {
  const [x, y] = [n.input(0), n.input(1)];
  if (x.dtype !== 'i32' || y.dtype !== 'i32') throw n.unsupported(`the operands are ${x.dtype} and ${y.dtype}; BitShift takes integers`);
  const direction = n.string('direction', '');
  const power = k.pow(2, y.minimum(30).cast('f32')).round().cast('i32');
  if (direction === 'LEFT') return x.mul(power);
  if (direction === 'RIGHT') return x.div(power).where(y.less(31), 0);
  throw n.invalid(`attribute 'direction' is '${direction}'; it must be 'LEFT' or 'RIGHT'`);
}

registerHandlers({
  Identity: { convert: (n) => n.known(0) ?? n.input(0) },
  Abs: unary((x) => x.abs()),
  Neg: unary((x) => x.neg()),
  Sign: unary((x) => x.sign()),
  Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()),
  Sqrt: unary((x) => x.sqrt()),
  Reciprocal: unary((x) => x.reciprocal()),
  Sin: unary((x) => x.sin()),
  Cos: unary((x) => x.cos()),
  Tan: unary((x) => x.sin().div(x.cos())),
  Atan: unary((x) => x.atan()),
  // (1 − x)(1 + x), not 1 − x²: exact near ±1, where asin and acos are steepest. ±1 gives ±∞, whose atan is ±π/2.
  Asin: unary((x) => x.div(k.sub(1, x).mul(x.add(1)).sqrt()).atan()),
  Acos: unary((x) => k.sub(1, x).div(x.add(1)).sqrt().atan().mul(2)),
  Tanh: unary((x) => x.tanh()),
  Sinh: unary((x) => x.expm1().sub(x.neg().expm1()).mul(0.5)),
  Cosh: unary((x) => x.exp().add(x.neg().exp()).mul(0.5)),
  // asinh(x) = sign(x)·log1p(|x| + x²/(1 + √(1 + x²))): no cancellation for negative x.
  Asinh: unary((x) => {
    const a = x.abs();
    return a.add(a.square().div(a.square().add(1).sqrt().add(1))).log1p().mul(x.sign());
  }),
  Acosh: unary((x) => x.add(x.square().sub(1).sqrt()).log()),
  Atanh: unary((x) => x.mul(2).div(k.sub(1, x)).log1p().mul(0.5)),
  Erf: unary((x) => x.erf()),
  Sigmoid: unary((x) => x.sigmoid()),
  Relu: unary((x) => x.relu()),
  Softplus: unary((x) => x.softplus()),
  Softsign: unary((x) => x.div(x.abs().add(1))),
  Floor: unary((x) => x.floor()),
  Ceil: unary((x) => x.ceil()),
  Round: unary((x) => x.round()),
  Not: unary((x) => x.logicalNot()),
  IsNaN: unary((x) => x.notEqual(x)),
  IsInf: {
    attributes: ['detect_negative', 'detect_positive'],
    convert: (n) => {
      const x = n.input(0);
      const [negative, positive] = [n.int('detect_negative', 1), n.int('detect_positive', 1)];
      const isInf = x.abs().equal(Infinity);
      if (negative && positive) return isInf;
      if (!negative && !positive) return n.graph.constant(0, { dtype: 'bool', shape: x.shape });
      return isInf.logicalAnd(positive ? x.greater(0) : x.less(0));
    },
  },
  Elu: withFloats({ alpha: 1 }, (x, a) => x.elu(a['alpha'])),
  LeakyRelu: withFloats({ alpha: 0.01 }, (x, a) => x.leakyRelu(a['alpha'])),
  Selu: withFloats({ alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 }, (x, a) => x.elu(a['alpha']).mul(a['gamma']!)),
  Celu: withFloats({ alpha: 1 }, (x, a) => x.relu().add(x.div(a['alpha']!).expm1().mul(a['alpha']!).minimum(0))),
  HardSigmoid: withFloats({ alpha: 0.2, beta: 0.5 }, (x, a) => x.mul(a['alpha']!).add(a['beta']!).clip(0, 1)),
  HardSwish: unary((x) => x.mul(x.div(6).add(0.5).clip(0, 1))),
  ThresholdedRelu: withFloats({ alpha: 1 }, (x, a) => x.where(x.greater(a['alpha']!), 0)),
  Shrink: withFloats({ bias: 0, lambd: 0.5 }, (x, a) =>
    x.add(a['bias']!).where(x.less(-a['lambd']!), x.sub(a['bias']!).where(x.greater(a['lambd']!), 0)),
  ),
  PRelu: { convert: prelu },
  Add: binary(k.add),
  Sub: binary(k.sub),
  Mul: binary(k.mul),
  Div: binary(k.div),
  Pow: { convert: power },
  Mod: { attributes: ['fmod'], convert: modulo },
  Equal: binary(k.equal),
  Less: binary(k.less),
  Greater: binary(k.greater),
  LessOrEqual: binary(k.lessEqual),
  GreaterOrEqual: binary(k.greaterEqual),
  And: binary(k.logicalAnd),
  Or: binary(k.logicalOr),
  Xor: binary(k.logicalXor),
  Where: { convert: (n) => k.where(n.input(0), n.input(1), n.input(2)) },
  Sum: variadic(k.add),
  Mean: variadic(k.add, (r, count) => r.div(count)),
  Max: variadic(k.maximum),
  Min: variadic(k.minimum),
  Clip: { attributes: ['min', 'max'], convert: clipHandler },
  Cast: { attributes: ['to'], convert: cast },
  BitShift: { attributes: ['direction'], convert: bitShift },
  CastLike: { convert: (n) => castTo(n.input(0), n.input(1).dtype) },
});
