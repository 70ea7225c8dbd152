import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { maximum, minimum } from '../../../compiler/ops/binary.js';
import { logSoftmax, softmax } from '../../../compiler/ops/nn.js';
import { avgPool1d, globalAvgPool, globalMaxPool, maxPool1d } from '../../../compiler/ops/pool.js';
import { argmax, argmin, logsumexp, max, mean, min, prod, sum } from '../../../compiler/ops/reduce.js';
import { cumsum } from '../../../compiler/ops/sequence.js';
import { relu, sign } from '../../../compiler/ops/unary.js';
import { largerOrNaN, maximumOf, minimumOf, smallerOrNaN } from '../../../compiler/ops/extremum.js';
import { interpret } from '../../../compiler/reference.js';
import type { Tensor } from '../../../compiler/tensor.js';

const INF = Infinity;

/** The ops of one row x [1, n] (pools see it as [1, 1, n]), each to a flat list of numbers. */
const OPS: Record<string, (x: Tensor) => Tensor> = {
  max: (x) => max(x, 1),
  min: (x) => min(x, 1),
  argmax: (x) => argmax(x, 1),
  argmin: (x) => argmin(x, 1),
  logsumexp: (x) => logsumexp(x, 1),
  softmax: (x) => softmax(x, 1),
  logSoftmax: (x) => logSoftmax(x, 1),
  sum: (x) => sum(x, 1),
  mean: (x) => mean(x, 1),
  prod: (x) => prod(x, 1),
  cumsum: (x) => cumsum(x, 1),
  relu: (x) => relu(x),
  sign: (x) => sign(x),
  maxPool: (x) => maxPool1d(x.reshape([1, 1, x.shape[1]!]), { kernelSize: 2, stride: 1 }),
  avgPool: (x) => avgPool1d(x.reshape([1, 1, x.shape[1]!]), { kernelSize: 2, stride: 1 }),
  globalMaxPool: (x) => globalMaxPool(x.reshape([1, 1, x.shape[1]!])),
  globalAvgPool: (x) => globalAvgPool(x.reshape([1, 1, x.shape[1]!])),
};

function referenceOf(row: readonly number[]): Record<string, number[]> {
  const g = new Graph('row');
  const x = g.input('x', [1, row.length]);
  for (const [name, op] of Object.entries(OPS)) g.output(name, op(x));
  const out = interpret(g, { feeds: { x: [...row] } });
  return Object.fromEntries(Object.entries(out).map(([name, value]) => [name, [...value.data]]));
}

/** Equal element by element, NaN equal to NaN and −0 unequal to 0 (chai's deep equal), the message naming the op. */
function expectSame(actual: readonly number[], expected: readonly number[] | undefined, what: string): void {
  expect(actual, what).to.deep.equal(expected);
}

const N = NaN;

/**
 * Expectations written by hand from PyTorch 1.13 (torch.max/min/argmax/argmin/logsumexp/
 * softmax/log_softmax/sum/mean/prod/cumsum/relu, F.max_pool1d, F.avg_pool1d, amax over
 * the spatial axis) and NumPy's argmax/argmin, which agree on each of these rows.
 */
const PYTORCH: readonly { row: number[]; expected: Partial<Record<keyof typeof OPS, number[]>> }[] = [
  {
    row: [1, NaN, 3, 2, 0],
    expected: {
      max: [N], min: [N], argmax: [1], argmin: [1], logsumexp: [N], softmax: [N, N, N, N, N], logSoftmax: [N, N, N, N, N],
      sign: [1, N, 1, 1, 0],
      sum: [N], mean: [N], prod: [N], cumsum: [1, N, N, N, N], relu: [1, N, 3, 2, 0],
      maxPool: [N, N, 3, 2], avgPool: [N, N, 2.5, 1], globalMaxPool: [N], globalAvgPool: [N],
    },
  },
  { row: [1, NaN, 5, NaN], expected: { max: [N], argmax: [1], argmin: [1], maxPool: [N, N, N] } },
  { row: [NaN, 1, 2], expected: { argmax: [0], argmin: [0], softmax: [N, N, N], relu: [N, 1, 2] } },
  {
    row: [-INF, -INF],
    expected: { max: [-INF], min: [-INF], argmax: [0], argmin: [0], logsumexp: [-INF], softmax: [N, N], logSoftmax: [N, N], sum: [-INF], mean: [-INF], prod: [INF], relu: [0, 0], maxPool: [-INF], globalMaxPool: [-INF] },
  },
  { row: [INF, INF], expected: { max: [INF], argmax: [0], argmin: [0], logsumexp: [INF], softmax: [N, N], logSoftmax: [N, N], sum: [INF], prod: [INF] } },
  { row: [INF, 1], expected: { max: [INF], min: [1], argmax: [0], argmin: [1], logsumexp: [INF], softmax: [N, N], logSoftmax: [N, N] } },
  {
    row: [INF, -INF],
    expected: { max: [INF], min: [-INF], argmax: [0], argmin: [1], logsumexp: [INF], softmax: [N, N], logSoftmax: [N, N], sum: [N], mean: [N], prod: [-INF], cumsum: [INF, N], relu: [INF, 0] },
  },
  { row: [-INF, 1], expected: { max: [1], argmax: [1], argmin: [0], logsumexp: [1], softmax: [0, 1], logSoftmax: [-INF, 0], relu: [0, 1] } },
  { row: [INF, NaN], expected: { max: [N], min: [N], argmax: [1], argmin: [1], logsumexp: [N], softmax: [N, N], cumsum: [INF, N] } },
  { row: [-INF, 2, INF, 1], expected: { max: [INF], min: [-INF], argmax: [2], argmin: [0], logsumexp: [INF], softmax: [N, N, N, N], sum: [N], prod: [-INF] } },
];

describe('NaN and infinities in the reference', () => {
  for (const { row, expected } of PYTORCH) {
    it(`give what PyTorch and NumPy give for the row [${row.join(', ')}]`, () => {
      const actual = referenceOf(row);
      for (const [name, values] of Object.entries(expected)) expectSame(actual[name]!, values, name);
    });
  }

  it('give NaN from maximum and minimum when either operand is NaN, as torch.maximum', () => {
    const g = new Graph('pairs');
    const a = g.input('a', [4]);
    const b = g.input('b', [4]);
    g.output('maximum', maximum(a, b));
    g.output('minimum', minimum(a, b));
    const out = interpret(g, { feeds: { a: [NaN, 1, NaN, INF], b: [1, NaN, NaN, -INF] } });
    expectSame([...out['maximum']!.data], [N, N, N, INF], 'maximum');
    expectSame([...out['minimum']!.data], [N, N, N, -INF], 'minimum');
  });

  it('are one definition: the max reduction folds with maximum, argmax and argmin prefer the first NaN', () => {
    expect(maximumOf.host(NaN, 1)).to.be.NaN;
    expect(minimumOf.host(1, NaN)).to.be.NaN;
    expect(largerOrNaN.host(NaN, 5)).to.equal(true);
    expect(largerOrNaN.host(NaN, NaN)).to.equal(false);
    expect(largerOrNaN.host(7, NaN)).to.equal(false);
    expect(smallerOrNaN.host(NaN, -INF)).to.equal(true);
    expect(maximumOf.wgsl('a', 'b', 'f32')).to.equal('kiln_maximum(a, b)');
    expect(maximumOf.wgsl('a', 'b', 'i32')).to.equal('max(a, b)');
    expect(largerOrNaN.wgsl('v', 'best', 'f32')).to.equal('(!kiln_isnan(best) && (kiln_isnan(v) || v > best))');
  });
});
