/**
 * Elementwise kiln ops as ONNX: unary math and activations, binary arithmetic,
 * comparisons and logic (both broadcast as NumPy does), where, clip and cast. Ops ONNX
 * (up to opset 18) has no node for are written as their definition: square as x·x,
 * rsqrt as 1/√x, GELU from Erf or Tanh.
 */

import type { DType } from '../../dtype.js';
import type { OnnxAttributes } from './builder.js';
import { elementTypeOf } from './builder.js';
import type { ExportContext, OpExporter } from './context.js';
import { registerExporters } from './context.js';

/** One ONNX op over the node's inputs, in order. */
const same = (opType: string, attributes: (ctx: ExportContext) => OnnxAttributes = () => ({})): OpExporter => (ctx) =>
  ctx.op(opType, ctx.reads.map((_, i) => ctx.input(i)), attributes(ctx));

const alpha = (ctx: ExportContext): OnnxAttributes => ({ alpha: { float: ctx.node.attrs['alpha'] as number } });

/** A scalar constant of the node's first input's dtype. */
const scalar = (ctx: ExportContext, value: number, dtype: DType = ctx.type(0).dtype): string => ctx.constant(value, dtype);

/** GELU: ½x(1 + erf(x/√2)), or with the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
function gelu(ctx: ExportContext): string {
  const x = ctx.input(0);
  let inner: string;
  if (ctx.node.attrs['approximate'] === 'tanh') {
    const cube = ctx.op('Mul', [ctx.op('Mul', [x, x]), x]);
    const u = ctx.op('Mul', [ctx.op('Add', [x, ctx.op('Mul', [cube, scalar(ctx, 0.044715)])]), scalar(ctx, Math.sqrt(2 / Math.PI))]);
    inner = ctx.op('Tanh', [u]);
  } else {
    inner = ctx.op('Erf', [ctx.op('Mul', [x, scalar(ctx, Math.SQRT1_2)])]);
  }
  const half = ctx.op('Mul', [x, scalar(ctx, 0.5)]);
  return ctx.op('Mul', [half, ctx.op('Add', [inner, scalar(ctx, 1)])]);
}

/** Clip with its bounds as inputs (opset 11 on); an absent bound is an empty name. */
function clip(ctx: ExportContext): string {
  const bound = (key: 'min' | 'max'): string => {
    const value = ctx.node.attrs[key] as number | null;
    if (value === null) return '';
    // An i32 bound past the i32 range clips nothing, as kiln's reference says.
    const dtype = ctx.type(0).dtype;
    return scalar(ctx, dtype === 'i32' ? Math.min(Math.max(value, -2147483648), 2147483647) : value);
  };
  const inputs = [ctx.input(0), bound('min'), bound('max')];
  while (inputs.at(-1) === '') inputs.pop();
  return ctx.op('Clip', inputs);
}

function cast(ctx: ExportContext): string {
  return ctx.op('Cast', [ctx.input(0)], { to: { int: elementTypeOf(ctx.node.dtype) } });
}

registerExporters({
  neg: same('Neg'),
  abs: same('Abs'),
  sign: same('Sign'),
  square: (ctx) => ctx.op('Mul', [ctx.input(0), ctx.input(0)]),
  relu: same('Relu'),
  exp: same('Exp'),
  log: same('Log'),
  log1p: (ctx) => ctx.op('Log', [ctx.op('Add', [ctx.input(0), scalar(ctx, 1)])]),
  expm1: (ctx) => ctx.op('Sub', [ctx.op('Exp', [ctx.input(0)]), scalar(ctx, 1)]),
  sqrt: same('Sqrt'),
  rsqrt: (ctx) => ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.input(0)])]),
  reciprocal: same('Reciprocal'),
  sin: same('Sin'),
  cos: same('Cos'),
  tanh: same('Tanh'),
  atan: same('Atan'),
  erf: same('Erf'),
  sigmoid: same('Sigmoid'),
  softplus: same('Softplus'),
  floor: same('Floor'),
  ceil: same('Ceil'),
  round: same('Round'),
  leakyRelu: same('LeakyRelu', alpha),
  elu: same('Elu', alpha),
  gelu,
  clip,
  add: same('Add'),
  sub: same('Sub'),
  mul: same('Mul'),
  div: same('Div'),
  pow: same('Pow'),
  maximum: same('Max'),
  minimum: same('Min'),
  equal: same('Equal'),
  notEqual: (ctx) => ctx.op('Not', [ctx.op('Equal', [ctx.input(0), ctx.input(1)])]),
  less: same('Less'),
  lessEqual: same('LessOrEqual'),
  greater: same('Greater'),
  greaterEqual: same('GreaterOrEqual'),
  logicalAnd: same('And'),
  logicalOr: same('Or'),
  logicalXor: same('Xor'),
  logicalNot: same('Not'),
  where: same('Where'),
  cast,
  stopGradient: same('Identity'),
});
