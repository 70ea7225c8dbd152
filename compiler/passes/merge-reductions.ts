/**
 * A reduction of a reduction by the same reducer becomes one reduction over the union of
 * their axes, when nothing else reads the inner result: autodiff's sumToShape sums the
 * stretched axes (keepdims) and then the added leading ones, so a conv's bias gradient
 * was two kernels, the first writing a [batch, channels, 1, 1] buffer the second reads.
 *
 * Which reducers merge: those whose value over a rectangle of axes is the same reducer
 * over the per-row results — sum, prod, max, min and logsumexp (log Σ exp of log Σ exp
 * is log Σ exp), and mean too, since every inner group has the same size, so the two
 * divisors multiply to the union's. Empty groups agree as well (sum 0, prod 1, mean NaN,
 * logsumexp −∞; max and min refuse them). Like any reassociation a float sum or product
 * may round differently; i32 sums and products wrap, so they are exact. argmax and argmin
 * give positions within the inner group, not values, so they never merge.
 */

import type { Node } from '../graph.js';
import { getOp } from '../ops/op.js';
import type { ReduceAttrs } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import type { Dim } from '../dims.js';
import type { Tensor } from '../tensor.js';
import type { GraphProgram, Rewrite } from './program.js';
import { liveNodes, rebuild } from './program.js';

const MERGEABLE = new Set(['sum', 'mean', 'prod', 'max', 'min', 'logsumexp']);

/** What an axis of a reduction's output is: an axis of the outermost input, or a size-1 axis a keepdims left. */
type Label = number | 'one';

/** The labels of a reduction's output axes, given its input's labels. */
function reducedLabels(labels: readonly Label[], { axes, keepdims }: ReduceAttrs): Label[] {
  return labels.flatMap((label, j) => (!axes.includes(j) ? [label] : keepdims ? ['one' as const] : []));
}

/**
 * The one reduction of `x` that `outer(inner(x))` is: over the union of their axes (read
 * on x). When the result keeps a size-1 axis in place of each reduced one, that is
 * keepdims; otherwise size-1 axes go into x where the result keeps one that is not one of
 * x's own axes (a reshape, which moves no data), and the union is reduced away.
 */
function mergedReduction(op: string, x: Tensor, inner: ReduceAttrs, outer: ReduceAttrs): Tensor {
  const labels = reducedLabels(reducedLabels(x.shape.map((_, j) => j), inner), outer);
  const merge = (source: Tensor, axes: number[], keepdims: boolean): Tensor => x.graph.addNode(getOp(op), [source], { axes, keepdims });
  const union = x.shape.map((_, j) => j).filter((j) => !labels.includes(j));
  if (labels.length === x.rank && labels.every((l, j) => (l === 'one') === union.includes(j))) return merge(x, union, true);
  const reshaped: Dim[] = [];
  const axes: number[] = [];
  let next = 0;
  const insertOnes = (): void => {
    for (; next < labels.length && labels[next] === 'one'; next++) reshaped.push(1);
  };
  x.shape.forEach((size, j) => {
    if (union.includes(j)) {
      axes.push(reshaped.length);
    } else {
      insertOnes();
      next++;
    }
    reshaped.push(size);
  });
  insertOnes();
  return merge(reshaped.length === x.rank ? x : reshape(x, reshaped), axes, false);
}

/** How many times each node is read: by live nodes, by an entry's outputs or updates, by the graph's outputs. */
function readCounts(program: GraphProgram): Map<number, number> {
  const counts = new Map<number, number>();
  const read = (id: number): void => {
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };
  const live = liveNodes(program);
  for (const node of program.graph.nodes) if (live.has(node.id)) node.inputs.forEach(read);
  for (const entry of Object.values(program.entries)) {
    Object.values(entry.outputs).forEach(read);
    entry.assignments.forEach(([, value]) => read(value));
  }
  for (const id of program.graph.outputs.values()) read(id);
  return counts;
}

export function mergeReductions(program: GraphProgram): GraphProgram {
  const reads = readCounts(program);
  const rewrite: Rewrite = (node: Node, [y]) => {
    if (!MERGEABLE.has(node.op) || y!.node.op !== node.op || reads.get(node.inputs[0]!) !== 1) return undefined;
    const x = y!.graph.tensor(y!.node.inputs[0]!);
    return mergedReduction(node.op, x, y!.node.attrs as ReduceAttrs, node.attrs as ReduceAttrs);
  };
  return rebuild(program, rewrite);
}
