/**
 * kiln's NaN and infinity semantics on the GPU (README, "NaN and infinities"): every
 * reduction, pooling, softmax and max/min op on rows holding NaN, ±∞ and mixtures
 * (test/special-rows.ts) gives what the reference gives — NaN where NaN, the same
 * infinities, the same first-NaN index — fused and unfused, through each kernel that can
 * run it: one invocation per output, the tree for long groups, the row kernel for rows of
 * at most 256 in a softmax or normalization chain.
 */

import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { maximum, minimum } from '../../compiler/ops/binary.js';
import { logSoftmax, softmax } from '../../compiler/ops/nn.js';
import { attention, attentionWeights } from '../../compiler/ops/attention.js';
import { avgPool1d, avgPool2d, globalAvgPool, globalMaxPool, maxPool1d, maxPool2d } from '../../compiler/ops/pool.js';
import { argmax, argmin, logsumexp, max, mean, min, prod, sum } from '../../compiler/ops/reduce.js';
import { cumsum } from '../../compiler/ops/sequence.js';
import { relu, sign, sqrt } from '../../compiler/ops/unary.js';
import type { CompileOptions } from '../../compiler/plan.js';
import type { Tensor } from '../../compiler/tensor.js';
import { SPECIAL_ROWS, specialMatrix } from '../special-rows.js';
import { expectPlanMatchesReference } from './harness.js';

const ROWS = SPECIAL_ROWS.length;
/**
 * f32 sums and products against the reference's double, rounded once. Reductions see
 * values in [0.9, 1.1), so a product of 300 stays finite; the row chains values in
 * [−2, 2), so centring (layer norm) cancels no more than a few bits, and cumsums of 300
 * such values are within 1e-5.
 */
const TOLERANCE = { rtol: 2e-5, atol: 1e-5 };
const FUSED: readonly { name: string; options: CompileOptions }[] = [
  { name: 'fused', options: {} },
  { name: 'unfused', options: { fuse: false } },
];

/** Every reduction along the row, alone (its own template) and with fused neighbours. */
function reductions(g: Graph, x: Tensor): void {
  const along = { sum, mean, prod, max, min, logsumexp };
  for (const [name, reduce] of Object.entries(along)) g.output(name, reduce(x, 1));
  g.output('argmax', argmax(x, 1));
  g.output('argmin', argmin(x, 1));
  // A fused prologue (relu feeds the max) and epilogue (the max feeds a mul).
  g.output('maxOfRelu', max(relu(x), 1).mul(2));
  g.output('argmaxOfNeg', argmax(x.neg(), 1));
}

/** Row chains: softmax, logSoftmax, a softmax cross-entropy's and a layer norm's. */
function rowChains(g: Graph, x: Tensor): void {
  g.output('softmax', softmax(x, 1));
  g.output('logSoftmax', logSoftmax(x, 1));
  g.output('softmaxScaled', softmax(x, 1).mul(3));
  g.output('crossEntropy', logSoftmax(x, 1).mul(-1).sum(1));
  g.output('shiftedByMax', x.sub(max(x, 1, true)));
  g.output('shiftedByMin', x.sub(min(x, 1, true)));
  g.output('minusLogsumexp', x.sub(logsumexp(x, 1, true)));
  const centred = x.sub(mean(x, 1, true));
  g.output('layerNorm', centred.div(sqrt(mean(centred.mul(centred), 1, true).add(1e-5))));
  g.output('cumsum', cumsum(x, 1));
}

/** Elementwise max, min, relu and sign against the rows reversed (special values meet numbers and each other). */
function elementwise(g: Graph, x: Tensor): void {
  const reversed = g.input('reversed', x.shape);
  g.output('maximum', maximum(x, reversed));
  g.output('minimum', minimum(x, reversed));
  g.output('relu', relu(x));
  g.output('sign', sign(x));
}

/** Pools over the rows seen as [1, rows, length] (1-D) and [1, 1, rows, length] (2-D), and their gradients. */
function pools(g: Graph, x: Tensor, length: number): void {
  const planes = x.reshape([1, ROWS, length]);
  const image = x.reshape([1, 1, ROWS, length]);
  const pooled = maxPool1d(planes, { kernelSize: 3, stride: 2 });
  g.output('maxPool1d', pooled);
  g.output('maxPool1dGrad', grad(sum(pooled), [x])[0]!);
  g.output('maxPool2d', maxPool2d(image, { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] }));
  g.output('avgPool1d', avgPool1d(planes, { kernelSize: 3, stride: 2 }));
  g.output('avgPool2d', avgPool2d(image, { kernelSize: [2, 2], stride: [1, 1] }));
  g.output('globalMaxPool', globalMaxPool(planes));
  g.output('globalAvgPool', globalAvgPool(planes));
}

