/**
 * The random-graph generator's steps for layer ops: pooling, cumulative sums and
 * triangles, attention, layer/RMS norm, and convolutions. Each reads a value of the pool
 * as its operand; one of the wrong rank gets leading axes of 1 (pooling, attention,
 * convolution) or is refused (undefined), and any other operand (keys, weights, gamma)
 * is an existing value or a new leaf of the shape it needs. Shapes stay awkward (the
 * generator's DIMS) and small (MAX_ELEMENTS for every value, the gradients' ones
 * included), and nodes are built only once their sizes are known to fit.
 */

import { shapeOf } from './random-value.js';
import { windowCount } from '../../compiler/ops/pool-windows.js';
import type { StaticShape as Shape } from '../../compiler/shape.js';
import { sizeOf } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Random } from './random.js';
import type { Built, StepContext, Value } from './random-value.js';
import { DIMS, MAX_ELEMENTS, MAX_RANK, WIDE_DIMS, broadcast } from './random-value.js';

export type LayerStep = 'pool' | 'sequence' | 'attention' | 'norm' | 'conv';

export function layerStep(kind: LayerStep, ctx: StepContext, v: Value): Built {
  switch (kind) {
    case 'pool': return pool(ctx, v);
    case 'sequence': return sequence(ctx, v);
    case 'attention': return attention(ctx, v);
    case 'norm': return norm(ctx, v);
    case 'conv': return conv(ctx, v);
  }
}

/** One spatial axis's window: kernel 1–3, padding up to half of it on each side, a stride that may skip elements. */
interface AxisWindow {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: [number, number];
}

function randomWindow(rng: Random, size: number): AxisWindow {
  const kernel = rng.pick([1, 2, 2, 3]);
  const most = Math.floor(kernel / 2);
  let padding: [number, number] = [rng.int(most + 1), rng.int(most + 1)];
  // Every kernel up to 3 fits an axis of size 1 with the most padding.
  if (size + padding[0] + padding[1] < kernel) padding = [most, most];
  return { kernel, stride: rng.pick([1, 1, 2, 3]), padding };
}

/** `shape` with leading axes of 1 up to `rank`. */
function padRank(shape: Shape, rank: number): number[] {
  return [...new Array<number>(Math.max(0, rank - shape.length)).fill(1), ...shape];
}

/**
 * Max or average pooling, 1-D or 2-D (strided, padded, ceil mode, padding counted or
 * not), or a global average pool, of v as channel-first [N, C, spatial…].
 */
function pool({ rng }: StepContext, v: Value): Built {
  const x = v.tensor;
  if (x.rank === 0) return undefined;
  const spatialRank = x.rank === 4 ? 2 : rng.pick([1, 2]);
  const shape = padRank(shapeOf(x), spatialRank + 2);
  const input = (): Tensor => (shape.length === x.rank ? x : x.reshape(shape));
  if (rng.chance(0.15)) return { tensor: input().globalAvgPool(), exact: false };
  const spatial = shape.slice(2);
  const windows = spatial.map((size) => randomWindow(rng, size));
  const ceilMode = rng.chance(0.3);
  const pooled = spatial.map((size, a) => windowCount(size, windows[a]!.kernel, windows[a]!.stride, ...windows[a]!.padding, ceilMode));
  if (sizeOf([...shape.slice(0, 2), ...pooled]) > MAX_ELEMENTS) return undefined;
  const options = {
    kernelSize: windows.map((w) => w.kernel),
    stride: windows.map((w) => w.stride),
    padding: windows.map((w) => w.padding),
    ceilMode,
  };
  const max = rng.chance(0.5);
  const pooling = `${max ? 'max' : 'avg'}Pool${spatialRank}d` as const;
  // The max is one of the window's elements: exact when they are (padding is never chosen).
  if (max) return { tensor: input()[pooling as 'maxPool1d' | 'maxPool2d'](options), exact: v.exact };
  return { tensor: input()[pooling as 'avgPool1d' | 'avgPool2d']({ ...options, countIncludePad: rng.chance(0.3) }), exact: false };
}

