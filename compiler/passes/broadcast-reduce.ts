/**
 * Broadcast-then-reduce cleanup, for the patterns autodiff leaves behind:
 * - a sum over exactly the axes a broadcast added adds `count` copies of each element:
 *   it is x·count, reshaped (no broadcast buffer, no reduction kernel);
 * - a reshape or broadcast of a splat constant is a splat constant of the new shape
 *   (the loss's seed cotangent is `broadcastTo(reshape(1.0))`).
 */

import type { Node } from '../graph.js';
import { mul } from '../ops/binary.js';
import type { ReduceAttrs } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import type { Dim, SymDim } from '../dims.js';
import { dimMul, isSymbolic } from '../dims.js';
import { dimSize } from '../ops/dim-size.js';
import type { Shape } from '../shape.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { foldSplat } from './fold-constants.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

/**
 * How many copies of each of x's elements a sum over `axes` of broadcastTo(x) adds, when
 * the summed axes are exactly the ones the broadcast added or stretched (or size-1 axes);
 * undefined when the sum also adds distinct elements or leaves a broadcast axis unsummed.
 */
function copiesSummed(x: Tensor, broadcast: Shape, axes: readonly number[]): Dim | undefined {
  const offset = broadcast.length - x.rank;
  let count: Dim = 1;
  for (let j = 0; j < broadcast.length; j++) {
    const own = j < offset ? undefined : x.shape[j - offset]!;
    if (axes.includes(j)) {
      if (own !== undefined && own !== 1) return undefined;
      count = dimMul(count, broadcast[j]!);
    } else if (own !== broadcast[j]) {
      return undefined;
    }
  }
  return count;
}

function sumOfBroadcast(node: Node, y: Tensor): Tensor | undefined {
  if (y.node.op !== 'broadcastTo') return undefined;
  const x = y.graph.tensor(y.node.inputs[0]!);
  const count = copiesSummed(x, y.shape, (node.attrs as ReduceAttrs).axes);
  // An empty sum is 0 even where x is NaN (x·0 would not be): left alone.
  if (count === undefined || count === 0) return undefined;
  const scaled = count === 1 ? x : isSymbolic(count) ? scaleBySize(x, count) : mul(x, count);
  if (scaled === undefined) return undefined;
  return sameShape(scaled.shape, node.shape) ? scaled : reshape(scaled, node.shape);
}

/**
 * x·count for a symbolic count (a sum over a broadcast `batch` axis), read from the size
 * block; undefined where the count could be 0 at run time (a term subtracts) or x is not a number.
 */
function scaleBySize(x: Tensor, count: SymDim): Tensor | undefined {
  if (count.terms.some((t) => t.coefficient < 0) || (x.dtype !== 'f32' && x.dtype !== 'i32')) return undefined;
  return mul(x, dimSize(x.graph, count, x.dtype));
}

const cleanup: Rewrite = (node, inputs, graph) => {
  if (node.op === 'sum') return sumOfBroadcast(node, inputs[0]!);
  if (node.op === 'reshape' || node.op === 'broadcastTo') return foldSplat(node, inputs, graph);
  return undefined;
};

export function cleanupBroadcastReduce(program: GraphProgram): GraphProgram {
  return rebuild(program, cleanup);
}
