/**
 * Pooling over the spatial axes of channel-first tensors ([N, C, L], [N, C, H, W],
 * [N, C, D, H, W]): max and average pooling with kernel, stride, padding and ceil mode
 * (window geometry in pool-windows.ts), and global pooling by composition with the
 * reductions.
 *
 * Gradients are ops of their own, each the transpose of another, so every derivative of
 * any order stays in graph ops:
 * - maxPool(x) → maxPoolGrad(x, dy): each window's cotangent goes to its arg-max, the
 *   first maximum in row-major window order (ties are not split, unlike the max
 *   reduction's gradient: PyTorch and ONNX pick one element too). A NaN in a window is
 *   its maximum (the first NaN), so NaN propagates as in PyTorch.
 * - maxPoolGrad is linear in dy for a given x; its transpose maxPoolGather(x, v) reads v
 *   at each window's arg-max of x, and the two are each other's VJP. The arg-max is
 *   piecewise constant in x, so x gets no gradient through either.
 * - avgPool(x) → avgPoolGrad(dy), which spreads each window's cotangent evenly over it
 *   (divided by the same count as the forward pass); each is the other's VJP.
 */

import { ArgumentError, ShapeError, opError } from '../errors.js';
import type { Shape, StaticShape, TensorType } from '../shape.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { TypedArray } from '../dtype.js';
import { requireTensor } from './lift.js';
import { requireObject } from './args.js';
import type { EvalContext, HostArray } from './op.js';
import { defineOp, emptyLike } from './op.js';
import type { AvgPoolAttrs, AvgPoolOptions, PoolAttrs, PoolOptions } from './pool-windows.js';
import { forEachInWindow, planeSizes, poolAttrs, pooledSize, requirePoolInput, spatialOf, windowDivisor, windowsOf } from './pool-windows.js';
import { argmaxReducer, max, mean } from './reduce.js';
import type { PoolWindows } from '../../shaders/pool.js';
import { pooledKernel, poolGradKernel } from '../../shaders/pool.js';

export type { AvgPoolAttrs, AvgPoolOptions, PoolAttrs, PoolOptions } from './pool-windows.js';
/** An average pooling's gradient also records the pooled input's spatial sizes. */
export type AvgPoolGradAttrs = AvgPoolAttrs & { inputSize: number[] };

/** [N, C, ...spatial] of a pooling's output. */
function pooledType(op: string, operands: readonly TensorType[], x: TensorType, attrs: PoolAttrs): TensorType {
  return { shape: [x.shape[0]!, x.shape[1]!, ...pooledSize(op, operands, x, attrs)], dtype: 'f32' };
}

/** Checks that `t` (named `what`) is f32 of shape `expected`, the fix naming what it should be. */
function requireShaped(op: string, operands: readonly TensorType[], t: TensorType, what: string, expected: Shape, fix: string): void {
  if (t.dtype !== 'f32' || !sameShape(t.shape, expected)) {
    const problem = `${what} must be f32${formatShape(expected)}, got ${t.dtype}${formatShape(t.shape)}`;
    throw opError(ShapeError, op, operands, problem, fix);
  }
}

function requireCountIncludePad(op: string, operands: readonly TensorType[], value: unknown): void {
  if (typeof value !== 'boolean') {
    throw opError(ArgumentError, op, operands, `countIncludePad must be a boolean, got ${String(value)}`, 'pass true or false');
  }
}

/**
 * Calls `visit` for every window of a pooling of `x` (shape [N, C, spatial…]): with its
 * plane's first input offset, its flat window index within the plane, and its flat
 * output index.
 */
function forEachWindow(xShape: StaticShape, w: PoolWindows, visit: (base: number, window: number, out: number) => void): void {
  const planes = xShape[0]! * xShape[1]!;
  const sizes = planeSizes(w);
  for (let plane = 0; plane < planes; plane++) {
    for (let window = 0; window < sizes.output; window++) visit(plane * sizes.input, window, plane * sizes.output + window);
  }
}

/** How a window's arg-max picks, on the host and in WGSL: argmax's preference (a NaN, the first one, beats every number). */
const MAX_WINDOW = { kind: 'max', better: argmaxReducer.better } as const;