/** A cumulative sum along a random axis (exclusive, reversed), or the lower or upper triangle of the last two axes. */
function sequence({ rng }: StepContext, v: Value): Built {
  const x = v.tensor;
  if (x.rank === 0) return undefined;
  if (x.rank >= 2 && rng.chance(0.4)) {
    const diagonal = rng.pick([-1, 0, 0, 1, 2]);
    // A selection of elements, the rest 0.
    return { tensor: rng.chance(0.5) ? x.tril(diagonal) : x.triu(diagonal), exact: v.exact };
  }
  const axis = rng.int(x.rank) - (rng.chance(0.3) ? x.rank : 0);
  return { tensor: x.cumsum(axis, { exclusive: rng.chance(0.3), reverse: rng.chance(0.3) }), exact: false };
}

/**
 * Attention with v as the queries [..., Tq, d] (a vector is one query): keys and values
 * of other lengths and depths with batch dims that broadcast against the queries', or v
 * itself as keys and values (self-attention), causal or not, with a constant mask
 * ([Tq, Tk], or [1, Tk] for key padding, which can leave a query no key) or without.
 */
function attention(ctx: StepContext, v: Value): Built {
  const { rng, graph } = ctx;
  const x = v.tensor;
  if (x.rank === 0) return undefined;
  const queryShape = x.rank === 1 ? [1, sizeOf(shapeOf(x))] : shapeOf(x);
  const batch = queryShape.slice(0, -2);
  const [queries, depth] = queryShape.slice(-2) as [number, number];
  const self = rng.chance(0.2);
  const keyCount = self ? queries : rng.pick(DIMS);
  const valueDepth = self ? depth : rng.pick(DIMS);
  const keyBatch = self ? batch : ctx.partnerShape(batch, MAX_RANK - 2);
  const valueBatch = self ? batch : ctx.partnerShape(broadcast(batch, keyBatch), MAX_RANK - 2);
  const outBatch = broadcast(broadcast(batch, keyBatch), valueBatch);
  const keyShape = [...keyBatch, keyCount, depth];
  const valueShape = [...valueBatch, keyCount, valueDepth];
  // The output, and the [..., Tq, Tk] weights a gradient recomputes, stay small too.
  const shapes = [keyShape, valueShape, [...outBatch, queries, valueDepth], [...outBatch, queries, keyCount]];
  if (Math.max(...shapes.map((s) => sizeOf(s))) > MAX_ELEMENTS) return undefined;
  const q = x.rank === 1 ? x.reshape(queryShape) : x;
  const [keys, values] = self ? [q, q] : [ctx.valueOfShape(keyShape).tensor, ctx.valueOfShape(valueShape).tensor];
  const causal = rng.chance(0.4);
  let mask: Tensor | undefined;
  if (rng.chance(0.25)) {
    const maskShape = rng.chance(0.5) ? [queries, keyCount] : [1, keyCount];
    mask = graph.constant(Array.from({ length: sizeOf(maskShape) }, () => (rng.chance(0.7) ? 1 : 0)), { shape: maskShape, dtype: 'bool' });
  }
  const scale = rng.chance(0.3) ? rng.pick([0.5, 1, 2]) : undefined;
  return { tensor: q.attention(keys, values, { causal, ...(mask ? { mask } : {}), ...(scale === undefined ? {} : { scale }) }), exact: false };
}

/** Layer or RMS norm over the last axis (by default or named), the last two, or another axis, with gamma (and beta) or without. */
function norm(ctx: StepContext, v: Value): Built {
  const { rng } = ctx;
  const x = v.tensor;
  if (x.rank === 0) return undefined;
  const axes = rng.chance(0.5) ? undefined : x.rank >= 2 && rng.chance(0.4) ? [-2, -1] : [rng.int(x.rank)];
  const normalized = (axes ?? [-1]).map((a) => shapeOf(x)[a < 0 ? a + x.rank : a]!);
  const affine = (): Tensor | undefined => (rng.chance(0.5) ? ctx.valueOfShape(normalized).tensor : undefined);
  const gamma = affine();
  const options = { ...(axes ? { axes } : {}), ...(gamma ? { gamma } : {}), ...(rng.chance(0.3) ? { epsilon: rng.pick([1e-3, 0.1]) } : {}) };
  if (rng.chance(0.5)) return { tensor: x.rmsNorm(options), exact: false };
  const beta = affine();
  return { tensor: x.layerNorm({ ...options, ...(beta ? { beta } : {}) }), exact: false };
}

