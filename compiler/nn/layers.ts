/**
 * Layers with PyTorch's constructor arguments, names and initializers: each call creates
 * its params (named under the open scope, see scope.ts) and returns the layer, a function
 * of a tensor with its params as fields. `linear(g, 'fc1', 784, 128)` is PyTorch's
 * `fc1 = nn.Linear(784, 128)`; `fc1(x)` applies it.
 *
 * One layout differs from PyTorch's, on purpose: a linear layer's weight is kiln's dense
 * kernel `[in, out]` (used as x·W), named `kernel` as in Keras, where PyTorch stores
 * `weight` `[out, in]`. The weight gradient xᵀ·g then shares one kernel with the bias
 * gradient (sibling fusion); stored `[out, in]`, the seed MLP's training step takes 13
 * dispatches instead of 10. torch-state-dict.ts transposes when loading or saving
 * PyTorch's files, and the different name keeps a kiln kernel from loading silently
 * transposed into PyTorch. A convolution's bias is `[out, 1, 1]`, PyTorch's `[out]` with
 * unit axes that broadcast it over NCHW (the state_dict functions add and drop them).
 * Other params are PyTorch's layouts and names.
 */

import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { checkKeys, checkNumber } from '../ops/args.js';
import type { ConvOptions } from '../ops/conv-shape.js';
import { conv1d as convolve1d, conv2d as convolve2d } from '../ops/conv.js';
import { embedding as lookup } from '../ops/layers.js';
import { requireTensor } from '../ops/lift.js';
import { checkScopeName, inLayer, scopedName } from './scope.js';

/** A layer: a function of one tensor. Layers made by `nn` also carry their params as fields. */
export type Layer = (x: Tensor) => Tensor;

/** What a layer constructor checks first: the graph, the layer's name (scoped) and positive sizes. */
export function layerName(where: string, graph: Graph, name: string, sizes: Readonly<Record<string, number>>): string {
  requireGraph(where, graph);
  checkScopeName(where, name);
  for (const [key, value] of Object.entries(sizes)) checkNumber(where, key, value, { min: 1, integer: true });
  return scopedName(graph, name);
}

function flag(where: string, key: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new ArgumentError(`${where}: ${key} must be a boolean, got ${String(value)}.`);
  return value;
}

export interface LinearOptions {
  /** Whether the layer adds a bias (default true, as PyTorch). */
  bias?: boolean;
}

export interface Linear extends Layer {
  /** The weight, `[in, out]`: `name.kernel` (PyTorch's `name.weight` transposed). */
  readonly kernel: Tensor;
  /** `[out]`: `name.bias`, absent with `bias: false`. */
  readonly bias?: Tensor;
}

/**
 * A fully connected layer, x·kernel + bias, over the last axis of x (leading axes are
 * batch axes): PyTorch's `nn.Linear(inFeatures, outFeatures)` and Keras's `Dense`. Both
 * params start as PyTorch's do: U(±1/√inFeatures).
 */
export function linear(graph: Graph, name: string, inFeatures: number, outFeatures: number, options: LinearOptions = {}): Linear {
  const path = layerName('nn.linear', graph, name, { inFeatures, outFeatures });
  checkKeys('nn.linear', options, ['bias']);
  const withBias = flag('nn.linear', 'bias', options.bias);
  const { kernel, bias } = inLayer(graph, path, () =>
    graph.atomically(() => ({
      kernel: graph.param(`${path}.kernel`, [inFeatures, outFeatures], { init: 'linearDefault' }),
      bias: withBias ? graph.param(`${path}.bias`, [outFeatures], { init: { kind: 'linearDefault', fanIn: inFeatures } }) : undefined,
    })),
  );
  const apply = (x: Tensor): Tensor => {
    requireTensor(`nn.linear '${path}'`, x);
    return inLayer(graph, path, () => {
      // A 2-D product keeps the weight gradient one matrix product (and its bias gradient beside it).
      const rows = x.rank > 2 ? x.reshape([-1, x.shape[x.rank - 1]!]) : x;
      const product = rows.matmul(kernel);
      const y = bias ? product.add(bias) : product;
      return x.rank > 2 ? y.reshape([...x.shape.slice(0, -1), outFeatures]) : y;
    });
  };
  return Object.assign(apply, { kernel, ...(bias ? { bias } : {}) });
}

