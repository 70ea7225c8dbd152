/**
 * The seed model: an MLP for 28×28 images (784→128→ReLU→64→ReLU→10) with softmax
 * cross-entropy, trained by SGD with momentum (PyTorch semantics). Weights and biases use
 * PyTorch's nn.Linear default initialization. Used by `npm start`, the benchmarks and
 * the GPU tests, so they all measure the same model.
 */

import { Graph, sgd, trainingProgram } from '../../index.js';
import type { Tensor, TrainingProgram } from '../../index.js';

export interface SeedMlpOptions {
  batch: number;
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
  const dense = (name: string, x: Tensor, units: number): Tensor => {
    const fanIn = x.shape[1]!;
    const w = g.param(`${name}.w`, [fanIn, units], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [units], { init: { kind: 'linearDefault', fanIn } });
    return x.matmul(w).add(b);
  };
  const logits = dense('fc3', dense('fc2', dense('fc1', images, 128).relu(), 64).relu(), 10);
  g.output('logits', logits);
  const optimizer = sgd({ lr: options.lr ?? 0.01, momentum: options.momentum ?? 0.9 });
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer });
}
