/**
 * A LeNet-style CNN for 28×28 images: conv 5×5×6 → ReLU → max-pool 2 → conv 5×5×16 →
 * ReLU → max-pool 2 → dense 120 → ReLU → 84 → ReLU → 10, softmax cross-entropy.
 * Convolutions are unpadded (28 → 24 → 12 → 8 → 4), so the first dense layer sees
 * 16·4·4 = 256 features. PyTorch's default initialization (U(±1/√fanIn)) throughout.
 * Used by the CNN example and the benchmarks, so both measure the same model.
 */

import { Graph, adam, sgd, trainingProgram } from '../../index.js';
import type { Tensor, TrainingProgram } from '../../index.js';

export interface LeNetOptions {
  batch: number;
  /** Graph seed for the initializers. Default 0. */
  seed?: number;
  /** The learning rate; Adam by default, SGD with momentum when `momentum` > 0. */
  lr?: number;
  momentum?: number;
  /** With Adam: decay the rate along a cosine to 5% of `lr` over this many steps. */
  totalSteps?: number;
}

export function leNet(options: LeNetOptions): TrainingProgram {
  const g = new Graph('lenet', { seed: options.seed ?? 0 });
  const images = g.input('images', [options.batch, 1, 28, 28]);
  const labels = g.input('labels', [options.batch], 'i32');
  const conv = (name: string, x: Tensor, channels: number): Tensor => {
    const w = g.param(`${name}.w`, [channels, x.shape[1]!, 5, 5], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [channels, 1, 1], { init: { kind: 'linearDefault', fanIn: x.shape[1]! * 25 } });
    return x.conv2d(w).add(b).relu().maxPool2d({ kernelSize: 2 });
  };
  const dense = (name: string, x: Tensor, units: number): Tensor => {
    const fanIn = x.shape[1]!;
    const w = g.param(`${name}.w`, [fanIn, units], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [units], { init: { kind: 'linearDefault', fanIn } });
    return x.matmul(w).add(b);
  };
  const features = conv('conv2', conv('conv1', images, 6), 16).reshape([options.batch, 256]);
  const logits = dense('fc3', dense('fc2', dense('fc1', features, 120).relu(), 84).relu(), 10);
  g.output('logits', logits);
  const lr = options.lr ?? 1e-3;
  const momentum = options.momentum ?? 0;
  const schedule = options.totalSteps ? { kind: 'cosine' as const, lr, totalSteps: options.totalSteps, minLr: lr / 20 } : lr;
  const optimizer = momentum > 0 ? sgd({ lr, momentum }) : adam({ lr: schedule });
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer });
}