/** The flat index in `x` of window `window`'s first maximum. */
function windowArgmax(x: TypedArray, base: number, w: PoolWindows, window: number): number {
  let best = NaN;
  let at = -1;
  forEachInWindow(w, window, (offset) => {
    const v = x[base + offset]!;
    if (at < 0 || MAX_WINDOW.better.host(v, best)) {
      best = v;
      at = base + offset;
    }
  });
  return at;
}

/** A pooled output whose every element is `value(base, window)`. */
function evaluatePooled(x: HostArray, attrs: PoolAttrs, out: TensorType, ctx: EvalContext, value: (w: PoolWindows, base: number, window: number) => number): HostArray {
  const result = emptyLike(out, ctx);
  const w = windowsOf(spatialOf('pool', x), attrs);
  forEachWindow(x.shape, w, (base, window, at) => {
    result.data[at] = value(w, base, window);
  });
  return result;
}

/** A comparison or an add per element of each window: the pooled (output-sized) elements times the window. */
const poolFlops = (pooled: StaticShape, { kernel }: PoolAttrs): number => sizeOf(pooled) * kernel.reduce((a, b) => a * b, 1);

export const maxPoolOp = defineOp<PoolAttrs>({
  name: 'maxPool',
  arity: 1,
  flops: (_, out, attrs) => poolFlops(out, attrs),
  vjp: ({ inputs: [x], attrs, cotangent }) => [maxPoolGrad(x!, cotangent, attrs)],
  infer: (inputs, attrs) => pooledType('maxPool', inputs, inputs[0]!, attrs),
  evaluate: ([x], attrs, out, ctx) => evaluatePooled(x!, attrs, out, ctx, (w, base, window) => x!.data[windowArgmax(x!.data, base, w, window)]!),
  lower: { kind: 'kernel', emit: (ctx) => pooledKernel(ctx, windowsOf(spatialOf(ctx.name, ctx.inputs[0]!), ctx.attrs), MAX_WINDOW) },
});

export const maxPoolGatherOp = defineOp<PoolAttrs>({
  name: 'maxPoolGather',
  arity: 2,
  flops: (_, out, attrs) => poolFlops(out, attrs),
  vjp: ({ inputs: [x], attrs, cotangent }) => [null, maxPoolGrad(x!, cotangent, attrs)],
  infer(inputs, attrs) {
    const [x, values] = [inputs[0]!, inputs[1]!];
    const out = pooledType('maxPoolGather', inputs, x, attrs);
    requireShaped('maxPoolGather', inputs, values, 'the values', x.shape, 'pass values shaped as the pooled input x');
    return out;
  },
  evaluate: ([x, values], attrs, out, ctx) =>
    evaluatePooled(x!, attrs, out, ctx, (w, base, window) => values!.data[windowArgmax(x!.data, base, w, window)]!),
  lower: { kind: 'kernel', emit: (ctx) => pooledKernel(ctx, windowsOf(spatialOf(ctx.name, ctx.inputs[0]!), ctx.attrs), { ...MAX_WINDOW, kind: 'maxGather' }) },
});

export const maxPoolGradOp = defineOp<PoolAttrs>({
  name: 'maxPoolGrad',
  arity: 2,
  flops: ([, dy], _, attrs) => poolFlops(dy!, attrs),
  vjp: ({ inputs: [x], attrs, cotangent }) => [null, maxPoolGather(x!, cotangent, attrs)],
  infer(inputs, attrs) {
    const [x, dy] = [inputs[0]!, inputs[1]!];
    const pooled = pooledType('maxPoolGrad', inputs, x, attrs);
    requireShaped('maxPoolGrad', inputs, dy, 'dy', pooled.shape, "pass the cotangent of maxPool(x)'s output");
    return { shape: x.shape, dtype: 'f32' };
  },
  evaluate([x, dy], attrs, out, ctx) {
    const result = emptyLike(out, ctx);
    const w = windowsOf(spatialOf('pool', x!), attrs);
    forEachWindow(x!.shape, w, (base, window, at) => {
      result.data[windowArgmax(x!.data, base, w, window)] += dy!.data[at]!;
    });
    return result;
  },
  lower: { kind: 'kernel', emit: (ctx) => poolGradKernel(ctx, windowsOf(spatialOf(ctx.name, ctx.inputs[0]!), ctx.attrs), MAX_WINDOW) },
});

