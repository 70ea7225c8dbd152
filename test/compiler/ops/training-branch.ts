/**
 * `trainingBranch(y)`: y as a training step computes it, as a tensor of the same graph.
 * Gradient checks evaluate in inference mode, where a `modeSelect` passes no gradient to
 * its training branch; checking the gradient of batch norm's batch statistics or of
 * dropout's mask needs the training computation itself.
 */

import { getOp } from '../../../compiler/ops/op.js';
import type { Tensor } from '../../../compiler/tensor.js';

/** Rebuilds y's ancestors in y's graph with every `modeSelect` replaced by its training branch. */
export function trainingBranch(y: Tensor): Tensor {
  const graph = y.graph;
  const rebuilt = new Map<number, Tensor>();
  const resolve = (id: number): Tensor => {
    const done = rebuilt.get(id);
    if (done) return done;
    const node = graph.node(id);
    let result: Tensor;
    if (node.op === 'modeSelect') {
      result = resolve(node.inputs[0]!);
    } else {
      const inputs = node.inputs.map(resolve);
      const unchanged = inputs.every((t, i) => t.id === node.inputs[i]);
      result = unchanged ? graph.tensor(id) : graph.addNode(getOp(node.op), inputs, node.attrs);
    }
    rebuilt.set(id, result);
    return result;
  };
  return resolve(y.id);
}
