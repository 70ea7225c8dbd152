import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { noGradient } from '../../../compiler/ops/op.js';
import type { Tensor } from '../../../compiler/tensor.js';
import {
  argmaxOp,
  argminOp,
  logsumexp,
  max,
  mean,
  min,
  prod,
  sum,
} from '../../../compiler/ops/reduce.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, values } from '../../helpers.js';
import { gradientOf } from './second-order.js';
import { sizeOf, staticShape } from '../../../compiler/shape.js';

type Reduction = (x: Tensor, axes?: number | readonly number[], keepdims?: boolean) => Tensor;

/** Shapes and reductions over them: several axes, negative axes, keepdims, size-1 and reduce-all. */
const CASES: { shape: number[]; axes?: number | number[]; keepdims?: boolean }[] = [
  { shape: [5] },
  { shape: [3, 4], axes: 1 },
  { shape: [3, 4], axes: -2, keepdims: true },
  { shape: [2, 3, 4], axes: [0, 2] },
  { shape: [2, 3, 4], axes: [-1, 0], keepdims: true },
  { shape: [3, 1, 2], axes: 1 },
  { shape: [2, 3, 4] },
  { shape: [2, 3, 4], keepdims: true },
];

const describeCase = ({ shape, axes, keepdims }: (typeof CASES)[number]): string =>
  `[${shape}] over ${axes === undefined ? 'every axis' : `axes ${JSON.stringify(axes)}`}${keepdims ? ', keepdims' : ''}`;

/** The gradient of sum(reduce(x)·c) at `data` (c = 1, 2, … over the outputs), for a reduction of a matrix over `axes` (f64). */
function gradientAt(reduce: Reduction, data: number[][], axes: number): number[] {
  const g = new Graph('t');
  const x = g.input('x', [data.length, data[0]!.length]);
  const y = reduce(x, axes);
  const weights = g.constant(Array.from({ length: sizeOf(staticShape('test', y.shape)) }, (_, i) => i + 1), { shape: y.shape });
  const [dx] = grad(sum(mul(y, weights)), [x]);
  return values(dx!, { feeds: { x: data.flat() }, precision: 'f64' });
}

describe('reduction gradients', () => {
  const smooth: [string, Reduction][] = [
    ['sum', sum],
    ['mean', mean],
    ['logsumexp', logsumexp],
    ['prod', prod],
    // Random data has no ties, so max and min are differentiable there.
    ['max', max],
    ['min', min],
  ];
  for (const [name, reduce] of smooth) {
    for (const c of CASES) {
      it(`${name} matches finite differences for ${describeCase(c)}`, () => {
        checkGradients({ inputs: [{ shape: c.shape, lo: 0.5, hi: 1.5 }], build: ([x]) => reduce(x!, c.axes, c.keepdims) });
      });
    }
  }

  it('mean divides the cotangent by the number of elements reduced', () => {
    expect(gradientAt(mean, [[1, 2, 3], [4, 5, 6]], 1)).to.deep.equal([1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3]);
  });

  it('max and min split the cotangent evenly among tied extrema', () => {
    expect(gradientAt(max, [[1, 3, 3], [2, 0, -1]], 1)).to.deep.equal([0, 0.5, 0.5, 2, 0, 0]);
    expect(gradientAt(min, [[4, -2, -2, -2], [0, 0, 1, 1]], 1)).to.deep.equal([0, 1 / 3, 1 / 3, 1 / 3, 1, 1, 0, 0]);
    expect(gradientAt(max, [[1, 3, 3], [3, 0, -1]], 0)).to.deep.equal([0, 2, 3, 1, 0, 0]);
  });

  it('prod gives the product of the others, exactly, when the group holds one zero', () => {
    expect(gradientAt(prod, [[2, 0, 3], [1, 4, 5]], 1)).to.deep.equal([0, 6, 0, 40, 10, 8]);
    expect(gradientAt(prod, [[0], [7]], 1)).to.deep.equal([1, 2]);
  });

  it('prod gives zero gradients, not NaN, when the group holds two zeros or more', () => {
    expect(gradientAt(prod, [[0, 2, 0], [3, 0, 0]], 1)).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(gradientAt(prod, [[0, 0, 0], [1, 2, 4]], 1)).to.deep.equal([0, 0, 0, 16, 8, 4]);
  });

  it('prod matches finite differences at zeros, where it is a smooth (multilinear) function', () => {
    const data = [0, 1.5, -2, 0.5, 0, 0, 3, 0.25, 0, -1, 2, 1.25];
    checkGradients({ inputs: [{ shape: [3, 4], data }], build: ([x]) => prod(x!, 1) });
    checkGradients({ inputs: [{ shape: [3, 4], data }], build: ([x]) => prod(x!, 0, true) });
  });

  it('logsumexp has the softmax as its gradient, also at logits far beyond exp overflow', () => {
    expectClose(gradientAt(logsumexp, [[1000, 1000, 1000 + Math.log(2)]], 1), [0.25, 0.25, 0.5], 1e-12, 0);
    checkGradients({ inputs: [{ shape: [2, 5], lo: -6, hi: 6 }], build: ([x]) => logsumexp(x!, -1) });
  });

  it('argmax and argmin pass no gradient', () => {
    expect(argmaxOp.vjp).to.equal(noGradient);
    expect(argminOp.vjp).to.equal(noGradient);
  });

  describe('second order', () => {
    const square = (x: Tensor): Tensor => mul(x, x);
    it('of sum and mean', () => {
      checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: gradientOf(([x]) => sum(square(x!), [0, -1])) });
      checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: gradientOf(([x]) => mean(square(x!), 1, true)) });
      checkGradients({ inputs: [{ shape: [3, 2] }], build: gradientOf(([x]) => square(mean(x!))) });
    });

    it('of logsumexp', () => {
      checkGradients({ inputs: [{ shape: [3, 4], lo: -2, hi: 2 }], build: gradientOf(([x]) => logsumexp(x!, 1)) });
      checkGradients({ inputs: [{ shape: [2, 3, 2], lo: -2, hi: 2 }], build: gradientOf(([x]) => logsumexp(x!, [0, 2], true)) });
    });

    it('of prod and max', () => {
      checkGradients({ inputs: [{ shape: [3, 3], lo: 0.5, hi: 1.5 }], build: gradientOf(([x]) => prod(x!, 1)) });
      checkGradients({ inputs: [{ shape: [3, 3] }], build: gradientOf(([x]) => square(max(x!, 0))) });
    });
  });
});
