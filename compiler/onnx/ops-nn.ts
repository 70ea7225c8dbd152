/**
 * ONNX neural-network ops: MatMul, Gemm, Softmax/LogSoftmax/Hardmax (before opset 13
 * they work on the input flattened to 2-D at `axis`), the normalizations in inference
 * form (BatchNormalization, InstanceNormalization, LayerNormalization,
 * MeanVarianceNormalization, LRN) and Dropout (the identity at inference).
 */

import { dimProduct } from '../dims.js';
import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext, OpHandler } from './handler.js';
import { registerHandlers } from './handler.js';
import { axisOf } from './ops-shape.js';


/**
 * Softmax-like ops. From opset 13 they act on one axis (default -1); before it, on the
 * input flattened to [outer, inner] at `axis` (default 1), each row of `inner` values.
 */
function rowwise(apply: (x: Tensor, axis: number, n: NodeContext) => Tensor): OpHandler {
  return {
    attributes: ['axis'],
    convert: (n) => {
      const x = n.input(0);
      if (n.opset >= 13) return apply(x, axisOf(n, n.int('axis', -1), x.rank), n);
      const axis = n.int('axis', 1);
      const a = axis < 0 ? axis + x.rank : axis;
      if (a < 0 || a > x.rank) throw n.invalid(`axis ${axis} is out of range for rank ${x.rank}`);
      return apply(x.reshape([dimProduct(x.shape.slice(0, a)), dimProduct(x.shape.slice(a))]), 1, n).reshape(x.shape);
    },
  };
}

/** 1 at the first maximum of each slice along `axis`, 0 elsewhere. */
function hardmax(x: Tensor, axis: number, n: NodeContext): Tensor {
  return x.argmax(axis, false).oneHot(n.staticDim(x.shape[axis]!, 'Hardmax one-hot encodes along its axis'), { axis, dtype: x.dtype });
}

function gemm(n: NodeContext): Tensor {
  const alpha = n.float('alpha', 1);
  const beta = n.float('beta', 1);
  let y = k.matmul(n.input(0), n.input(1), { transposeA: n.int('transA', 0) === 1, transposeB: n.int('transB', 0) === 1 });
  if (alpha !== 1) y = y.mul(alpha);
  const c = n.optionalInput(2);
  if (c && beta !== 0) y = y.add(beta === 1 ? c : c.mul(beta));
  return y;
}

/** A per-channel vector [C] shaped to broadcast against x [N, C, ...]. */
function perChannel(v: Tensor, x: Tensor): Tensor {
  return v.reshape([v.size, ...x.shape.slice(2).map(() => 1)]);
}

function batchNormalization(n: NodeContext): Tensor {
  if (n.int('training_mode', 0) === 1) throw n.unsupported('training_mode = 1 (batch statistics); kiln imports BatchNormalization for inference');
  const x = n.input(0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => perChannel(n.input(i), x)) as [Tensor, Tensor, Tensor, Tensor];
  const factor = scale.div(variance.add(n.float('epsilon', 1e-5)).sqrt());
  return x.sub(mean).mul(factor).add(bias);
}

function instanceNormalization(n: NodeContext): Tensor {
  const x = n.input(0);
  const axes = x.shape.slice(2).map((_, i) => i + 2);
  return x.layerNorm({ axes, epsilon: n.float('epsilon', 1e-5) }).mul(perChannel(n.input(1), x)).add(perChannel(n.input(2), x));
}

/** LayerNormalization: Y, and on request the Mean and InvStdDev it used (kept as size-1 axes). */
function layerNormalization(n: NodeContext): (Tensor | undefined)[] {
  const x = n.input(0);
  const axis = axisOf(n, n.int('axis', -1), x.rank);
  const axes = x.shape.slice(axis).map((_, i) => axis + i);
  const epsilon = n.float('epsilon', 1e-5);
  if (n.int('stash_type', 1) !== 1) throw n.unsupported('stash_type other than 1 (float)');
  const scale = n.input(1);
  const bias = n.optionalInput(2);
  const exactShape = (t: Tensor | undefined): boolean => !t || t.shape.join() === x.shape.slice(axis).join();
  let y: Tensor;
  if (exactShape(scale) && exactShape(bias)) {
    y = x.layerNorm({ axes, epsilon, gamma: scale, ...(bias ? { beta: bias } : {}) });
  } else {
    y = x.layerNorm({ axes, epsilon }).mul(scale);
    if (bias) y = y.add(bias);
  }
  const mean = x.mean(axes, true);
  const wantsStatistics = n.wantsOutput(1) || n.wantsOutput(2);
  const invStdDev = wantsStatistics ? x.sub(mean).square().mean(axes, true).add(epsilon).rsqrt() : undefined;
  return [y, wantsStatistics ? mean : undefined, invStdDev];
}

function meanVarianceNormalization(n: NodeContext): Tensor {
  const x = n.input(0);
  const axes = (n.ints('axes') ?? [0, 2, 3]).map((a) => axisOf(n, a, x.rank));
  const centered = x.sub(x.mean(axes, true));
  return centered.div(centered.square().mean(axes, true).sqrt().add(1e-9));
}

/** LRN across channels: x / (bias + alpha/size · Σ x² over the channel window)^beta. */
function lrn(n: NodeContext): Tensor {
  const x = n.input(0);
  const size = n.int('size', 0);
  const [alpha, beta, bias] = [n.float('alpha', 1e-4), n.float('beta', 0.75), n.float('bias', 1)];
  const channels = n.staticDim(x.shape[1]!, 'LRN slides a window along the channels');
  const below = Math.floor((size - 1) / 2);
  const padded = x.square().pad(x.shape.map((_, a): [number, number] => (a === 1 ? [below, size - 1 - below] : [0, 0])));
  const windows = Array.from({ length: size }, (_, i) => padded.slice(x.shape.map((_, a) => (a === 1 ? [i, i + channels] : null))));
  const sum = windows.slice(1).reduce((s, w) => s.add(w), windows[0]!);
  return x.div(sum.mul(alpha / size).add(bias).pow(beta));
}

function dropout(n: NodeContext): Tensor[] {
  const training = n.opset >= 12 ? n.optionalScalar(2, 'training_mode') ?? 0 : 0;
  if (training !== 0) throw n.unsupported('training_mode = true (random masks); kiln imports Dropout for inference, where it is the identity');
  const x = n.input(0);
  return [x, n.graph.constant(1, { dtype: 'bool', shape: x.shape })];
}

registerHandlers({
  MatMul: { convert: (n) => k.matmul(n.input(0), n.input(1)) },
  Gemm: { attributes: ['alpha', 'beta', 'transA', 'transB'], convert: gemm },
  Softmax: rowwise((x, axis) => x.softmax(axis)),
  LogSoftmax: rowwise((x, axis) => x.logSoftmax(axis)),
  Hardmax: rowwise(hardmax),
  BatchNormalization: { attributes: ['epsilon', 'momentum', 'training_mode'], convert: batchNormalization },
  InstanceNormalization: { attributes: ['epsilon'], convert: instanceNormalization },
  LayerNormalization: { attributes: ['axis', 'epsilon', 'stash_type'], convert: layerNormalization },
  MeanVarianceNormalization: { attributes: ['axes'], convert: meanVarianceNormalization },
  LRN: { attributes: ['size', 'alpha', 'beta', 'bias'], convert: lrn },
  Dropout: { attributes: ['ratio', 'seed'], convert: dropout },
});