export type ConvLayerOptions = ConvOptions & LinearOptions;

export interface Conv extends Layer {
  /** `[out, in/groups, ...kernel]`, PyTorch's layout: `name.weight`. */
  readonly weight: Tensor;
  /** `[out, 1, 1]` (`[out, 1]` in 1-D), so it broadcasts over the output: `name.bias`, PyTorch's `[out]` reshaped. */
  readonly bias?: Tensor;
}

function conv(rank: 1 | 2, graph: Graph, name: string, inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions): Conv {
  const where = `nn.conv${rank}d`;
  const path = layerName(where, graph, name, { inChannels, outChannels });
  checkKeys(where, options, ['stride', 'padding', 'dilation', 'groups', 'bias']);
  const kernel: unknown[] = typeof kernelSize === 'number' ? new Array<number>(rank).fill(kernelSize) : Array.isArray(kernelSize) ? [...(kernelSize as unknown[])] : [kernelSize];
  if (kernel.length !== rank) throw new ArgumentError(`${where}: kernelSize must be a number or ${rank} numbers, got [${kernel.join(', ')}].`);
  kernel.forEach((k) => checkNumber(where, 'kernelSize', k, { min: 1, integer: true }));
  const groups = checkNumber(where, 'groups', options.groups ?? 1, { min: 1, integer: true });
  const withBias = flag(where, 'bias', options.bias);
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ArgumentError(`${where} '${path}': groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}.`);
  }
  const convOptions: ConvOptions = { ...options };
  delete (convOptions as LinearOptions).bias;
  const sizes = kernel as number[];
  const fanIn = (inChannels / groups) * sizes.reduce((a, b) => a * b, 1);
  const { weight, bias } = inLayer(graph, path, () =>
    graph.atomically(() => ({
      weight: graph.param(`${path}.weight`, [outChannels, inChannels / groups, ...sizes], { init: 'linearDefault' }),
      // [C, 1, 1] broadcasts over NCHW as stored: a reshape of a [C] bias would keep its optimizer update out of the gradient's kernel.
      bias: withBias ? graph.param(`${path}.bias`, [outChannels, ...new Array<number>(rank).fill(1)], { init: { kind: 'linearDefault', fanIn } }) : undefined,
    })),
  );
  const apply = (x: Tensor): Tensor =>
    inLayer(graph, path, () => {
      const y = (rank === 1 ? convolve1d : convolve2d)(x, weight, convOptions);
      return bias ? y.add(bias) : y;
    });
  return Object.assign(apply, { weight, ...(bias ? { bias } : {}) });
}

/** PyTorch's `nn.Conv2d(inChannels, outChannels, kernelSize)` over NCHW input; options stride, padding, dilation, groups, bias. */
export function conv2d(graph: Graph, name: string, inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}): Conv {
  return conv(2, graph, name, inChannels, outChannels, kernelSize, options);
}

/** PyTorch's `nn.Conv1d(inChannels, outChannels, kernelSize)` over [N, C, L] input; options as conv2d's. */
export function conv1d(graph: Graph, name: string, inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}): Conv {
  return conv(1, graph, name, inChannels, outChannels, kernelSize, options);
}

export interface EmbeddingOptions {
  /** Std of the normal the table starts from. Default 1 (PyTorch's N(0, 1)); GPT-style models use 0.02. */
  std?: number;
}

export interface Embedding extends Layer {
  /** `[vocab, dim]`: `name.weight`. */
  readonly weight: Tensor;
}

/** PyTorch's `nn.Embedding(vocab, dim)`: looks up rows of `name.weight` at i32 ids of any shape. */
export function embedding(graph: Graph, name: string, vocab: number, dim: number, options: EmbeddingOptions = {}): Embedding {
  const path = layerName('nn.embedding', graph, name, { vocab, dim });
  checkKeys('nn.embedding', options, ['std']);
  const std = checkNumber('nn.embedding', 'std', options.std ?? 1, { min: 0, minExclusive: true });
  const weight = inLayer(graph, path, () => graph.param(`${path}.weight`, [vocab, dim], { init: { kind: 'normal', std } }));
  return Object.assign((ids: Tensor) => inLayer(graph, path, () => lookup(weight, ids)), { weight });
}
