/**
 * log(softmax(x)) → logSoftmax(x): the composed form underflows to log(0) = −∞ for a
 * logit far below the max (and its gradient to NaN), where logSoftmax stays exact.
 */

import { logSoftmaxOp } from '../ops/nn.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

const fuseLogSoftmax: Rewrite = (node, [x], graph) => {
  if (node.op !== 'log' || x!.node.op !== 'softmax') return undefined;
  return graph.addNode(logSoftmaxOp, [graph.tensor(x!.node.inputs[0]!)], { axis: x!.node.attrs['axis'] as number });
};

export function rewriteLogSoftmax(program: GraphProgram): GraphProgram {
  return rebuild(program, fuseLogSoftmax);
}
