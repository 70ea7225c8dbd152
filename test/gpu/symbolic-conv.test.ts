import { Graph } from '../../compiler/graph.js';
import { grad } from '../../compiler/autodiff.js';
import { conv2d } from '../../compiler/ops/conv.js';
import { testData } from '../helpers.js';
import { checkLayerAtSizes } from './symbolic-layer-check.js';

/**
 * A conv + pool layer at a symbolic batch through compile and a Session: the conv, the
 * max and average pools (some whose windows tile the input), and the gradients (the pools' gradients, the conv's input
 * gradient as a gathered convTranspose, its weight gradient, whose sums over the batch
 * split across invocations by a count a static plan sizes to its batch).
 */

function convPool(batch: number | string): Graph {
  const g = new Graph('conv_pool', { seed: 5 });
  const x = g.input('x', [batch, 2, 9, 9]);
  // Not zeros (a param's default): relu would zero every activation and every gradient.
  const w = g.param('w', [4, 2, 3, 3], { init: { kind: 'uniform', low: -1, high: 1 } });
  const h = conv2d(x, w, { padding: 1 }).relu();
  const pooled = h.maxPool2d({ kernelSize: 2 });
  const averaged = h.avgPool2d({ kernelSize: 3, stride: 2, padding: 1 });
  // Windows that tile the input (stride = kernel): their gradients take one invocation per window.
  const tiled = h.maxPool2d({ kernelSize: 3 });
  const tiledAverage = h.avgPool2d({ kernelSize: 2, ceilMode: true });
  g.output('pooled', pooled);
  g.output('averaged', averaged);
  g.output('tiled', tiled);
  // Squares, so no cotangent is a constant (a static plan folds a pooling gradient of one, rounding otherwise).
  const loss = pooled.mul(pooled).sum().add(averaged.mul(averaged).sum()).add(tiled.mul(tiled).sum()).add(tiledAverage.mul(tiledAverage).sum());
  const [dx, dw] = grad(loss, [x, w]);
  g.output('dx', dx!);
  g.output('dw', dw!);
  return g;
}

describe('conv and pool at a symbolic batch (compile + Session)', () => {
  it('conv, max/avg pools and their gradients at batch 1, 3, 67 equal the static plan and the reference', async () => {
    await checkLayerAtSizes({ build: convPool, feedsAt: (n) => ({ x: testData(n * 162, n) }), reordered: ['dw'], atol: 1e-4 });
  });
});
