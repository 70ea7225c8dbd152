/**
 * Convolutions, NCHW: `conv1d`/`conv2d`, their transposes `convTranspose1d`/`convTranspose2d`
 * (PyTorch's semantics), and `convWeightGrad1d`/`convWeightGrad2d`, the gradient of a
 * convolution with respect to its weight. Bias is not part of these ops: add it after
 * (`conv2d(x, w).add(b.reshape([1, C, 1, 1]))`), and epilogue fusion computes it, and an
 * activation after it, as the convolution stores each element.
 *
 * The three are one bilinear relation seen from three sides (see conv-shape.ts), so
 * each one's VJP is built from the other two and gradients of any order exist:
 * conv's input gradient is convTranspose, its weight gradient convWeightGrad, and so on.
 * A 1-D op is its own node (its shapes and errors speak 1-D), computed as a 2-D one
 * whose first spatial axis has size 1.
 */

import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { StaticShape, TensorType } from '../shape.js';
import { formatShape, sameShape, sizeOf, staticDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { ConvAttrs, ConvOptions, ConvTransposeAttrs, ConvTransposeOptions, ConvWeightGradAttrs, ConvWeightGradOptions, SpatialRank } from './conv-shape.js';
import {
  checkConvAttrs,
  checkDivides,
  checkGroups,
  checkKernelFits,
  checkOperands,
  convGeometry,
  kernelSpan,
  layout,
  outputPaddingFor,
  resolvePadding,
  responseSize,
  spatialIntegers,
  staticTail,
} from './conv-shape.js';
import { requireTensor } from './lift.js';
import type { EvalContext, HostArray, Lowering, OpDef } from './op.js';
import { defineOp, emptyLike, evalShape } from './op.js';
import type { ConvGeometry } from '../../shaders/conv.js';
import { directConvKernel } from '../../shaders/conv.js';
import { weightGradKernel } from '../../shaders/conv-weight-grad.js';

export type { ConvOptions, ConvTransposeOptions, ConvWeightGradOptions, ConvPadding } from './conv-shape.js';

const RANKS = [1, 2] as const;

/**
 * Visits every (image element, response element, weight element) triple the convolution
 * multiplies together: each tap of each window that lands inside the image (padding
 * contributes zeros, so it is skipped). All three references are sums over these triples.
 */
function forEachTap(g: ConvGeometry, visit: (image: number, response: number, weight: number) => void): void {
  const batch = staticDim('conv', g.batch, 'the reference interpreter evaluates only bound graphs (bindDims first)');
  const [height, width] = g.image;
  const [outHeight, outWidth] = g.response;
  const [kernelHeight, kernelWidth] = g.kernel;
  const imagePerGroup = g.imageChannels / g.groups;
  const responsePerGroup = g.responseChannels / g.groups;
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < g.responseChannels; co++) {
      const group = Math.floor(co / responsePerGroup);
      for (let local = 0; local < imagePerGroup; local++) {
        const ci = group * imagePerGroup + local;
        for (let oh = 0; oh < outHeight; oh++) {
          for (let ow = 0; ow < outWidth; ow++) {
            for (let kh = 0; kh < kernelHeight; kh++) {
              const ih = oh * g.stride[0] - g.padBefore[0] + kh * g.dilation[0];
              if (ih < 0 || ih >= height) continue;
              for (let kw = 0; kw < kernelWidth; kw++) {
                const iw = ow * g.stride[1] - g.padBefore[1] + kw * g.dilation[1];
                if (iw < 0 || iw >= width) continue;
                visit(
                  ((n * g.imageChannels + ci) * height + ih) * width + iw,
                  ((n * g.responseChannels + co) * outHeight + oh) * outWidth + ow,
                  ((co * imagePerGroup + local) * kernelHeight + kh) * kernelWidth + kw,
                );
              }
            }
          }
        }
      }
    }
  }
}

/** Sums products into a double-precision accumulator and rounds once, as the GPU's f32 sums approximate. */
function accumulate(out: TensorType, ctx: EvalContext, sum: (acc: Float64Array) => void): HostArray {
  const acc = new Float64Array(sizeOf(evalShape('conv', out.shape)));
  sum(acc);
  const result = emptyLike(out, ctx);
  result.data.set(acc);
  return result;
}

/** The attributes every convolution op shares, without the extras of one (an outputPadding, a kernel). */
const shared = (attrs: ConvAttrs): ConvAttrs => ({ stride: attrs.stride, padding: attrs.padding, dilation: attrs.dilation, groups: attrs.groups });

