/**
 * `stopGradient(x)`: the identity in the forward direction, a wall for gradients (as
 * JAX's `lax.stop_gradient` and PyTorch's `detach`). Simplification removes the node
 * once gradients have been taken; until then it marks where they stop.
 */

import type { Tensor } from '../tensor.js';
import { requireTensor } from './lift.js';
import { defineOp, emptyLike, noGradient } from './op.js';

type NoAttrs = Record<string, never>;

export const stopGradientOp = defineOp<NoAttrs>({
  name: 'stopGradient',
  arity: 1,
  infer: (inputs) => ({ shape: inputs[0]!.shape, dtype: inputs[0]!.dtype }),
  evaluate(inputs, _, out, ctx) {
    const result = emptyLike(out, ctx);
    result.data.set(inputs[0]!.data);
    return result;
  },
  vjp: noGradient,
  // The identity: the output is the input's buffer.
  lower: { kind: 'alias' },
});

/** x, through which no gradient flows. */
export function stopGradient(x: Tensor): Tensor {
  return requireTensor('stopGradient', x).graph.addNode(stopGradientOp, [x], {});
}
