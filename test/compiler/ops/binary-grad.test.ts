import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import * as b from '../../../compiler/ops/binary.js';
import { sum } from '../../../compiler/ops/reduce.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { testData, values } from '../../helpers.js';

/** Operand shape pairs: equal, trailing-axis broadcast, outer product, scalars, size-1 dims and rank mismatch. */
const SHAPE_PAIRS: [number[], number[]][] = [
  [[2, 3], [2, 3]],
  [[2, 3], [3]],
  [[3], [2, 3]],
  [[4, 1], [1, 5]],
  [[], [2, 2]],
  [[2, 2], []],
  [[1], [3]],
  [[2, 1, 3], [4, 3]],
];

/** An operand's values: `[lo, hi)`, or magnitudes in [lo, hi) with alternating signs (to keep away from 0). */
type Range = { lo: number; hi: number; bothSigns?: boolean };

function operand(shape: number[], range: Range, seed: number) {
  const data = testData(
    shape.reduce((x, y) => x * y, 1),
    seed,
    range.lo,
    range.hi,
  ).map((v, i) => (range.bothSigns && i % 2 === 1 ? -v : v));
  return { shape, data };
}

const ANY: Range = { lo: -2, hi: 2 };

const DIFFERENTIABLE: [string, (a: Tensor, b: Tensor) => Tensor, Range, Range][] = [
  ['add', b.add, ANY, ANY],
  ['sub', b.sub, ANY, ANY],
  ['mul', b.mul, ANY, ANY],
  ['div', b.div, ANY, { lo: 0.5, hi: 2, bothSigns: true }],
  ['pow', b.pow, { lo: 0.5, hi: 2 }, ANY],
  // Different ranges and seeds keep the operands apart, away from the ties where max and min are not differentiable.
  ['maximum', b.maximum, ANY, { lo: -1.5, hi: 1.5 }],
  ['minimum', b.minimum, ANY, { lo: -1.5, hi: 1.5 }],
];

/** The gradients of sum(f(a, b)) with respect to a and b (evaluated in f64 unless asked). */
function gradientsAt(
  f: (a: Tensor, b: Tensor) => Tensor,
  a: number[],
  bValues: number[],
  precision: 'f32' | 'f64' = 'f64',
): [number[], number[]] {
  const g = new Graph('grad');
  const x = g.input('a', [a.length]);
  const y = g.input('b', [bValues.length]);
  const [da, db] = grad(sum(f(x, y)), [x, y]);
  const feeds = { feeds: { a, b: bValues }, precision };
  return [values(da!, feeds), values(db!, feeds)];
}

describe('binary op gradients', () => {
  for (const [name, op, rangeA, rangeB] of DIFFERENTIABLE) {
    it(`${name} matches finite differences for both operands, with broadcasting`, () => {
      SHAPE_PAIRS.forEach(([shapeA, shapeB], k) => {
        checkGradients({
          inputs: [operand(shapeA, rangeA, 3 + k), operand(shapeB, rangeB, 31 + k)],
          build: ([x, y]) => op(x!, y!),
        });
      });
    });
  }

  for (const [name, op] of [
    ['div', b.div],
    ['pow', b.pow],
    ['maximum', b.maximum],
  ] as const) {
    it(`the gradients of ${name} are differentiable again, matching finite differences`, () => {
      checkGradients({
        inputs: [operand([2, 3], { lo: 0.5, hi: 2 }, 5), operand([3], { lo: 0.5, hi: 2, bothSigns: true }, 6)],
        build: ([x, y]) => {
          const [dx, dy] = grad(sum(op(x!, y!)), [x!, y!]);
          return b.add(dx!, dy!);
        },
      });
    });
  }

  it('where matches finite differences for both branches, with a broadcast condition', () => {
    checkGradients({
      inputs: [{ shape: [2, 1], dtype: 'bool', data: [1, 0] }, { shape: [2, 3] }, { shape: [3] }],
      build: ([c, x, y]) => b.where(c!, x!, y!),
    });
    checkGradients({
      inputs: [{ shape: [3], dtype: 'bool', data: [0, 1, 1] }, { shape: [] }, { shape: [2, 3] }],
      build: ([c, x, y]) => b.where(c!, x!, y!),
    });
  });

  it('where sends the gradient to the branch that was picked', () => {
    const g = new Graph('where');
    const c = g.input('c', [4], 'bool');
    const x = g.input('x', [4]);
    const y = g.input('y', [4]);
    const [dx, dy] = grad(sum(b.where(c, x, y)), [x, y]);
    const feeds = { feeds: { c: [1, 0, 0, 1], x: [1, 2, 3, 4], y: [5, 6, 7, 8] } };
    expect(values(dx!, feeds)).to.deep.equal([1, 0, 0, 1]);
    expect(values(dy!, feeds)).to.deep.equal([0, 1, 1, 0]);
  });

  it('maximum and minimum split the gradient half and half on ties', () => {
    expect(gradientsAt(b.maximum, [1, 2, 3], [1, 0, 5])).to.deep.equal([
      [0.5, 1, 0],
      [0.5, 0, 1],
    ]);
    expect(gradientsAt(b.minimum, [1, 2, 3], [1, 0, 5])).to.deep.equal([
      [0.5, 0, 1],
      [0.5, 1, 0],
    ]);
  });

  it('maximum of a tensor with itself has gradient 1', () => {
    const g = new Graph('self');
    const x = g.input('x', [3]);
    const [dx] = grad(sum(b.maximum(x, x)), [x]);
    expect(values(dx!, { feeds: { x: [-1, 0, 2] } })).to.deep.equal([1, 1, 1]);
  });

  it('pow has finite gradients at a zero base: 0 for the exponent, and 0 for x⁰', () => {
    const [da, db] = gradientsAt(b.pow, [0, 0, 0, 2], [2, 3, 0, 0]);
    expect(da).to.deep.equal([0, 0, 0, 0]);
    expect(db).to.deep.equal([0, 0, 0, Math.log(2)]);
  });

  it('pow matches finite differences for a negative base with an integer exponent', () => {
    checkGradients({ inputs: [{ shape: [3], data: [-1.5, -0.5, -2] }], build: ([x]) => b.pow(x!, 3) });
  });

  it('div keeps the divisor gradient finite in f32 where b² would overflow', () => {
    const [da, db] = gradientsAt(b.div, [1e30], [1e30], 'f32');
    expect(da[0]).to.equal(Math.fround(1 / Math.fround(1e30)));
    expect(db[0]).to.be.closeTo(-1e-30, 1e-36);
  });

  // x = [1, 2, 3] compared with y = [2, 2, 2].
  for (const [name, op, mask] of [
    ['equal', b.equal, [0, 1, 0]],
    ['notEqual', b.notEqual, [1, 0, 1]],
    ['less', b.less, [1, 0, 0]],
    ['lessEqual', b.lessEqual, [1, 1, 0]],
    ['greater', b.greater, [0, 0, 1]],
    ['greaterEqual', b.greaterEqual, [0, 1, 1]],
  ] as const) {
    it(`${name} carries no gradient: mask·x has gradient mask for x and 0 for y`, () => {
      const masked = (x: Tensor, y: Tensor): Tensor => b.mul(op(x, y).cast('f32'), x);
      expect(gradientsAt(masked, [1, 2, 3], [2, 2, 2])).to.deep.equal([mask, [0, 0, 0]]);
    });
  }
});