export const avgPoolOp = defineOp<AvgPoolAttrs>({
  name: 'avgPool',
  arity: 1,
  flops: (_, out, attrs) => poolFlops(out, attrs),
  vjp: ({ inputs: [x], attrs, cotangent }) => [avgPoolGrad(cotangent, { ...attrs, inputSize: spatialOf('avgPool', x!) })],
  infer(inputs, attrs) {
    requireCountIncludePad('avgPool', inputs, attrs.countIncludePad);
    return pooledType('avgPool', inputs, inputs[0]!, attrs);
  },
  evaluate: ([x], attrs, out, ctx) =>
    evaluatePooled(x!, attrs, out, ctx, (w, base, window) => {
      let total = 0;
      forEachInWindow(w, window, (offset) => {
        total += x!.data[base + offset]!;
      });
      return total / windowDivisor(w, window, attrs.countIncludePad);
    }),
  lower: {
    kind: 'kernel',
    emit: (ctx) => pooledKernel(ctx, windowsOf(spatialOf(ctx.name, ctx.inputs[0]!), ctx.attrs), { kind: ctx.attrs.countIncludePad ? 'avgIncludePad' : 'avg' }),
  },
});

/** The input type an average pooling's gradient stands for: dy's N and C, the recorded spatial sizes. */
function avgPoolInputType(op: string, dy: TensorType, attrs: AvgPoolGradAttrs): TensorType {
  const spatialRank = Array.isArray(attrs.kernel) ? attrs.kernel.length : 0;
  requirePoolInput(op, [dy], dy, spatialRank);
  const ok = Array.isArray(attrs.inputSize) && attrs.inputSize.length === spatialRank && attrs.inputSize.every((d) => Number.isInteger(d) && d >= 0);
  if (!ok) {
    const problem = `inputSize ${JSON.stringify(attrs.inputSize)} must hold the pooled input's ${spatialRank} spatial sizes`;
    throw opError(ArgumentError, op, [dy], problem, 'build the node by differentiating avgPool');
  }
  return { shape: [dy.shape[0]!, dy.shape[1]!, ...attrs.inputSize], dtype: 'f32' };
}

export const avgPoolGradOp = defineOp<AvgPoolGradAttrs>({
  name: 'avgPoolGrad',
  arity: 1,
  flops: ([dy], _, attrs) => poolFlops(dy!, attrs),
  vjp: ({ attrs: { inputSize: _inputSize, ...attrs }, cotangent }) => [avgPool(cotangent, attrs)],
  infer(inputs, attrs) {
    const dy = inputs[0]!;
    requireCountIncludePad('avgPoolGrad', inputs, attrs.countIncludePad);
    const x = avgPoolInputType('avgPoolGrad', dy, attrs);
    const pooled = pooledType('avgPoolGrad', inputs, x, attrs);
    requireShaped('avgPoolGrad', inputs, dy, 'dy', pooled.shape, `pass the cotangent of avgPool over inputs of shape ${formatShape(x.shape)}`);
    return x;
  },
  evaluate([dy], attrs, out, ctx) {
    const result = emptyLike(out, ctx);
    const w = windowsOf(attrs.inputSize, attrs);
    forEachWindow(result.shape, w, (base, window, at) => {
      const share = dy!.data[at]! / windowDivisor(w, window, attrs.countIncludePad);
      forEachInWindow(w, window, (offset) => {
        result.data[base + offset] += share;
      });
    });
    return result;
  },
  lower: {
    kind: 'kernel',
    emit: (ctx) => poolGradKernel(ctx, windowsOf(ctx.attrs.inputSize, ctx.attrs), { kind: ctx.attrs.countIncludePad ? 'avgIncludePad' : 'avg' }),
  },
});

/**
 * The gradient of maxPool(x) with these attributes for output cotangent `dy`: each
 * element of x gets the sum of dy over the windows whose arg-max it is.
 *
 * @internal Built by maxPool's VJP; exported for tests.
 */
export function maxPoolGrad(x: Tensor, dy: Tensor, attrs: PoolAttrs): Tensor {
  requireTensor('maxPoolGrad', x);
  requireObject('maxPoolGrad', 'attrs', attrs, 'the pooling attributes');
  return x.graph.addNode(maxPoolGradOp, [x, dy], { ...attrs });
}

