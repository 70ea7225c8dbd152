import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { sum } from '../../../compiler/ops/reduce.js';
import type { SliceAxis } from '../../../compiler/ops/slice.js';
import { concat, pad, padWithInterior, slice, split } from '../../../compiler/ops/slice.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { values } from '../../helpers.js';
import { gradientOf } from './second-order.js';
import { sizeOf, staticShape } from '../../../compiler/shape.js';

/** The gradient of sum(f(x)·c) for x = [n] with c = 1, 2, … over the outputs (so each output's origin shows). */
function gradient1d(n: number, f: (x: Tensor) => Tensor): number[] {
  const g = new Graph('t');
  const x = g.input('x', [n]);
  const y = f(x);
  const weights = g.constant(Array.from({ length: sizeOf(staticShape('test', y.shape)) }, (_, i) => i + 1), { shape: y.shape });
  const [dx] = grad(sum(mul(y, weights)), [x]);
  return values(dx!, { feeds: { x: Array.from({ length: n }, (_, i) => i) } });
}

const sliced = (...spec: SliceAxis[]) => (x: Tensor): Tensor => slice(x, spec);

describe('slice gradients', () => {
  it('put each output cotangent back where the element was read, zero elsewhere', () => {
    expect(gradient1d(7, sliced({ start: 1, step: 3 }))).to.deep.equal([0, 1, 0, 0, 2, 0, 0]);
    expect(gradient1d(6, sliced({ start: 1, end: 5, step: 2 }))).to.deep.equal([0, 1, 0, 2, 0, 0]);
    expect(gradient1d(5, sliced({ start: 1, end: 3 }))).to.deep.equal([0, 1, 2, 0, 0]);
  });

  it('walk negative steps backward', () => {
    expect(gradient1d(5, sliced({ step: -1 }))).to.deep.equal([5, 4, 3, 2, 1]);
    expect(gradient1d(7, sliced({ start: 5, step: -2 }))).to.deep.equal([0, 3, 0, 2, 0, 1, 0]);
    expect(gradient1d(8, sliced({ start: -2, end: 0, step: -3 }))).to.deep.equal([0, 0, 0, 2, 0, 0, 1, 0]);
  });

  it('give zeros for an empty slice and one place for a single element', () => {
    expect(gradient1d(4, sliced({ start: 3, end: 1 }))).to.deep.equal([0, 0, 0, 0]);
    expect(gradient1d(4, sliced({ start: 2, end: 3, step: 5 }))).to.deep.equal([0, 0, 1, 0]);
    expect(gradient1d(4, sliced({ start: 2, end: 1, step: -3 }))).to.deep.equal([0, 0, 1, 0]);
  });

  it('are a pad with interior padding, so strided slices transpose without scatter', () => {
    const g = new Graph('t');
    const x = g.input('x', [9, 4]);
    const loss = sum(slice(x, [{ start: 1, end: 8, step: 3 }, { step: -2 }]));
    const forward = g.nodes.length;
    grad(loss, [x]);
    const pads = g.nodes.slice(forward).filter((n) => n.op === 'pad');
    expect(pads.map((n) => n.attrs)).to.deep.equal([{ before: [1, 1], after: [1, 0], interior: [2, 1], value: 0 }]);
  });

  const specs: [number[], SliceAxis[]][] = [
    [[7, 3], [{ step: 2 }]],
    [[8, 5], [{ start: 1, step: 3 }, { start: -4, end: -1 }]],
    [[6, 5], [{ step: -1 }, { start: 4, end: 0, step: -2 }]],
    [[2, 9, 3], [null, { start: 7, step: -3 }, [null, null, 2]]],
    [[4, 1, 3], [{ start: 1, end: 3 }, null, { start: 2, end: 3 }]],
    [[5, 2], [{ start: 4, end: 1 }]],
  ];
  for (const [shape, spec] of specs) {
    it(`match finite differences for [${shape}] sliced ${JSON.stringify(spec)}`, () => {
      checkGradients({ inputs: [{ shape }], build: ([x]) => slice(x!, spec) });
    });
  }

  it('of second order, through the pad back to a slice', () => {
    checkGradients({
      inputs: [{ shape: [7, 4] }],
      build: gradientOf(([x]) => {
        const y = slice(x!, [{ start: 1, step: 2 }, { step: -3 }]);
        return mul(y, y);
      }),
    });
  });
});

describe('pad gradients', () => {
  it('read the operand cotangent back from where its elements were placed', () => {
    expect(gradient1d(3, (x) => pad(x, [[2, 1]], 5))).to.deep.equal([3, 4, 5]);
    expect(gradient1d(3, (x) => padWithInterior(x, { before: [1], after: [2], interior: [2] }, 7))).to.deep.equal([2, 5, 8]);
  });

  const cases: [number[], number[], number[], number[]][] = [
    [[3, 2], [1, 0], [2, 1], [0, 0]],
    [[3, 4], [0, 2], [1, 0], [1, 2]],
    [[2, 1, 3], [1, 0, 2], [0, 1, 1], [3, 5, 1]],
    [[0, 2], [1, 1], [1, 0], [2, 1]],
  ];
  for (const [shape, before, after, interior] of cases) {
    it(`match finite differences for [${shape}] padded ${before}/${after} with interior ${interior}`, () => {
      checkGradients({ inputs: [{ shape }], build: ([x]) => padWithInterior(x!, { before, after, interior }, 0.5) });
    });
  }

  it('of second order, through the slice back to a pad', () => {
    checkGradients({
      inputs: [{ shape: [3, 2] }],
      build: gradientOf(([x]) => {
        const y = padWithInterior(x!, { before: [1, 0], after: [0, 2], interior: [1, 2] }, 1);
        return mul(y, y);
      }),
    });
  });
});

describe('concat gradients', () => {
  it('give each operand its own stretch of the cotangent, on any axis', () => {
    checkGradients({
      inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 4] }, { shape: [2, 2, 4] }],
      build: ([a, b, c]) => concat([a!, b!, c!], 1),
    });
    checkGradients({ inputs: [{ shape: [3, 2] }, { shape: [3, 1] }], build: ([a, b]) => concat([a!, b!], -1) });
    checkGradients({ inputs: [{ shape: [2] }, { shape: [0] }, { shape: [3] }], build: ([a, b, c]) => concat([a!, b!, c!], 0) });
  });

  it('add up when one tensor is joined twice', () => {
    expect(gradient1d(2, (x) => concat([x, x], 0))).to.deep.equal([4, 6]);
  });

  it('reach through split, a composite of slices', () => {
    checkGradients({
      inputs: [{ shape: [2, 6] }],
      build: ([x]) => {
        const [a, b, c] = split(x!, [1, 3, 2], 1) as [Tensor, Tensor, Tensor];
        return concat([c, mul(a, b)], 1);
      },
    });
  });

  it('of second order', () => {
    checkGradients({
      inputs: [{ shape: [2, 3] }, { shape: [2, 2] }],
      build: gradientOf(([a, b]) => {
        const y = concat([a!, b!], 1);
        return mul(y, y);
      }),
    });
  });
});
