import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference } from './harness.js';
import { checkLayerAtSizes } from './symbolic-layer-check.js';

/**
 * scatterAdd's kernel variants (shaders/gather.ts): rows split into chunks of neighbouring
 * elements per invocation (a row of 64 in 4 chunks of 16, of 24 in 2 of 12, over an outer
 * axis too), and one element per invocation where the row has no divisor from 2 to 16.
 * Every sum adds in the reference's order, so all are exact.
 */

const EXACT = { rtol: 0, atol: 0 };

/** Indices with repeats, negatives and out-of-range values (skipped) for a table of `rows`. */
const indicesFor = (count: number, rows: number): number[] => Array.from({ length: count }, (_, j) => ((j * 7) % (rows + 3)) - (j % 5 === 0 ? rows : 1));

describe('scatterAdd on the GPU', () => {
  it('sums an embedding gradient (rows of 64 in chunks of 16) exactly in the reference order', async () => {
    const g = new Graph('embedding_grad');
    const updates = g.input('updates', [2, 37, 64]);
    const ids = g.input('ids', [2, 37], 'i32');
    g.output('table', updates.scatterAdd(ids, 0, 11));
    const plan = compile(g, {});
    expect(plan.kernels.find((k) => k.ops.includes('scatterAdd'))!.wgsl).to.match(/16 neighbouring elements of a row per invocation/);
    await expectGpuMatchesReference(g, { updates: testData(2 * 37 * 64, 3, -1e3, 1e3), ids: indicesFor(74, 11) }, EXACT);
  });

  it('chunks rows under an outer axis, and keeps one element per invocation for a row of 17', async () => {
    const g = new Graph('scatter_outer');
    const chunked = g.input('chunked', [3, 9, 24]);
    const prime = g.input('prime', [2, 9, 17]);
    const ids = g.input('ids', [9], 'i32');
    g.output('chunked', chunked.scatterAdd(ids, 1, 6));
    g.output('prime', prime.scatterAdd(ids, 1, 6));
    const feeds = { chunked: testData(3 * 9 * 24, 4), prime: testData(2 * 9 * 17, 5), ids: indicesFor(9, 6) };
    await expectGpuMatchesReference(g, feeds, EXACT);
  });

  it('sums the gradient of an embedding read at a symbolic batch of indices', async () => {
    const build = (batch: number | string): Graph => {
      const g = new Graph('embedding', { seed: 3 });
      const table = g.param('table', [13, 24], { init: { kind: 'uniform', low: -1, high: 1 } });
      const ids = g.input('ids', [batch, 5], 'i32');
      const rows = table.gather(ids, 0);
      g.output('dtable', grad(rows.mul(rows).sum(), [table])[0]!);
      return g;
    };
    await checkLayerAtSizes({ build, feedsAt: (n) => ({ ids: indicesFor(n * 5, 13) }), rtol: 0, atol: 0 });
  });
});