/** convTranspose's output padding that gives back an image the size of `image`'s spatial axes. */
const outputPaddingOf = (image: Tensor, kernel: readonly number[], attrs: ConvAttrs): number[] =>
  staticTail('convTranspose', image).slice(1).map((size, axis) => outputPaddingFor(size, kernel[axis]!, attrs.stride[axis]!, attrs.dilation[axis]!, attrs.padding[axis]!));

const opName = (kind: 'conv' | 'convTranspose' | 'convWeightGrad', rank: SpatialRank): string => `${kind}${rank}d`;

const imageLayout = (rank: SpatialRank, channels: string): string => layout(rank, ['N', channels]);

function inferConv(op: string, rank: SpatialRank, inputs: readonly TensorType[], attrs: ConvAttrs): TensorType {
  checkOperands(op, inputs, rank, ['x', 'w'], [imageLayout(rank, 'C_in'), layout(rank, ['C_out', 'C_in/groups'], true)]);
  const checked = checkConvAttrs(op, inputs, rank, attrs);
  const [x, w] = [inputs[0]!, inputs[1]!];
  // Only N may be symbolic (checkOperands refused the rest by name); a weight's first axis is its C_out.
  const [inChannels, ...image] = staticTail(op, x, 'x');
  const [perGroup, ...kernel] = staticTail(op, w, 'w');
  const outChannels = staticDim(op, w.shape[0]!, 'axis 0 of w is its output channels C_out');
  const groups = checked.groups;
  checkDivides(op, inputs, groups, inChannels!, 'C_in (x.shape[1])');
  checkDivides(op, inputs, groups, outChannels, 'C_out (w.shape[0])');
  if (perGroup! * groups !== inChannels) {
    const asGroups = perGroup! > 0 && inChannels! % perGroup! === 0 ? inChannels! / perGroup! : undefined;
    const kernelDims = kernel.join(', ');
    const fix =
      `give w C_in/groups = ${inChannels! / groups} input channels: [${outChannels}, ${inChannels! / groups}, ${kernelDims}]` +
      (asGroups !== undefined && outChannels % asGroups === 0 ? `, or pass groups: ${asGroups}` : '');
    throw opError(ShapeError, op, inputs, `x has C_in = ${inChannels} channels but w has ${perGroup} per group × ${groups} group${groups === 1 ? '' : 's'} = ${perGroup! * groups}`, fix);
  }
  checkKernelFits(op, inputs, rank, image, kernel, checked);
  return { shape: [x.shape[0]!, outChannels, ...responseSize(image, kernel, checked)], dtype: 'f32' };
}

function inferConvTranspose(op: string, rank: SpatialRank, inputs: readonly TensorType[], attrs: ConvTransposeAttrs): TensorType {
  checkOperands(op, inputs, rank, ['x', 'w'], [imageLayout(rank, 'C_in'), layout(rank, ['C_in', 'C_out/groups'], true)]);
  const checked = checkConvAttrs(op, inputs, rank, attrs);
  const outputPadding = spatialIntegers(op, inputs, 'outputPadding', attrs.outputPadding, rank, 0);
  if (outputPadding.some((p, axis) => p >= checked.stride[axis]!)) {
    throw opError(
      ArgumentError,
      op,
      inputs,
      `outputPadding ${formatShape(outputPadding)} must be smaller than the stride ${formatShape(checked.stride)} along each axis`,
      'lower outputPadding (it only picks among the output sizes a strided convolution maps to the same input size)',
    );
  }
  const [x, w] = [inputs[0]!, inputs[1]!];
  const [inChannels, ...image] = staticTail(op, x, 'x');
  const [outPerGroup, ...kernel] = staticTail(op, w, 'w');
  if (inChannels !== w.shape[0]) {
    throw opError(
      ShapeError,
      op,
      inputs,
      `x has C_in = ${x.shape[1]} channels but w.shape[0] is ${w.shape[0]}`,
      `pass w as ${layout(rank, ['C_in', 'C_out/groups'], true)} (PyTorch's ConvTranspose layout, which is the weight of the convolution this transposes)`,
    );
  }
  checkDivides(op, inputs, checked.groups, inChannels!, 'C_in (x.shape[1])');
  const size = image.map((length, axis) => {
    const [before, after] = checked.padding[axis] as [number, number];
    const span = kernelSpan(kernel[axis]!, checked.dilation[axis]!);
    return (length - 1) * checked.stride[axis]! - before - after + span + outputPadding[axis]!;
  });
  if (image.some((length) => length === 0) || size.some((length) => length < 1)) {
    throw opError(
      ShapeError,
      op,
      inputs,
      `the output would have spatial size ${formatShape(size)}: (input − 1)·stride − padding + dilation·(kernel − 1) + outputPadding + 1 must be ≥ 1`,
      'use less padding, or a non-empty input',
    );
  }
  return { shape: [x.shape[0]!, outPerGroup! * checked.groups, ...size], dtype: 'f32' };
}

