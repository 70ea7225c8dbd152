import { Graph } from '../../compiler/graph.js';
import { grad } from '../../compiler/autodiff.js';
import { attention } from '../../compiler/ops/attention.js';
import { testData } from '../helpers.js';
import { checkLayerAtSizes } from './symbolic-layer-check.js';

/**
 * Attention at a symbolic batch through compile and a Session: the fused forward kernel
 * over [batch, heads] matrices (causal, and with a mask broadcast over the heads), and the
 * gradients (the weights kernel recomputes the softmax, the rest is batched matmuls).
 */

function heads(batch: number | string): Graph {
  const g = new Graph('attention', { seed: 6 });
  const q = g.input('q', [batch, 2, 5, 4]);
  const k = g.input('k', [batch, 2, 7, 4]);
  const v = g.input('v', [batch, 2, 7, 3]);
  const keep = g.input('keep', [batch, 1, 5, 7]);
  const causal = attention(q, k, v, { causal: true });
  const masked = attention(q, k, v, { mask: keep.greater(0) });
  g.output('causal', causal);
  g.output('masked', masked);
  const [dq, dk, dv] = grad(causal.mul(masked).sum(), [q, k, v]);
  g.output('dq', dq!);
  g.output('dk', dk!);
  g.output('dv', dv!);
  return g;
}

describe('attention at a symbolic batch (compile + Session)', () => {
  it('causal and masked attention and their gradients at batch 1, 3, 67 equal the static plan and the reference', async () => {
    await checkLayerAtSizes({
      build: heads,
      feedsAt: (n) => ({ q: testData(n * 40, n), k: testData(n * 56, n + 1), v: testData(n * 42, n + 2), keep: testData(n * 35, n + 3) }),
      atol: 1e-4,
    });
  });
});
