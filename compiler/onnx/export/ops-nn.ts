/**
 * kiln's network ops as ONNX: matmul (Gemm for 2-D f32 operands, else MatMul with the
 * transposes spelled out), softmax and logSoftmax along one axis (opset 13's semantics),
 * attention as its definition (MatMul, scale, masks, Softmax, MatMul), convolutions and
 * pools on NCHW tensors.
 */

import type { OnnxAttributes } from './builder.js';
import type { ExportContext, OpExporter } from './context.js';
import { registerExporters } from './context.js';

/** Read `i` with its last two axes swapped. */
function transposed(ctx: ExportContext, i: number): string {
  const rank = ctx.type(i).shape.length;
  const perm = Array.from({ length: rank }, (_, a) => (a === rank - 2 ? rank - 1 : a === rank - 1 ? rank - 2 : a));
  return ctx.op('Transpose', [ctx.input(i)], { perm: { ints: perm } });
}

function matmul(ctx: ExportContext): string {
  const { transposeA, transposeB } = ctx.node.attrs as { transposeA: boolean; transposeB: boolean };
  if (ctx.type(0).shape.length === 2 && ctx.type(1).shape.length === 2 && ctx.node.dtype === 'f32') {
    return ctx.op('Gemm', [ctx.input(0), ctx.input(1)], { transA: { int: transposeA ? 1 : 0 }, transB: { int: transposeB ? 1 : 0 } });
  }
  return ctx.op('MatMul', [transposeA ? transposed(ctx, 0) : ctx.input(0), transposeB ? transposed(ctx, 1) : ctx.input(1)]);
}

const alongAxis = (opType: string): OpExporter => (ctx) => ctx.op(opType, [ctx.input(0)], { axis: { int: ctx.node.attrs['axis'] as number } });

/** The most negative f32: a masked score that exp() makes exactly 0 beside any allowed one. */
const LOWEST_F32 = -3.4028234663852886e38;

/**
 * softmax(scale·q·kᵀ, masked), reads [q, k, mask?]. A query with no allowed key gets an
 * all-zero row in kiln; a plain Softmax would give a uniform one, so the mask is applied
 * again to the weights when a row can be empty (a mask given, or causal with Tq > Tk).
 */
function attentionWeights(ctx: ExportContext, maskRead: number | undefined): string {
  const { scale, causal } = ctx.node.attrs as { scale: number; causal: boolean };
  // Only a causal mask needs the sizes (without one, a mask's rows may be empty whatever they are).
  const [queries, keys] = causal
    ? ctx.staticShape([ctx.type(0).shape.at(-2)!, ctx.type(1).shape.at(-2)!], 'a causal mask is written as a constant')
    : [0, 0];
  const scores = ctx.op('Mul', [ctx.op('MatMul', [ctx.input(0), transposed(ctx, 1)]), ctx.constant(scale, 'f32')]);
  let allowed: string | undefined;
  if (causal) {
    const lower = Array.from({ length: queries * keys }, (_, p) => (p % keys <= Math.floor(p / keys) ? 1 : 0));
    allowed = ctx.values(lower, 'bool', [queries, keys]);
  }
  if (maskRead !== undefined) allowed = allowed ? ctx.op('And', [allowed, ctx.input(maskRead)]) : ctx.input(maskRead);
  if (allowed === undefined) return ctx.op('Softmax', [scores], { axis: { int: -1 } });
  const weights = ctx.op('Softmax', [ctx.op('Where', [allowed, scores, ctx.constant(LOWEST_F32, 'f32')])], { axis: { int: -1 } });
  const rowsCanBeEmpty = maskRead !== undefined || queries > keys;
  return rowsCanBeEmpty ? ctx.op('Where', [allowed, weights, ctx.constant(0, 'f32')]) : weights;
}

/** Conv/ConvTranspose/pool attributes: ONNX's pads are every axis's start, then every axis's end. */
function pads(before: readonly number[], after: readonly number[]): OnnxAttributes {
  return { pads: { ints: [...before, ...after] } };
}

function conv(ctx: ExportContext): string {
  const { stride, padding, dilation, groups } = ctx.node.attrs as { stride: number[]; padding: number[][]; dilation: number[]; groups: number };
  return ctx.op('Conv', [ctx.input(0), ctx.input(1)], {
    kernel_shape: { ints: ctx.staticShape(ctx.type(1).shape.slice(2), 'kernel_shape is an attribute') },
    strides: { ints: stride },
    dilations: { ints: dilation },
    group: { int: groups },
    ...pads(padding.map((p) => p[0]!), padding.map((p) => p[1]!)),
  });
}

function convTranspose(ctx: ExportContext): string {
  const { stride, padding, dilation, groups, outputPadding } = ctx.node.attrs as {
    stride: number[];
    padding: number[][];
    dilation: number[];
    groups: number;
    outputPadding: number[];
  };
  return ctx.op('ConvTranspose', [ctx.input(0), ctx.input(1)], {
    kernel_shape: { ints: ctx.staticShape(ctx.type(1).shape.slice(2), 'kernel_shape is an attribute') },
    strides: { ints: stride },
    dilations: { ints: dilation },
    group: { int: groups },
    output_padding: { ints: outputPadding },
    ...pads(padding.map((p) => p[0]!), padding.map((p) => p[1]!)),
  });
}

function poolAttributes(ctx: ExportContext): OnnxAttributes {
  const { kernel, stride, padBefore, padAfter, ceilMode } = ctx.node.attrs as { kernel: number[]; stride: number[]; padBefore: number[]; padAfter: number[]; ceilMode: boolean };
  return { kernel_shape: { ints: kernel }, strides: { ints: stride }, ceil_mode: { int: ceilMode ? 1 : 0 }, ...pads(padBefore, padAfter) };
}

registerExporters({
  matmul,
  softmax: alongAxis('Softmax'),
  logSoftmax: alongAxis('LogSoftmax'),
  attentionWeights: (ctx) => attentionWeights(ctx, ctx.reads.length > 2 ? 2 : undefined),
  attention: (ctx) => ctx.op('MatMul', [attentionWeights(ctx, ctx.reads.length > 3 ? 3 : undefined), ctx.input(2)]),
  conv1d: conv,
  conv2d: conv,
  convTranspose1d: convTranspose,
  convTranspose2d: convTranspose,
  maxPool: (ctx) => ctx.op('MaxPool', [ctx.input(0)], poolAttributes(ctx)),
  avgPool: (ctx) => ctx.op('AveragePool', [ctx.input(0)], { ...poolAttributes(ctx), count_include_pad: { int: ctx.node.attrs['countIncludePad'] ? 1 : 0 } }),
});