function inferWeightGrad(op: string, rank: SpatialRank, inputs: readonly TensorType[], attrs: ConvWeightGradAttrs): TensorType {
  checkOperands(op, inputs, rank, ['x', 'dy'], [imageLayout(rank, 'C_in'), imageLayout(rank, 'C_out')]);
  const checked = checkConvAttrs(op, inputs, rank, attrs);
  const kernel = spatialIntegers(op, inputs, 'kernel', attrs.kernel, rank, 1);
  const [x, dy] = [inputs[0]!, inputs[1]!];
  if (x.shape[0] !== dy.shape[0]) {
    throw opError(ShapeError, op, inputs, `x has batch ${x.shape[0]} but dy has ${dy.shape[0]}`, "pass the convolution's input and its output's cotangent");
  }
  const [inChannels, ...image] = staticTail(op, x, 'x');
  const [outChannels, ...response] = staticTail(op, dy, 'dy');
  checkDivides(op, inputs, checked.groups, inChannels!, 'C_in (x.shape[1])');
  checkDivides(op, inputs, checked.groups, outChannels!, 'C_out (dy.shape[1])');
  checkKernelFits(op, inputs, rank, image, kernel, checked);
  const expected = responseSize(image, kernel, checked);
  if (!sameShape(expected, response)) {
    throw opError(
      ShapeError,
      op,
      inputs,
      `dy has spatial size ${formatShape(dy.shape.slice(2))} but the convolution of x with kernel ${formatShape(kernel)} and this stride, padding and dilation gives ${formatShape(expected)}`,
      "pass the cotangent of that convolution's output, and the same options",
    );
  }
  return { shape: [outChannels!, inChannels! / checked.groups, ...kernel], dtype: 'f32' };
}

/**
 * The three ops' arithmetic: a multiply and an add per tap of each response element, a
 * window being one group's input channels times the kernel (the weight's elements per
 * output channel). Taps on padding count too: they are the op's nominal work.
 */
function convFlops(response: StaticShape, weight: StaticShape): number {
  return (2 * sizeOf(response) * sizeOf(weight)) / weight[0]!;
}

function defineConv(rank: SpatialRank): OpDef<ConvAttrs> {
  const name = opName('conv', rank);
  return defineOp<ConvAttrs>({
    name,
    arity: 2,
    infer: (inputs, attrs) => inferConv(name, rank, inputs, attrs),
    flops: ([, w], out) => convFlops(out, w!),
    evaluate([x, w], attrs, out, ctx) {
      const g = convGeometry(x!.shape, out.shape, staticTail(name, w!).slice(1), attrs);
      return accumulate(out, ctx, (acc) => forEachTap(g, (i, r, k) => (acc[r] += x!.data[i]! * w!.data[k]!)));
    },
    // dx: the transpose, sized back to x; dw: the weight gradient.
    vjp: ({ inputs: [x, w], attrs, cotangent: g }) => [
      addConvTranspose(rank, g, w!, { ...shared(attrs), outputPadding: outputPaddingOf(x!, staticTail(name, w!).slice(1), attrs) }),
      addWeightGrad(rank, x!, g, { ...shared(attrs), kernel: staticTail(name, w!).slice(1) }),
    ],
    lower: directLowering(false),
  });
}

/**
 * The direct kernel of a convolution or a transposed one. Both gather per output element
 * over the same geometry (image, response, weight); a transposed convolution's output is
 * the image its input (the response) came from.
 */
function directLowering<A extends ConvAttrs>(transposed: boolean): Lowering<A> {
  return {
    kind: 'kernel',
    acceptsEpilogue: true,
    emit: ({ node, inputs: [x, w], attrs, name, header, limits, epilogue, dims }) => {
      const [image, response] = transposed ? [node.shape, x!.shape] : [x!.shape, node.shape];
      return directConvKernel({
        name,
        header,
        limits,
        geometry: convGeometry(image, response, staticTail(name, w!).slice(1), attrs),
        transposed,
        dims,
        ids: [x!.id, w!.id, node.id],
        ...(epilogue ? { epilogue } : {}),
      });
    },
  };
}

