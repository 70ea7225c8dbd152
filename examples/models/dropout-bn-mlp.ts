/**
 * An MLP with batch norm and dropout (x → linear → batch norm → ReLU → dropout → linear,
 * softmax cross-entropy, Adam): its forward and training entries differ in mode, so the
 * compiler's stages differ per entry. Used by the process replay and the stage tests.
 */

import { Graph, adam, batchNormLayer, dropout, softmaxCrossEntropy, trainingProgram } from '../../index.js';
import type { TrainingProgram } from '../../index.js';

export interface DropoutBatchNormMlpOptions {
  batch: number;
  /** Input features, hidden units and classes. Defaults 20, 33 and 7. */
  features?: number;
  hidden?: number;
  classes?: number;
  /** The dropout rate. Default 0.25. */
  rate?: number;
}

export function dropoutBatchNormMlp(options: DropoutBatchNormMlpOptions): TrainingProgram {
  const { batch, features = 20, hidden = 33, classes = 7, rate = 0.25 } = options;
  const g = new Graph('dropout_bn_mlp');
  const x = g.input('x', [batch, features]);
  const labels = g.input('labels', [batch], 'i32');
  const w1 = g.param('w1', [features, hidden], { init: 'linearDefault' });
  const bn = batchNormLayer(g, 'bn1', hidden);
  const w2 = g.param('w2', [hidden, classes], { init: 'linearDefault' });
  const logits = dropout(bn(x.matmul(w1)).relu(), rate).matmul(w2);
  g.output('logits', logits);
  return trainingProgram(g, { loss: softmaxCrossEntropy(logits, labels), optimizer: adam({ lr: 1e-3 }) });
}
