/**
 * ONNX losses over class scores [N, C, d…] and labels [N, d…]: NegativeLogLikelihoodLoss
 * and SoftmaxCrossEntropyLoss, with optional class weights, ignore_index and the three
 * reductions. `mean` divides by the summed weights of the labels not ignored (each
 * weighs 1 without class weights), as ONNX's reference does.
 */

import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { gatherAlongAxis } from './ops-index.js';

const LOSS_ATTRIBUTES = ['reduction', 'ignore_index'];

function negativeLogLikelihood(n: NodeContext, logProbabilities: Tensor): Tensor {
  const rawLabels = n.input(1);
  const labels = rawLabels.dtype === 'i32' ? rawLabels : rawLabels.cast('i32');
  const classes = n.staticDim(logProbabilities.shape[1]!, 'the classes axis clips the labels');
  const ignoreIndex = n.int('ignore_index');
  const kept = ignoreIndex === undefined ? undefined : labels.notEqual(ignoreIndex);
  // Ignored labels may lie outside [0, C): read class 0 for them, then zero them out.
  const safeLabels = kept ? labels.where(kept, 0) : labels;
  const picked = gatherAlongAxis(n, logProbabilities, safeLabels.unsqueeze(1), 1).reshape(labels.shape).neg();
  const classWeights = n.optionalInput(2);
  let weights = classWeights?.gather(safeLabels.clip(0, classes - 1), 0);
  if (kept) weights = weights ? weights.where(kept, 0) : kept.cast('f32');
  const losses = weights ? picked.mul(weights) : picked;
  const reduction = n.string('reduction', 'mean');
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return losses.sum();
  if (reduction !== 'mean') throw n.invalid(`reduction '${reduction}' is not one of none, sum, mean`);
  return weights ? losses.sum().div(weights.sum()) : losses.mean();
}

registerHandlers({
  NegativeLogLikelihoodLoss: { attributes: LOSS_ATTRIBUTES, convert: (n) => negativeLogLikelihood(n, n.input(0)) },
  SoftmaxCrossEntropyLoss: {
    attributes: LOSS_ATTRIBUTES,
    convert: (n) => {
      const logProbabilities = n.input(0).logSoftmax(1);
      return [negativeLogLikelihood(n, logProbabilities), logProbabilities];
    },
  },
});
