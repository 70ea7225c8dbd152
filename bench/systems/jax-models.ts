/**
 * The LeNet-style CNN and the transformer block in jax-js, written by hand from the shared
 * descriptions (bench/workloads.ts), in kiln's layouts: `lax.conv` takes NCHW inputs and
 * [out, in, kH, kW] kernels as kiln does, and `nn.dotProductAttention` takes
 * [batch, context, heads, headWidth], which is the linear layers' output reshaped. Each
 * function consumes its arguments (jax-js's ownership rule): an array used twice is
 * passed as `.ref` first.
 */

import { lax, nn, numpy as np } from '@jax-js/jax';
import { BLOCK, BLOCK_NORMS, LENET, LENET_CONVS, LENET_DENSES } from '../workloads.js';

export type Params = { [name: string]: np.Array };

/** Mean softmax cross-entropy of the logits against integer labels. */
export function crossEntropy(logits: np.Array, labels: np.Array, classes: number): np.Array {
  return np.mean(np.sum(nn.logSoftmax(logits).mul(nn.oneHot(labels, classes)), -1)).neg();
}

/** LeNet's mean cross-entropy on images [batch, 1, 28, 28]. */
export function lenetLoss(params: Params, images: np.Array, labels: np.Array): np.Array {
  let x = images;
  for (const conv of LENET_CONVS) {
    const z = lax.conv(x, params[`${conv.name}.w`]!, [1, 1], 'VALID').add(params[`${conv.name}.b`]!);
    x = lax.reduceWindow(nn.relu(z), (window) => np.max(window), [2, 2], [2, 2]);
  }
  x = x.reshape([LENET.batch, LENET_DENSES[0].in]);
  LENET_DENSES.forEach((dense, i) => {
    x = np.matmul(x, params[`${dense.name}.w`]!).add(params[`${dense.name}.b`]!);
    if (i < LENET_DENSES.length - 1) x = nn.relu(x);
  });
  return crossEntropy(x, labels, LENET.classes);
}

/** The block's loss mean(y²) for x [batch·context, width]. */
export function blockLoss(params: Params, x: np.Array): np.Array {
  const { batch, context, width, heads, epsilon } = BLOCK;
  const linear = (name: string, t: np.Array): np.Array => np.matmul(t, params[`${name}.w`]!).add(params[`${name}.b`]!);
  const norm = (name: (typeof BLOCK_NORMS)[number], t: np.Array): np.Array => {
    const deviation = t.ref.sub(np.mean(t, -1, { keepdims: true }));
    const variance = np.mean(np.square(deviation.ref), -1, { keepdims: true });
    return deviation.div(np.sqrt(variance.add(epsilon))).mul(params[`${name}.gamma`]!).add(params[`${name}.beta`]!);
  };
  const splitHeads = (t: np.Array): np.Array => t.reshape([batch, context, heads, width / heads]);

  const normed = norm('norm1', x.ref);
  const [q, k, v] = [linear('q', normed.ref), linear('k', normed.ref), linear('v', normed)].map(splitHeads);
  const attended = nn.dotProductAttention(q!, k!, v!, { isCausal: true }).reshape([batch * context, width]);
  const h = x.add(linear('proj', attended));
  // GELU's exact (erf) form, as kiln's gelu.
  const y = h.ref.add(linear('down', nn.gelu(linear('up', norm('norm2', h)), { approximate: false })));
  return np.mean(np.square(y));
}
