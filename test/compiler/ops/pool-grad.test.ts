import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import type { AvgPoolOptions, PoolAttrs, PoolOptions } from '../../../compiler/ops/pool.js';
import {
  avgPool1d,
  avgPool2d,
  avgPoolGrad,
  globalAvgPool,
  globalMaxPool,
  maxPool1d,
  maxPool2d,
  maxPoolGather,
  maxPoolGrad,
} from '../../../compiler/ops/pool.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { sizeOf } from '../../../compiler/shape.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { testData } from '../../helpers.js';
import { gradientOf } from './second-order.js';

/**
 * Distinct values in [-1, 1), 2/count apart, in a shuffled order: a max-pool window then
 * has no near-tie a finite-difference step could flip.
 */
function distinct(shape: number[], seed = 3): number[] {
  const count = sizeOf(shape);
  const order = testData(count, seed).map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(count);
  order.forEach(({ i }, rank) => {
    out[i] = -1 + (2 * rank + 1) / count;
  });
  return out;
}

const maxPool = (x: Tensor, options: PoolOptions): Tensor => (x.rank === 3 ? maxPool1d(x, options) : maxPool2d(x, options));
/** The canonical attributes a 1-D or 2-D max pooling with these options stores. */
const attrsOf = (shape: number[], options: PoolOptions): PoolAttrs => maxPool(new Graph('attrs').input('x', shape), options).node.attrs as PoolAttrs;

const maxCases: [number[], PoolOptions][] = [
  [[2, 2, 5, 6], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
  [[1, 2, 5, 5], { kernelSize: 2, stride: 1 }],
  [[1, 1, 6, 7], { kernelSize: [2, 3], stride: [3, 2], padding: [[1, 0], 1] }],
  [[2, 1, 7], { kernelSize: 3, stride: 2, padding: [[1, 0]], ceilMode: true }],
];

const avgCases: [number[], AvgPoolOptions][] = [
  [[2, 2, 5, 6], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
  [[2, 2, 5, 6], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true }],
  [[1, 2, 4, 5], { kernelSize: [2, 3], stride: 1, padding: [[1, 0], 1] }],
  [[2, 1, 7], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true }],
];

const avgPool = (x: Tensor, options: AvgPoolOptions): Tensor => (x.rank === 3 ? avgPool1d(x, options) : avgPool2d(x, options));

describe('pooling gradients', () => {
  for (const [shape, options] of maxCases) {
    it(`of maxPool over [${shape}] with ${JSON.stringify(options)} match finite differences`, () => {
      checkGradients({ inputs: [{ shape, data: distinct(shape) }], build: ([x]) => maxPool(x!, options) });
    });
  }

  for (const [shape, options] of avgCases) {
    it(`of avgPool over [${shape}] with ${JSON.stringify(options)} match finite differences`, () => {
      checkGradients({ inputs: [{ shape }], build: ([x]) => avgPool(x!, options) });
    });
  }

  it('of maxPool go to one element per window: maxPoolGrad(x, dy) with the same attributes', () => {
    const g = new Graph('t');
    const x = g.input('x', [1, 2, 5, 6]);
    const y = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    const [dx] = grad(sum(y), [x]);
    expect(dx!.node.op).to.equal('maxPoolGrad');
    expect(dx!.node.inputs[0]).to.equal(x.id);
    expect(dx!.node.attrs).to.deep.equal(y.node.attrs);
  });

  it('of avgPool are avgPoolGrad(dy), recording the input size', () => {
    const g = new Graph('t');
    const x = g.input('x', [1, 2, 5, 6]);
    const y = avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: true });
    const [dx] = grad(sum(y), [x]);
    expect(dx!.node.op).to.equal('avgPoolGrad');
    expect(dx!.node.attrs).to.deep.equal({ ...y.node.attrs, inputSize: [5, 6] });
  });

  it('of the gradient ops match finite differences: maxPoolGrad and maxPoolGather are linear in their second operand', () => {
    const shape = [2, 2, 5, 6];
    const attrs = attrsOf(shape, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    const pooled = [2, 2, 3, 4];
    const x = { shape, data: distinct(shape) };
    checkGradients({ inputs: [x, { shape: pooled }], build: ([xs, dy]) => maxPoolGrad(xs!, dy!, attrs) });
    checkGradients({ inputs: [x, { shape }], build: ([xs, v]) => maxPoolGather(xs!, v!, attrs) });
  });

  it('of avgPoolGrad match finite differences, with and without padding counted', () => {
    const attrs = attrsOf([2, 1, 7], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    for (const countIncludePad of [false, true]) {
      checkGradients({ inputs: [{ shape: [2, 1, 4] }], build: ([dy]) => avgPoolGrad(dy!, { ...attrs, countIncludePad, inputSize: [7] }) });
    }
  });

  it('of second order match finite differences', () => {
    const shape = [1, 2, 5, 5];
    const options = { kernelSize: 3, stride: 2, padding: 1, ceilMode: true };
    checkGradients({
      inputs: [{ shape, data: distinct(shape) }],
      build: gradientOf(([x]) => {
        const y = maxPool2d(x!, options);
        return mul(y, y);
      }),
    });
    checkGradients({
      inputs: [{ shape }],
      build: gradientOf(([x]) => {
        const y = avgPool2d(x!, { ...options, countIncludePad: true });
        return mul(y, y);
      }),
    });
  });

  it('of global pooling match finite differences', () => {
    const shape = [2, 3, 3, 2];
    checkGradients({ inputs: [{ shape }], build: ([x]) => globalAvgPool(x!) });
    checkGradients({ inputs: [{ shape, data: distinct(shape) }], build: ([x]) => globalMaxPool(x!) });
  });
});
