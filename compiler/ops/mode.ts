/**
 * `modeSelect(train, infer)`: one value while training, another at inference — the
 * switch behind dropout (a random mask vs the identity) and batch norm (batch
 * statistics vs running averages). A graph holds both branches; every entry point runs
 * in one mode (`trainStep` trains, `forward` infers), and `specializeModes` replaces each
 * switch by its branch before anything is simplified or lowered, so an entry never
 * computes the other mode's work. The reference interpreter picks the branch the same way.
 */

import { DTypeError, ShapeError, opError } from '../errors.js';
import { formatType, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireTensor } from './lift.js';
import { defineOp, emptyLike } from './op.js';

/** The mode an entry point runs in. */
export type Mode = 'train' | 'infer';

type NoAttrs = Record<string, never>;

export const modeSelectOp = defineOp<NoAttrs>({
  name: 'modeSelect',
  arity: 2,
  infer(inputs) {
    const [train, infer] = [inputs[0]!, inputs[1]!];
    if (train.dtype !== infer.dtype) {
      throw opError(DTypeError, 'modeSelect', inputs, `the branches' dtypes differ (${train.dtype} vs ${infer.dtype})`, 'cast one branch');
    }
    if (!sameShape(train.shape, infer.shape)) {
      const problem = `the training branch is ${formatType(train)} but the inference branch is ${formatType(infer)}`;
      throw opError(ShapeError, 'modeSelect', inputs, problem, 'give both branches the same shape');
    }
    return { shape: train.shape, dtype: train.dtype };
  },
  evaluate(inputs, _, out, ctx) {
    const result = emptyLike(out, ctx);
    result.data.set(inputs[ctx.mode === 'train' ? 0 : 1]!.data);
    return result;
  },
  // Each branch gets the cotangent only in its own mode: in the other it contributes nothing.
  vjp: ({ cotangent }) => {
    const zero = cotangent.graph.constant(0, { dtype: cotangent.dtype, shape: cotangent.shape });
    return [modeSelect(cotangent, zero), modeSelect(zero, cotangent)];
  },
  // No lowering: specializeModes removes every switch before lowering.
});

/** `train` in a training step, `infer` in a forward (inference) pass. Both have one type. */
export function modeSelect(train: Tensor, infer: Tensor): Tensor {
  requireTensor('modeSelect', train, 'train');
  requireTensor('modeSelect', infer, 'infer');
  return train.graph.addNode(modeSelectOp, [train, infer], {});
}
