/**
 * `gather`: NumPy `take` along one axis — the embedding lookup (`gather(table, ids)`
 * with table [vocab, dim] and axis 0 gives [...ids.shape, dim]).
 *
 * Out-of-range indices (outside [-n, n)) give 0 (false for bool) rather than an error,
 * because indices are data and only known at run time. The GPU lowering must do the
 * same (clamp the read, then select 0), so the reference and the device agree; a
 * checked mode that reports bad indices can be added later.
 */

import { DTypeError, opError } from '../errors.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireInteger } from './args.js';
import { defineOp, emptyLike } from './op.js';
import { requireTensor } from './lift.js';

type GatherAttrs = { axis: number };

export const gatherOp = defineOp<GatherAttrs>({
  name: 'gather',
  arity: 2,
  infer(inputs, attrs) {
    const [x, indices] = [inputs[0]!, inputs[1]!];
    if (indices.dtype !== 'i32') {
      throw opError(DTypeError, 'gather', inputs, `indices must be i32, got ${indices.dtype}`, "cast them with indices.cast('i32')");
    }
    const axis = normalizeAxis('gather', inputs, attrs.axis, x.shape.length);
    return {
      shape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
      dtype: x.dtype,
    };
  },
  evaluate(inputs, attrs, out, ctx) {
    const [x, indices] = [inputs[0]!, inputs[1]!];
    const axis = attrs.axis;
    const n = x.shape[axis]!;
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const count = indices.data.length;
    const result = emptyLike(out, ctx);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const raw = indices.data[j]!;
        const index = raw < 0 ? raw + n : raw;
        // Out of range: leave the zeros emptyLike gave (see the module comment).
        if (index < 0 || index >= n) continue;
        const from = (o * n + index) * inner;
        result.data.set(x.data.subarray(from, from + inner), (o * count + j) * inner);
      }
    }
    return result;
  },
});

/**
 * Takes elements of `x` along `axis` at `indices` (i32, any shape; negative counts from
 * the end), as NumPy `take`: the result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Out-of-range indices give 0.
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  requireTensor('gather', x);
  requireTensor('gather', indices, 'indices');
  const canonical = normalizeAxis('gather', [x.node, indices.node], requireInteger('gather', 'axis', axis), x.rank);
  return x.graph.addNode(gatherOp, [x, indices], { axis: canonical });
}
