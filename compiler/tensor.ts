/**
 * A Tensor is a handle to one node of a graph: it has a shape and a dtype, but no
 * values (values exist only when a graph is run). Methods build new nodes, so models
 * read as chains: `x.matmul(w).add(b).relu()`.
 */

import type { DType } from './dtype.js';
import type { Graph, Node } from './graph.js';
import type { Dim, DimLike, Shape } from './shape.js';
import { formatType, sizeOf } from './shape.js';
import * as binary from './ops/binary.js';
import { cast } from './ops/cast.js';
import { gather, scatterAdd } from './ops/gather.js';
import type { MatmulOptions } from './ops/matmul.js';
import { matmul } from './ops/matmul.js';
import type { LossOptions, OneHotOptions } from './ops/nn.js';
import * as nn from './ops/nn.js';
import * as reduce from './ops/reduce.js';
import * as shape from './ops/shape.js';
import { stopGradient } from './ops/stop-gradient.js';
import type { ConvOptions, ConvTransposeOptions } from './ops/conv.js';
import * as conv from './ops/conv.js';
import type { BatchNormOptions, LayerNormOptions, RmsNormOptions } from './ops/norm.js';
import * as norm from './ops/norm.js';
import type { DropoutOptions } from './ops/random.js';
import { dropout } from './ops/random.js';
import type { AvgPoolOptions, PoolOptions } from './ops/pool.js';
import * as pool from './ops/pool.js';
import type { CumsumOptions } from './ops/sequence.js';
import { cumsum, tril, triu } from './ops/sequence.js';
import type { AttentionOptions } from './ops/attention.js';
import { attention } from './ops/attention.js';
import type { SliceAxis } from './ops/slice.js';
import { pad, slice, split } from './ops/slice.js';
import type { GeluApproximation } from './ops/unary.js';
import * as unary from './ops/unary.js';

/** Anything an op accepts as an operand: a tensor, or a number lifted to a constant. */
export type TensorLike = Tensor | number;

