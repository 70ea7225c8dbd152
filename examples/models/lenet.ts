/**
 * A LeNet-style CNN for 28×28 images: conv 5×5×6 → ReLU → max-pool 2 → conv 5×5×16 →
 * ReLU → max-pool 2 → dense 120 → ReLU → 84 → ReLU → 10, softmax cross-entropy.
 * Convolutions are unpadded (28 → 24 → 12 → 8 → 4), so the first dense layer sees
 * 16·4·4 = 256 features. PyTorch's default initialization (U(±1/√fanIn)) throughout.
 * Used by the CNN example and the benchmarks, so both measure the same model.
 */

import { Graph, adam, nn, sgd, trainingProgram } from '../../index.js';
import type { Tensor, TrainingProgram } from '../../index.js';

export interface LeNetOptions {
  /** Rows per step: a size, or a dim name (`'batch'`) for one plan that runs any batch size. */
  batch: number | string;
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
  const pool = (x: Tensor): Tensor => x.relu().maxPool2d({ kernelSize: 2 });
  const model = nn.sequential(
    nn.conv2d(g, 'conv1', 1, 6, 5),
    pool,
    nn.conv2d(g, 'conv2', 6, 16, 5),
    pool,
    nn.flatten,
    nn.linear(g, 'fc1', 256, 120),
    nn.relu,
    nn.linear(g, 'fc2', 120, 84),
    nn.relu,
    nn.linear(g, 'fc3', 84, 10),
  );
  const logits = model(images);
  g.output('logits', logits);
  const lr = options.lr ?? 1e-3;
  const momentum = options.momentum ?? 0;
  const schedule = options.totalSteps ? { kind: 'cosine' as const, lr, totalSteps: options.totalSteps, minLr: lr / 20 } : lr;
  const optimizer = momentum > 0 ? sgd({ lr, momentum }) : adam({ lr: schedule });
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer });
}
