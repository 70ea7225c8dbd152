import { Graph } from '../../compiler/graph.js';
import { grad } from '../../compiler/autodiff.js';
import { matmul } from '../../compiler/ops/matmul.js';
import { testData } from '../helpers.js';
import { checkLayerAtSizes } from './symbolic-layer-check.js';

/**
 * Matmuls at a symbolic batch through compile and a Session: a forward layer (m = batch),
 * its weight gradient xᵀ·dy (k = batch, with the bias gradient as the column sums of dy)
 * and its input gradient dy·Wᵀ, and a batched matmul over a symbolic batch dim.
 */

function dense(batch: number | string): Graph {
  const g = new Graph('dense', { seed: 3 });
  const x = g.input('x', [batch, 20]);
  const w = g.param('w', [20, 12]);
  const b = g.param('b', [12]);
  const v = g.param('v', [12, 5]);
  const hidden = matmul(x, w).add(b).relu();
  const y = matmul(hidden, v);
  g.output('y', y);
  const [dx, dw, db, dv] = grad(y.mul(y).sum(), [x, w, b, v]);
  g.output('dx', dx!);
  g.output('dw', dw!);
  g.output('db', db!);
  g.output('dv', dv!);
  return g;
}

function batched(batch: number | string): Graph {
  const g = new Graph('batched', { seed: 4 });
  const a = g.input('a', [batch, 2, 5, 8]);
  const b = g.input('b', [batch, 2, 8, 6]);
  const w = g.param('w', [8, 6]);
  g.output('c', matmul(a, b));
  // A weight shared by every matrix of the batch: broadcast, batch stride 0.
  g.output('d', matmul(a, w));
  return g;
}

describe('matmul at a symbolic batch (compile + Session)', () => {
  it('a dense layer and its gradients (weight gradient over k = batch) at batch 1, 3, 67 equal the static plan and the reference', async () => {
    await checkLayerAtSizes({ build: dense, feedsAt: (n) => ({ x: testData(n * 20, n) }), reordered: ['db'], atol: 1e-4 });
  });

  it('a batched matmul over [batch, 2] matrices, and one with a broadcast weight, at batch 1, 3, 67', async () => {
    await checkLayerAtSizes({ build: batched, feedsAt: (n) => ({ a: testData(n * 80, n), b: testData(n * 96, n + 1) }) });
  });
});
