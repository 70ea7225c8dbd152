import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { mul } from '../../compiler/ops/binary.js';
import { embedding, sinusoidalPositions } from '../../compiler/ops/layers.js';
import { sum } from '../../compiler/ops/reduce.js';
import { cumsum, tril, triu } from '../../compiler/ops/sequence.js';
import type { CumsumOptions } from '../../compiler/ops/sequence.js';
import { gelu } from '../../compiler/ops/unary.js';
import { LONG_SCAN } from '../../shaders/scan.js';
import { testData } from '../helpers.js';
import { expectPlanMatchesReference } from './harness.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Quarters in [-4, 4]: every partial sum is exact in f32, so any summation order must agree exactly. */
const quarters = (count: number, seed: number): Float32Array => Float32Array.from(testData(count, seed, -16, 16).map((x) => Math.round(x) / 4));
const ALL_OPTIONS: CumsumOptions[] = [{}, { exclusive: true }, { reverse: true }, { exclusive: true, reverse: true }];

/** Every cumsum variant of an input of `shape` along `axis`, checked exactly against the reference. */
async function checkCumsum(shape: number[], axis: number, dtype: 'f32' | 'i32' = 'f32') {
  const g = new Graph('cumsum');
  const x = g.input('x', shape, dtype);
  ALL_OPTIONS.forEach((options, i) => g.output(`y${i}`, cumsum(x, axis, options)));
  const data = dtype === 'f32' ? quarters(size(shape), 5) : Int32Array.from(testData(size(shape), 5, -(2 ** 31), 2 ** 31), Math.floor);
  return expectPlanMatchesReference(g, { x: data }, { rtol: 0, atol: 0 });
}

describe('cumsum on the GPU', () => {
  it('scans short lines along the last axis, a first axis and a middle axis', async () => {
    await checkCumsum([3, 37], -1);
    await checkCumsum([37, 5], 0);
    await checkCumsum([2, 7, 3], 1);
  });

  it('scans lines of one element', async () => {
    await checkCumsum([5, 1], 1);
  });

  it('scans long lines with a workgroup each, lengths not a multiple of its size', async () => {
    const { plan } = await checkCumsum([3, 1001], 1);
    expect(LONG_SCAN).to.be.below(1001);
    expect(plan.kernels.every((k) => k.wgsl.includes('workgroupBarrier'))).to.equal(true);
    await checkCumsum([300, 2], 0);
  });

  it('wraps i32 sums as the reference does, short and long', async () => {
    await checkCumsum([4, 9], 1, 'i32');
    await checkCumsum([700], 0, 'i32');
  });

  it('agrees within f32 rounding on random floats, forward and backward', async () => {
    const g = new Graph('cumsum-grad');
    const x = g.input('x', [2, 400]);
    const y = cumsum(x, 1, { exclusive: true });
    g.output('y', y);
    g.output('dx', grad(sum(mul(y, g.constant(testData(800, 3), { shape: [2, 400] }))), [x])[0]!);
    await expectPlanMatchesReference(g, { x: Float32Array.from(testData(800, 9)) }, { rtol: 1e-5, atol: 1e-4 });
  });
});

describe('triangles, embeddings and positions on the GPU', () => {
  it('tril and triu match the reference on a batch of non-square matrices', async () => {
    const g = new Graph('triangles');
    const x = g.input('x', [2, 5, 7]);
    g.output('lower', tril(x, -1));
    g.output('upper', triu(x, 2));
    g.output('grad', grad(sum(tril(x).mul(x)), [x])[0]!);
    await expectPlanMatchesReference(g, { x: Float32Array.from(testData(70, 4)) });
  });

  it('embedding looks up rows and scatters their gradient back, positions added', async () => {
    const g = new Graph('embedding');
    const table = g.input('table', [11, 6]);
    const ids = g.input('ids', [2, 5], 'i32');
    const tokens = embedding(table, ids).add(sinusoidalPositions(g, 5, 6));
    g.output('tokens', tokens);
    g.output('dtable', grad(sum(mul(tokens, tokens)), [table])[0]!);
    await expectPlanMatchesReference(g, { table: Float32Array.from(testData(66, 2)), ids: Int32Array.from([0, 3, 3, 10, 7, 1, 1, 1, 4, 0]) });
  });

  it('gelu, exact and tanh-approximated, and their gradients', async () => {
    const g = new Graph('gelu');
    const x = g.input('x', [37]);
    for (const approximate of ['none', 'tanh'] as const) {
      const y = gelu(x, { approximate });
      g.output(approximate, y);
      g.output(`d_${approximate}`, grad(sum(mul(y, g.constant(testData(37, 8), { shape: [37] }))), [x])[0]!);
    }
    await expectPlanMatchesReference(g, { x: Float32Array.from(testData(37, 6, -5, 5)) }, { rtol: 1e-5, atol: 1e-6 });
  });
});
