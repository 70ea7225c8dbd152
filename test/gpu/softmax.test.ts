import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { logSoftmax, oneHot, softmax } from '../../compiler/ops/nn.js';
import { compile } from '../../compiler/plan.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference } from './harness.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Tolerance: the GPU works in f32 (exp and log within a few ulps), the reference in
 * double rounded once: measured max relative error 8e-7 (softmax) and 3e-7 (logSoftmax)
 * on inputs in [-4, 4). At ±1e4 both agree exactly: x − max is exact in f32 there.
 */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

/** softmax and logSoftmax of an input of `shape` along `axis`, checked against the reference. */
async function check(shape: number[], axis: number, values?: ArrayLike<number>) {
  const g = new Graph('softmax');
  const x = g.input('x', shape);
  g.output('softmax', softmax(x, axis));
  g.output('logSoftmax', logSoftmax(x, axis));
  return expectGpuMatchesReference(g, { x: Float32Array.from(values ?? testData(size(shape), 3, -4, 4)) }, TOLERANCE);
}

describe('softmax and logSoftmax on the GPU', () => {
  it('normalize rows along the last axis', async () => {
    const out = await check([3, 17], -1);
    const rows = out['softmax']!.data;
    expect([...rows.slice(0, 17)].reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-6);
  });

  it('normalize along axis 0 and along a middle axis', async () => {
    await check([129, 3], 0);
    await check([2, 5, 3], 1);
  });

  it('handle a single element per row and a rank-1 input', async () => {
    await check([4, 1], 1);
    await check([129], 0);
  });

  it('stay finite and accurate for logits of ±1e4', async () => {
    const x = [1e4, -1e4, 0, 1e4 - 1, -1e4, -1e4 + 2, 1e4, 1e4, 1e4];
    const out = await check([3, 3], 1, x);
    expect([...out['softmax']!.data].every(Number.isFinite)).to.equal(true);
    expect(out['softmax']!.data[7]).to.be.closeTo(1 / 3, 1e-6);
    expect(out['logSoftmax']!.data[1]).to.be.closeTo(-2e4, 1e-2);
  });

  it('emit no kernel for an empty input', () => {
    const g = new Graph('empty');
    g.output('y', softmax(g.input('x', [0, 5])));
    expect(compile(g).kernels).to.deep.equal([]);
  });
});

describe('oneHot on the GPU', () => {
  const indices = [0, 2, -1, 3, 1, 7];

  for (const dtype of ['f32', 'i32', 'bool'] as const) {
    it(`encodes ${dtype} rows, all zero for an index out of range`, async () => {
      const g = new Graph('oneHot');
      g.output('y', oneHot(g.input('labels', [6], 'i32'), 4, { dtype }));
      const out = await expectGpuMatchesReference(g, { labels: Int32Array.from(indices) }, { rtol: 0, atol: 0 });
      expect(out['y']!.dtype).to.equal(dtype);
      expect([...out['y']!.data.slice(8, 16)]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 1]);
    });
  }

  it('puts the new axis first or in the middle', async () => {
    const g = new Graph('oneHot-axis');
    const labels = g.input('labels', [2, 3], 'i32');
    g.output('first', oneHot(labels, 5, { axis: 0 }));
    g.output('middle', oneHot(labels, 5, { axis: 1, dtype: 'i32' }));
    const out = await expectGpuMatchesReference(g, { labels: Int32Array.from(indices) }, { rtol: 0, atol: 0 });
    expect(out['middle']!.shape).to.deep.equal([2, 5, 3]);
  });

  it('encodes a rank-0 index', async () => {
    const g = new Graph('oneHot-scalar');
    g.output('y', oneHot(g.input('label', [], 'i32'), 3));
    const out = await expectGpuMatchesReference(g, { label: Int32Array.from([2]) }, { rtol: 0, atol: 0 });
    expect([...out['y']!.data]).to.deep.equal([0, 0, 1]);
  });
});