/** One spatial axis of a convolution: its kernel, stride, dilation and padding (a convolution's, or a transposed one's with its output padding). */
interface ConvAxis {
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padding: [number, number];
  readonly outputPadding: number;
  /** The output's size along the axis; below 1 when the options do not fit the input. */
  readonly size: number;
}

function randomConvAxis(rng: Random, size: number, transposed: boolean): ConvAxis {
  const kernel = rng.pick([1, 2, 3]);
  const stride = rng.pick([1, 1, 2, 3]);
  const dilation = rng.pick([1, 1, 2]);
  const padding: [number, number] = [rng.pick([0, 0, 1, 2]), rng.pick([0, 0, 1])];
  const span = dilation * (kernel - 1) + 1;
  if (!transposed) return { kernel, stride, dilation, padding, outputPadding: 0, size: Math.floor((size + padding[0] + padding[1] - span) / stride) + 1 };
  // Output padding picks among the output sizes that a strided convolution maps to the same input size: below the stride.
  const outputPadding = rng.chance(0.4) ? stride - 1 : 0;
  return { kernel, stride, dilation, padding, outputPadding, size: (size - 1) * stride - padding[0] - padding[1] + span + outputPadding };
}

/**
 * A 1-D or 2-D convolution (strided, dilated, padded — 'same' too — grouped, depthwise)
 * or transposed convolution of v as [N, C_in, spatial…], with a weight of awkward output
 * channels; a vector, matrix or rank-3 value gets leading axes of 1.
 */
function conv(ctx: StepContext, v: Value): Built {
  const { rng } = ctx;
  const x = v.tensor;
  if (x.rank === 0) return undefined;
  const spatialRank = x.rank === 4 ? 2 : rng.pick([1, 2]);
  const shape = padRank(shapeOf(x), spatialRank + 2);
  const [batch, channels] = shape as [number, number];
  const transposed = rng.chance(0.35);
  const groups = channels > 1 && rng.chance(0.3) ? rng.pick(WIDE_DIMS.filter((g) => channels % g === 0).concat(channels)) : 1;
  const outChannels = groups * rng.pick([1, 1, 2, 3]);
  const axes = shape.slice(2).map((size) => randomConvAxis(rng, size, transposed));
  const same = !transposed && rng.chance(0.2);
  const out = [batch, outChannels, ...axes.map((a, i) => (same ? Math.ceil(shape[i + 2]! / a.stride) : a.size))];
  const kernel = axes.map((a) => a.kernel);
  const weightShape = transposed ? [channels, outChannels / groups, ...kernel] : [outChannels, channels / groups, ...kernel];
  if (out.some((d) => d < 1) || Math.max(sizeOf(out), sizeOf(weightShape)) > MAX_ELEMENTS) return undefined;
  const input = shape.length === x.rank ? x : x.reshape(shape);
  const w = ctx.valueOfShape(weightShape).tensor;
  const common = { stride: axes.map((a) => a.stride), dilation: axes.map((a) => a.dilation), groups };
  const padding = axes.map((a) => a.padding);
  if (transposed) {
    const options = { ...common, padding, outputPadding: axes.map((a) => a.outputPadding) };
    return { tensor: spatialRank === 1 ? input.convTranspose1d(w, options) : input.convTranspose2d(w, options), exact: false };
  }
  const options = { ...common, padding: same ? ('same' as const) : padding };
  return { tensor: spatialRank === 1 ? input.conv1d(w, options) : input.conv2d(w, options), exact: false };
}
