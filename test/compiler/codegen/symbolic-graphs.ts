/** Graphs with a symbolic batch for the code generation tests (CPU) and the symbolic GPU tests. */

import { Graph } from '../../../compiler/graph.js';
import { concat } from '../../../compiler/ops/slice.js';
import '../../../compiler/ops/index.js';

/** A forward MLP layer, a softmax and reductions over both axes, at a batch size or dim name. */
export function symbolicForward(batch: number | string): Graph {
  const g = new Graph('symbolic_forward');
  const x = g.input('x', [batch, 20]);
  const w = g.param('w', [20, 12]);
  const b = g.param('b', [12]);
  const h = x.matmul(w).add(b).relu();
  g.output('probs', h.softmax(1));
  g.output('column_sums', h.sum(0));
  g.output('column_means', h.mean(0));
  g.output('row_means', h.mean(1));
  g.output('row_max', h.argmax(1));
  return g;
}

/**
 * Data movement, scans, gathers and row fusion over a symbolic batch: a transpose, a
 * backward slice, a pad, a concat along the batch, cumsums along and across it, a
 * gather of batch rows, oneHot of per-row labels, a variance by hand (a row group) and
 * a logsumexp over the batch.
 */
export function symbolicMovement(batch: number | string): Graph {
  const g = new Graph('symbolic_movement');
  const x = g.input('x', [batch, 6]);
  const labels = g.input('labels', [batch], 'i32');
  const rows = g.input('rows', [3], 'i32');
  g.output('transposed', x.transpose());
  g.output('reversed', x.slice([null, [5, 0, -2]]));
  g.output('padded', x.pad([[1, 2], [0, 1]], 0.5));
  g.output('stacked', concat([x, x.mul(2)], 0));
  g.output('cumsum_batch', x.cumsum(0));
  g.output('cumsum_rows', x.cumsum(1, { exclusive: true, reverse: true }));
  g.output('gathered', x.gather(rows, 0));
  g.output('one_hot', labels.oneHot(5));
  const centered = x.sub(x.mean(1, true));
  g.output('variance', centered.mul(centered).mean(1));
  g.output('lse', x.logsumexp(0));
  return g;
}
