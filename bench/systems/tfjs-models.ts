/**
 * The LeNet-style CNN and the transformer block in TensorFlow.js, written by hand from the
 * shared descriptions (bench/workloads.ts) and weights (kiln's names and layouts).
 *
 * TF.js convolves NHWC with filters [kH, kW, in, out], so LeNet's weights are transposed
 * once when the variables are made: conv filters from [out, in, kH, kW], and fc1's rows
 * from kiln's NCHW flattening order (c, h, w) to NHWC's (h, w, c), so the same weights
 * see the same features. The images need nothing: with one channel, NCHW and NHWC are
 * the same bytes.
 */

import * as tf from '@tensorflow/tfjs';
import type { BenchData } from '../data-format.js';
import { BLOCK, BLOCK_LINEARS, BLOCK_NORMS, LENET, LENET_CONVS, LENET_DENSES } from '../workloads.js';

type Variables = Readonly<Record<string, tf.Variable>>;

/** LeNet's feature map before flattening, [channels, height, width] in kiln's NCHW order. */
const LENET_FEATURES = [16, 4, 4] as const;

export function lenetVariables(data: BenchData): Variables {
  const params = data.params.lenet;
  return tf.tidy(() => {
    const variables: Record<string, tf.Variable> = {};
    for (const conv of LENET_CONVS) {
      const filter = tf.tensor4d(params[`${conv.name}.w`]!, [conv.out, conv.in, conv.kernel, conv.kernel]);
      variables[`${conv.name}.w`] = tf.variable(tf.transpose(filter, [2, 3, 1, 0]));
      variables[`${conv.name}.b`] = tf.variable(tf.tensor1d(params[`${conv.name}.b`]!));
    }
    for (const dense of LENET_DENSES) {
      let weights: tf.Tensor = tf.tensor2d(params[`${dense.name}.w`]!, [dense.in, dense.out]);
      if (dense.name === 'fc1') weights = tf.reshape(tf.transpose(tf.reshape(weights, [...LENET_FEATURES, dense.out]), [1, 2, 0, 3]), [dense.in, dense.out]);
      variables[`${dense.name}.w`] = tf.variable(weights);
      variables[`${dense.name}.b`] = tf.variable(tf.tensor1d(params[`${dense.name}.b`]!));
    }
    return variables;
  });
}

/** Logits [batch, 10] of images [batch, 28, 28, 1]. */
export function lenetForward(v: Variables, images: tf.Tensor4D): tf.Tensor2D {
  let x: tf.Tensor4D = images;
  for (const conv of LENET_CONVS) {
    const z: tf.Tensor4D = tf.add(tf.conv2d(x, v[`${conv.name}.w`] as tf.Tensor4D, 1, 'valid'), v[`${conv.name}.b`]!);
    x = tf.maxPool(tf.relu(z), 2, 2, 'valid');
  }
  let h: tf.Tensor2D = tf.reshape(x, [LENET.batch, LENET_DENSES[0].in]);
  LENET_DENSES.forEach((dense, i) => {
    h = tf.add(tf.matMul(h, v[`${dense.name}.w`] as tf.Tensor2D), v[`${dense.name}.b`]!);
    if (i < LENET_DENSES.length - 1) h = tf.relu(h);
  });
  return h;
}

export function blockVariables(data: BenchData): Variables {
  const params = data.params.block;
  const variables: Record<string, tf.Variable> = {};
  for (const linear of BLOCK_LINEARS) {
    variables[`${linear.name}.w`] = tf.variable(tf.tensor2d(params[`${linear.name}.w`]!, [linear.in, linear.out]));
    variables[`${linear.name}.b`] = tf.variable(tf.tensor1d(params[`${linear.name}.b`]!));
  }
  for (const norm of BLOCK_NORMS) {
    for (const part of ['gamma', 'beta']) variables[`${norm}.${part}`] = tf.variable(tf.tensor1d(params[`${norm}.${part}`]!));
  }
  return variables;
}

/** The causal mask as an additive bias [context, context]: 0 where query i may attend key j ≤ i, −1e9 (exp gives 0) above the diagonal. */
export function causalBias(): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([BLOCK.context, BLOCK.context]), -1, 0)), -1e9) as tf.Tensor2D);
}

/** The block's output [batch·context, width] for x of the same shape. */
export function blockForward(v: Variables, causal: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  const { batch, context, width, heads, epsilon } = BLOCK;
  const headWidth = width / heads;
  const linear = (name: string, t: tf.Tensor2D): tf.Tensor2D => tf.add(tf.matMul(t, v[`${name}.w`] as tf.Tensor2D), v[`${name}.b`]!);
  const norm = (name: string, t: tf.Tensor2D): tf.Tensor2D => {
    const { mean, variance } = tf.moments(t, -1, true);
    const standardized = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(standardized, v[`${name}.gamma`]!), v[`${name}.beta`]!);
  };
  const splitHeads = (t: tf.Tensor2D): tf.Tensor4D => tf.transpose(tf.reshape(t, [batch, context, heads, headWidth]), [0, 2, 1, 3]);
  const joinHeads = (t: tf.Tensor4D): tf.Tensor2D => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [batch * context, width]);
  // GELU's exact (erf) form, as kiln's gelu.
  const gelu = (t: tf.Tensor2D): tf.Tensor2D => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));

  const normed = norm('norm1', x);
  const [q, k, values] = ['q', 'k', 'v'].map((name) => splitHeads(linear(name, normed)));
  const scores = tf.add(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(headWidth)), causal);
  const h: tf.Tensor2D = tf.add(x, linear('proj', joinHeads(tf.matMul(tf.softmax(scores), values!))));
  return tf.add(h, linear('down', gelu(linear('up', norm('norm2', h)))));
}