/** Runs the graph on the GPU and in the reference; returns the kernel names that ran. */
async function check(build: (g: Graph, x: Tensor) => void, length: number, options: CompileOptions): Promise<string[]> {
  const g = new Graph('special');
  const x = g.input('x', [ROWS, length]);
  build(g, x);
  const data = specialMatrix(length, build === reductions ? [0.9, 1.1] : [-2, 2]);
  const reversed = Array.from({ length: ROWS }, (_, r) => data.slice(r * length, (r + 1) * length).reverse()).flat();
  const feeds: Record<string, number[]> = { x: data };
  if (g.nodesOfRole('input').length > 1) feeds['reversed'] = reversed;
  const { plan } = await expectPlanMatchesReference(g, feeds, { ...TOLERANCE, compile: options });
  return plan.kernels.map((k) => k.name);
}

/**
 * Attention over queries whose scores hold NaN (a NaN in q), +∞ (an overflowing dot
 * product) and −∞, besides ordinary ones: a query with a NaN or +∞ score gets a NaN row,
 * as softmax gives it; the others are unaffected. The shared-tile kernel (many keys) and
 * the weights kernel too.
 */
async function checkAttention(keys: number, options: CompileOptions): Promise<Record<string, ArrayLike<number>>> {
  const g = new Graph('special_attention');
  const q = g.input('q', [1, 4, 2]);
  const k = g.input('k', [1, keys, 2]);
  const v = g.input('v', [1, keys, 3]);
  g.output('attention', attention(q, k, v));
  g.output('causal', attention(q, k, v, { causal: true }));
  g.output('weights', attentionWeights(q, k));
  const qData = [0.5, -1, NaN, 1, Infinity, 0.5, -3, 0.25];
  const kData = Array.from({ length: keys * 2 }, (_, i) => ((i * 7) % 11) / 5 - 1 + 0.01);
  const vData = Array.from({ length: keys * 3 }, (_, i) => ((i * 5) % 13) / 6 - 1);
  const { outputs } = await expectPlanMatchesReference(g, { q: qData, k: kData, v: vData }, { ...TOLERANCE, compile: options });
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.data]));
}

describe('NaN and infinities on the GPU', () => {
  for (const { name, options } of FUSED) {
    describe(name, () => {
      it('reduce short rows as the reference does, one invocation per output', async () => {
        const kernels = await check(reductions, 6, options);
        expect(kernels.some((k) => k.includes('_tree'))).to.equal(false);
      });

      it('reduce long rows as the reference does, through the tree', async () => {
        const kernels = await check(reductions, 300, options);
        expect(kernels.filter((k) => k.includes('_tree')).length).to.be.at.least(8);
      });

      it('run softmax, cross-entropy and layer-norm chains as the reference does', async () => {
        const kernels = await check(rowChains, 9, options);
        expect(kernels.some((k) => k.endsWith('_rows'))).to.equal(name === 'fused');
      });

      it('run row chains of 256 as the reference does', async () => {
        const kernels = await check(rowChains, 256, options);
        expect(kernels.some((k) => k.endsWith('_rows'))).to.equal(name === 'fused');
      });

      it('run long softmax rows (not row-fused) as the reference does', async () => {
        const kernels = await check(rowChains, 300, options);
        expect(kernels.some((k) => k.endsWith('_rows'))).to.equal(false);
      });

      it('take elementwise maximum, minimum, relu and sign as the reference does', async () => {
        await check(elementwise, 6, options);
      });

      it('pool as the reference does', async () => {
        await check((g, x) => pools(g, x, 8), 8, options);
      });

      it('attend as the reference does: a NaN or +∞ score makes its query’s row NaN', async () => {
        for (const keys of [5, 70]) {
          const { attention: out } = await checkAttention(keys, options);
          // Query 0 is ordinary, query 1 holds a NaN, query 2 has +∞ scores (and −∞ ones).
          expect(Array.from(out).slice(0, 3).every(Number.isFinite), `keys ${keys}`).to.equal(true);
          expect(Array.from(out).slice(3, 9).every(Number.isNaN), `keys ${keys}`).to.equal(true);
        }
      });
    });
  }
});
