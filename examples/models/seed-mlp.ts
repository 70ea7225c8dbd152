/**
 * The seed model: an MLP for 28×28 images (784→128→ReLU→64→ReLU→10) with softmax
 * cross-entropy, trained by SGD with momentum (PyTorch semantics). Weights and biases use
 * PyTorch's nn.Linear default initialization. Used by `npm start`, the benchmarks and
 * the GPU tests, so they all measure the same model.
 */

import { Graph, nn, sgd, trainingProgram } from '../../index.js';
import type { TrainingProgram } from '../../index.js';

export interface SeedMlpOptions {
  /** Rows per step: a size, or a dim name (`'batch'`) for one plan that runs any batch size. */
  batch: number | string;
  /** Graph seed for the initializers. Default 0. */
  seed?: number;
  /** SGD learning rate and momentum. Defaults 0.01 and 0.9. */
  lr?: number;
  momentum?: number;
}

export function seedMlp(options: SeedMlpOptions): TrainingProgram {
  const g = new Graph('seed_mlp', { seed: options.seed ?? 0 });
  const images = g.input('images', [options.batch, 784]);
  const labels = g.input('labels', [options.batch], 'i32');
  const mlp = nn.sequential(nn.linear(g, 'fc1', 784, 128), nn.relu, nn.linear(g, 'fc2', 128, 64), nn.relu, nn.linear(g, 'fc3', 64, 10));
  const logits = mlp(images);
  g.output('logits', logits);
  const optimizer = sgd({ lr: options.lr ?? 0.01, momentum: options.momentum ?? 0.9 });
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer });
}