/**
 * `values` (shaped as x) read at each max-pooling window's arg-max in x: the transpose
 * of maxPoolGrad in its second operand.
 *
 * @internal Built by maxPoolGrad's VJP; exported for tests.
 */
export function maxPoolGather(x: Tensor, values: Tensor, attrs: PoolAttrs): Tensor {
  requireTensor('maxPoolGather', x);
  requireObject('maxPoolGather', 'attrs', attrs, 'the pooling attributes');
  return x.graph.addNode(maxPoolGatherOp, [x, values], { ...attrs });
}

/**
 * The gradient of avgPool with these attributes over inputs of spatial size
 * `attrs.inputSize`, for output cotangent `dy`.
 *
 * @internal Built by avgPool's VJP; exported for tests.
 */
export function avgPoolGrad(dy: Tensor, attrs: AvgPoolGradAttrs): Tensor {
  requireTensor('avgPoolGrad', dy);
  requireObject('avgPoolGrad', 'attrs', attrs, 'the pooling attributes');
  return dy.graph.addNode(avgPoolGradOp, [dy], { ...attrs });
}

function avgPool(x: Tensor, attrs: AvgPoolAttrs): Tensor {
  return x.graph.addNode(avgPoolOp, [x], { ...attrs });
}

function maxPoolNd(op: string, x: Tensor, spatialRank: number, options: PoolOptions): Tensor {
  requireTensor(op, x);
  return x.graph.addNode(maxPoolOp, [x], poolAttrs(op, x.node, spatialRank, options));
}

function avgPoolNd(op: string, x: Tensor, spatialRank: number, options: AvgPoolOptions): Tensor {
  requireTensor(op, x);
  const attrs = poolAttrs(op, x.node, spatialRank, options);
  const countIncludePad = options.countIncludePad ?? false;
  requireCountIncludePad(op, [x.node], countIncludePad);
  return avgPool(x, { ...attrs, countIncludePad });
}

/** Max pooling of x [N, C, L] over windows along L (padding is −∞, never chosen). */
export function maxPool1d(x: Tensor, options: PoolOptions): Tensor {
  return maxPoolNd('maxPool1d', x, 1, options);
}

/**
 * Max pooling of x [N, C, H, W] over windows of H and W: each output is its window's
 * maximum (padding is −∞, never chosen). The gradient goes to each window's first
 * maximum in row-major window order.
 */
export function maxPool2d(x: Tensor, options: PoolOptions): Tensor {
  return maxPoolNd('maxPool2d', x, 2, options);
}

/** Max pooling of x [N, C, D, H, W] over windows of D, H and W. */
export function maxPool3d(x: Tensor, options: PoolOptions): Tensor {
  return maxPoolNd('maxPool3d', x, 3, options);
}

/** Average pooling of x [N, C, L] over windows along L; see avgPool2d for padding. */
export function avgPool1d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool1d', x, 1, options);
}

/**
 * Average pooling of x [N, C, H, W] over windows of H and W. Padding is not counted in
 * a window's divisor unless `countIncludePad` (default false, as ONNX; PyTorch's
 * default is true, so pass `countIncludePad: true` to match `nn.AvgPool2d(padding=p)`).
 */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool2d', x, 2, options);
}

/** Average pooling of x [N, C, D, H, W] over windows of D, H and W; see avgPool2d for padding. */
export function avgPool3d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool3d', x, 3, options);
}

function spatialAxes(op: string, x: Tensor): number[] {
  requireTensor(op, x);
  if (x.rank < 3) {
    const problem = `expects an input [N, C, spatial…] of rank ≥ 3, got rank ${x.rank}`;
    throw opError(ShapeError, op, [x.node], problem, 'reshape the input to [N, C, H, W] (or [N, C, L])');
  }
  requirePoolInput(op, [x.node], x.node, x.rank - 2);
  return Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
}

/** The mean over every spatial axis of x [N, C, spatial…], kept as size 1: [N, C, 1, 1] for an image batch. */
export function globalAvgPool(x: Tensor): Tensor {
  return mean(x, spatialAxes('globalAvgPool', x), true);
}

/**
 * The maximum over every spatial axis of x [N, C, spatial…], kept as size 1. A max
 * reduction: its gradient splits ties evenly, where maxPool's goes to the first maximum.
 */
export function globalMaxPool(x: Tensor): Tensor {
  return max(x, spatialAxes('globalMaxPool', x), true);
}