function defineConvTranspose(rank: SpatialRank): OpDef<ConvTransposeAttrs> {
  const name = opName('convTranspose', rank);
  return defineOp<ConvTransposeAttrs>({
    name,
    arity: 2,
    infer: (inputs, attrs) => inferConvTranspose(name, rank, inputs, attrs),
    flops: ([x, w]) => convFlops(x!, w!),
    evaluate([x, w], attrs, out, ctx) {
      const g = convGeometry(out.shape, x!.shape, staticTail(name, w!).slice(1), attrs);
      // Scattered from each input element (the definition), where the GPU gathers per output element.
      return accumulate(out, ctx, (acc) => forEachTap(g, (i, r, k) => (acc[i] += x!.data[r]! * w!.data[k]!)));
    },
    // Its input is a convolution's response: dx convolves g back; dw treats g as the image.
    vjp: ({ inputs: [x, w], attrs, cotangent: g }) => [
      addConv(rank, g, w!, shared(attrs)),
      addWeightGrad(rank, g, x!, { ...shared(attrs), kernel: staticTail(name, w!).slice(1) }),
    ],
    lower: directLowering(true),
  });
}

function defineWeightGrad(rank: SpatialRank): OpDef<ConvWeightGradAttrs> {
  const name = opName('convWeightGrad', rank);
  return defineOp<ConvWeightGradAttrs>({
    name,
    arity: 2,
    infer: (inputs, attrs) => inferWeightGrad(name, rank, inputs, attrs),
    flops: ([, dy], out) => convFlops(dy!, out),
    evaluate([x, dy], attrs, out, ctx) {
      const g = convGeometry(x!.shape, dy!.shape, attrs.kernel, attrs);
      return accumulate(out, ctx, (acc) => forEachTap(g, (i, r, k) => (acc[k] += x!.data[i]! * dy!.data[r]!)));
    },
    // With G the cotangent of the weight: dx = convTranspose(dy, G), ddy = conv(x, G).
    vjp: ({ inputs: [x, dy], attrs, cotangent: g }) => [
      addConvTranspose(rank, dy!, g, { ...shared(attrs), outputPadding: outputPaddingOf(x!, attrs.kernel, attrs) }),
      addConv(rank, x!, g, shared(attrs)),
    ],
    lower: {
      kind: 'kernel',
      acceptsEpilogue: true,
      emit: ({ inputs: [x, dy], node, attrs, name: kernel, header, limits, epilogue, dims }) =>
        weightGradKernel({
          name: kernel,
          header,
          limits,
          geometry: convGeometry(x!.shape, dy!.shape, attrs.kernel, attrs),
          dims,
          ids: [x!.id, dy!.id, node.id],
          ...(epilogue ? { epilogue } : {}),
        }),
    },
  });
}

const convOps = Object.fromEntries(RANKS.map((rank) => [rank, defineConv(rank)])) as Record<SpatialRank, OpDef<ConvAttrs>>;
const convTransposeOps = Object.fromEntries(RANKS.map((rank) => [rank, defineConvTranspose(rank)])) as Record<SpatialRank, OpDef<ConvTransposeAttrs>>;
const weightGradOps = Object.fromEntries(RANKS.map((rank) => [rank, defineWeightGrad(rank)])) as Record<SpatialRank, OpDef<ConvWeightGradAttrs>>;

const addConv = (rank: SpatialRank, x: Tensor, w: Tensor, attrs: ConvAttrs): Tensor => x.graph.addNode(convOps[rank], [x, w], attrs);
const addConvTranspose = (rank: SpatialRank, x: Tensor, w: Tensor, attrs: ConvTransposeAttrs): Tensor =>
  x.graph.addNode(convTransposeOps[rank], [x, w], attrs);
const addWeightGrad = (rank: SpatialRank, x: Tensor, dy: Tensor, attrs: ConvWeightGradAttrs): Tensor =>
  x.graph.addNode(weightGradOps[rank], [x, dy], attrs);

/**
 * The stride, dilation and groups options, checked, with the operands' ranks checked
 * first (padding 'same' reads their spatial sizes).
 */
function commonOptions(
  op: string,
  rank: SpatialRank,
  operands: readonly [Tensor, Tensor],
  names: readonly [string, string],
  layouts: readonly [string, string],
  options: { stride?: unknown; dilation?: unknown; groups?: unknown },
): { stride: number[]; dilation: number[]; groups: number; shown: TensorType[] } {
  operands.forEach((t, k) => requireTensor(op, t, names[k]));
  const shown = operands.map((t) => t.node);
  checkOperands(op, shown, rank, names, layouts);
  return {
    stride: spatialIntegers(op, shown, 'stride', options.stride ?? 1, rank, 1),
    dilation: spatialIntegers(op, shown, 'dilation', options.dilation ?? 1, rank, 1),
    groups: checkGroups(op, shown, options.groups ?? 1),
    shown,
  };
}