export class Tensor {
  /** @internal Tensors are created by their graph; use graph.input/param/... and ops. */
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}

  get node(): Node {
    return this.graph.node(this.id);
  }

  get shape(): Shape {
    return this.node.shape;
  }

  get dtype(): DType {
    return this.node.dtype;
  }

  get rank(): number {
    return this.node.shape.length;
  }

  /** Number of elements: a number, or a symbolic size (`784*batch`) when a dim is symbolic. */
  get size(): Dim {
    return sizeOf(this.node.shape);
  }

  /** The user's name for inputs, params and state. */
  get name(): string | undefined {
    return this.node.name;
  }

  // Each method below is the functional form of the same name (see compiler/ops/*),
  // so `x.add(y)` and `add(x, y)` build the same node.

  // elementwise unary
  neg(): Tensor { return unary.neg(this); }
  abs(): Tensor { return unary.abs(this); }
  sign(): Tensor { return unary.sign(this); }
  square(): Tensor { return unary.square(this); }
  exp(): Tensor { return unary.exp(this); }
  log(): Tensor { return unary.log(this); }
  log1p(): Tensor { return unary.log1p(this); }
  expm1(): Tensor { return unary.expm1(this); }
  sqrt(): Tensor { return unary.sqrt(this); }
  rsqrt(): Tensor { return unary.rsqrt(this); }
  reciprocal(): Tensor { return unary.reciprocal(this); }
  sin(): Tensor { return unary.sin(this); }
  cos(): Tensor { return unary.cos(this); }
  atan(): Tensor { return unary.atan(this); }
  tanh(): Tensor { return unary.tanh(this); }
  sigmoid(): Tensor { return unary.sigmoid(this); }
  relu(): Tensor { return unary.relu(this); }
  leakyRelu(alpha?: number): Tensor { return unary.leakyRelu(this, alpha); }
  elu(alpha?: number): Tensor { return unary.elu(this, alpha); }
  gelu(options?: { approximate?: GeluApproximation }): Tensor { return unary.gelu(this, options); }
  softplus(): Tensor { return unary.softplus(this); }
  floor(): Tensor { return unary.floor(this); }
  ceil(): Tensor { return unary.ceil(this); }
  round(): Tensor { return unary.round(this); }
  clip(min: number | null, max: number | null): Tensor { return unary.clip(this, min, max); }
  cast(dtype: DType): Tensor { return cast(this, dtype); }
  erf(): Tensor { return unary.erf(this); }
  /** This value, through which no gradient flows. */
  stopGradient(): Tensor { return stopGradient(this); }

  // elementwise binary (numbers are lifted to the tensor's dtype)
  add(other: TensorLike): Tensor { return binary.add(this, other); }
  sub(other: TensorLike): Tensor { return binary.sub(this, other); }
  mul(other: TensorLike): Tensor { return binary.mul(this, other); }
  div(other: TensorLike): Tensor { return binary.div(this, other); }
  pow(other: TensorLike): Tensor { return binary.pow(this, other); }
  maximum(other: TensorLike): Tensor { return binary.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return binary.minimum(this, other); }
  equal(other: TensorLike): Tensor { return binary.equal(this, other); }
  notEqual(other: TensorLike): Tensor { return binary.notEqual(this, other); }
  less(other: TensorLike): Tensor { return binary.less(this, other); }
  lessEqual(other: TensorLike): Tensor { return binary.lessEqual(this, other); }
  greater(other: TensorLike): Tensor { return binary.greater(this, other); }
  greaterEqual(other: TensorLike): Tensor { return binary.greaterEqual(this, other); }
  logicalAnd(other: TensorLike): Tensor { return binary.logicalAnd(this, other); }
  logicalOr(other: TensorLike): Tensor { return binary.logicalOr(this, other); }
  logicalXor(other: TensorLike): Tensor { return binary.logicalXor(this, other); }
  logicalNot(): Tensor { return binary.logicalNot(this); }
  /** `this` where `condition` holds, else `otherwise`. */
  where(condition: Tensor, otherwise: TensorLike): Tensor { return binary.where(condition, this, otherwise); }

  // reductions
  sum(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.sum(this, axes, keepdims); }
  mean(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.mean(this, axes, keepdims); }
  max(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.max(this, axes, keepdims); }
  min(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.min(this, axes, keepdims); }
  prod(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.prod(this, axes, keepdims); }
  logsumexp(axes?: number | readonly number[], keepdims?: boolean): Tensor { return reduce.logsumexp(this, axes, keepdims); }
  argmax(axis?: number, keepdims?: boolean): Tensor { return reduce.argmax(this, axis, keepdims); }
  argmin(axis?: number, keepdims?: boolean): Tensor { return reduce.argmin(this, axis, keepdims); }

  // linear algebra and layout
  matmul(other: Tensor, options?: MatmulOptions): Tensor { return matmul(this, other, options); }
  reshape(newShape: readonly DimLike[]): Tensor { return shape.reshape(this, newShape); }
  transpose(perm?: readonly number[]): Tensor { return shape.transpose(this, perm); }
  permute(perm: readonly number[]): Tensor { return shape.permute(this, perm); }
  broadcastTo(newShape: readonly DimLike[]): Tensor { return shape.broadcastTo(this, newShape); }
  expand(newShape: readonly DimLike[]): Tensor { return shape.expand(this, newShape); }
  squeeze(axes?: number | readonly number[]): Tensor { return shape.squeeze(this, axes); }
  unsqueeze(axes: number | readonly number[]): Tensor { return shape.unsqueeze(this, axes); }
  slice(spec: readonly SliceAxis[]): Tensor { return slice(this, spec); }
  split(sizesOrCount: number | readonly number[], axis?: number): Tensor[] { return split(this, sizesOrCount, axis); }
  pad(pads: readonly (readonly [number, number])[], value?: number): Tensor { return pad(this, pads, value); }
  gather(indices: Tensor, axis?: number): Tensor { return gather(this, indices, axis); }
  /** Adds these updates into zeros of length `size` along `axis`, at `indices` (the transpose of gather). */
  scatterAdd(indices: Tensor, axis: number, size: Dim): Tensor { return scatterAdd(this, indices, axis, size); }

  // neural-network composites
  softmax(axis?: number): Tensor { return nn.softmax(this, axis); }
  logSoftmax(axis?: number): Tensor { return nn.logSoftmax(this, axis); }
  oneHot(depth: number, options?: OneHotOptions): Tensor { return nn.oneHot(this, depth, options); }
  /** Softmax cross-entropy of these logits against i32 class labels. */
  softmaxCrossEntropy(labels: Tensor, options?: LossOptions): Tensor { return nn.softmaxCrossEntropy(this, labels, options); }
  mse(target: Tensor, options?: LossOptions): Tensor { return nn.mse(this, target, options); }

  // convolutions of [N, C_in, spatial…] with a weight (no bias: add it after)
  conv1d(w: Tensor, options?: ConvOptions): Tensor { return conv.conv1d(this, w, options); }
  conv2d(w: Tensor, options?: ConvOptions): Tensor { return conv.conv2d(this, w, options); }
  convTranspose1d(w: Tensor, options?: ConvTransposeOptions): Tensor { return conv.convTranspose1d(this, w, options); }
  convTranspose2d(w: Tensor, options?: ConvTransposeOptions): Tensor { return conv.convTranspose2d(this, w, options); }

  // normalization and dropout (batch norm and dropout differ between trainStep and forward)
  layerNorm(options?: LayerNormOptions): Tensor { return norm.layerNorm(this, options); }
  rmsNorm(options?: RmsNormOptions): Tensor { return norm.rmsNorm(this, options); }
  batchNorm(options: BatchNormOptions): Tensor { return norm.batchNorm(this, options); }
  dropout(rate: number, options?: DropoutOptions): Tensor { return dropout(this, rate, options); }

  // pooling over the spatial axes of [N, C, spatial…]
  maxPool1d(options: PoolOptions): Tensor { return pool.maxPool1d(this, options); }
  maxPool2d(options: PoolOptions): Tensor { return pool.maxPool2d(this, options); }
  maxPool3d(options: PoolOptions): Tensor { return pool.maxPool3d(this, options); }
  avgPool1d(options: AvgPoolOptions): Tensor { return pool.avgPool1d(this, options); }
  avgPool2d(options: AvgPoolOptions): Tensor { return pool.avgPool2d(this, options); }
  avgPool3d(options: AvgPoolOptions): Tensor { return pool.avgPool3d(this, options); }
  globalAvgPool(): Tensor { return pool.globalAvgPool(this); }
  globalMaxPool(): Tensor { return pool.globalMaxPool(this); }

  // sequences and attention
  cumsum(axis: number, options?: CumsumOptions): Tensor { return cumsum(this, axis, options); }
  tril(k?: number): Tensor { return tril(this, k); }
  triu(k?: number): Tensor { return triu(this, k); }
  /** Scaled dot-product attention with these queries: softmax(scale·q·kᵀ + masks)·v. */
  attention(k: Tensor, v: Tensor, options?: AttentionOptions): Tensor { return attention(this, k, v, options); }

  toString(): string {
    return `${this.node.name ?? `%${this.id}`}:${formatType(this.node)}`;
  }
}