function convolve(rank: SpatialRank, x: Tensor, w: Tensor, options: ConvOptions): Tensor {
  const op = opName('conv', rank);
  const layouts = [imageLayout(rank, 'C_in'), layout(rank, ['C_out', 'C_in/groups'], true)] as const;
  const { stride, dilation, groups, shown } = commonOptions(op, rank, [x, w], ['x', 'w'], layouts, options);
  const padding = resolvePadding(op, shown, options.padding, rank, { input: staticTail(op, x).slice(1), kernel: staticTail(op, w).slice(1), stride, dilation });
  return addConv(rank, x, w, { stride, padding, dilation, groups });
}

function convolveTransposed(rank: SpatialRank, x: Tensor, w: Tensor, options: ConvTransposeOptions): Tensor {
  const op = opName('convTranspose', rank);
  const layouts = [imageLayout(rank, 'C_in'), layout(rank, ['C_in', 'C_out/groups'], true)] as const;
  const { stride, dilation, groups, shown } = commonOptions(op, rank, [x, w], ['x', 'w'], layouts, options);
  const padding = resolvePadding(op, shown, options.padding, rank);
  const outputPadding = spatialIntegers(op, shown, 'outputPadding', options.outputPadding ?? 0, rank, 0);
  return addConvTranspose(rank, x, w, { stride, padding, dilation, groups, outputPadding });
}

function weightGradient(rank: SpatialRank, x: Tensor, dy: Tensor, options: ConvWeightGradOptions): Tensor {
  const op = opName('convWeightGrad', rank);
  const layouts = [imageLayout(rank, 'C_in'), imageLayout(rank, 'C_out')] as const;
  const { stride, dilation, groups, shown } = commonOptions(op, rank, [x, dy], ['x', 'dy'], layouts, options);
  const kernel = spatialIntegers(op, shown, 'kernelSize', options.kernelSize, rank, 1);
  const padding = resolvePadding(op, shown, options.padding, rank, { input: staticTail(op, x).slice(1), kernel, stride, dilation });
  return addWeightGrad(rank, x, dy, { stride, padding, dilation, groups, kernel });
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning library) of x
 * [N, C_in, H, W] with w [C_out, C_in/groups, kH, kW], giving [N, C_out, H_out, W_out]
 * with H_out = floor((H + padding − dilation·(kH − 1) − 1) / stride) + 1 (likewise W).
 * Options: stride, padding (numbers, [before, after] pairs, 'valid' or 'same'),
 * dilation, groups (C_in for a depthwise convolution). f32.
 */
export function conv2d(x: Tensor, w: Tensor, options: ConvOptions = {}): Tensor {
  return convolve(2, x, w, options);
}

/** 1-D convolution of x [N, C_in, L] with w [C_out, C_in/groups, k]; options as conv2d's, one value per axis. */
export function conv1d(x: Tensor, w: Tensor, options: ConvOptions = {}): Tensor {
  return convolve(1, x, w, options);
}

/**
 * Transposed 2-D convolution (PyTorch's ConvTranspose2d, without bias), the gradient of
 * conv2d with respect to its input: x [N, C_in, H, W] and w [C_in, C_out/groups, kH, kW]
 * give [N, C_out, H_out, W_out] with H_out = (H − 1)·stride − padding (both sides) +
 * dilation·(kH − 1) + outputPadding + 1. outputPadding must be smaller than the stride.
 */
export function convTranspose2d(x: Tensor, w: Tensor, options: ConvTransposeOptions = {}): Tensor {
  return convolveTransposed(2, x, w, options);
}

/** Transposed 1-D convolution: x [N, C_in, L], w [C_in, C_out/groups, k]; options as convTranspose2d's. */
export function convTranspose1d(x: Tensor, w: Tensor, options: ConvTransposeOptions = {}): Tensor {
  return convolveTransposed(1, x, w, options);
}

/**
 * The gradient of conv2d(x, w, options) with respect to w, given dy, the cotangent of its
 * output: [C_out, C_in/groups, kH, kW] for x [N, C_in, H, W] and dy [N, C_out, H_out, W_out].
 * `kernelSize` gives kH and kW; the other options are the convolution's.
 */
export function convWeightGrad2d(x: Tensor, dy: Tensor, options: ConvWeightGradOptions): Tensor {
  return weightGradient(2, x, dy, options);
}

/** The gradient of conv1d(x, w, options) with respect to w: [C_out, C_in/groups, k]. */
export function convWeightGrad1d(x: Tensor, dy: Tensor, options: ConvWeightGradOptions): Tensor {
  return weightGradient(1, x, dy, options);
}
