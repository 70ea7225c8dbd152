import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { logSoftmax, mse, oneHotOp, softmax, softmaxCrossEntropy } from '../../../compiler/ops/nn.js';
import { noGradient } from '../../../compiler/ops/op.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, values } from '../../helpers.js';
import { gradientOf } from './second-order.js';

describe('softmax and logSoftmax gradients', () => {
  const axes: [number[], number][] = [
    [[5], 0],
    [[3, 4], -1],
    [[3, 4], 0],
    [[2, 3, 4], 1],
    [[2, 1, 3], 1],
  ];
  for (const [f, name] of [
    [softmax, 'softmax'],
    [logSoftmax, 'logSoftmax'],
  ] as const) {
    for (const [shape, axis] of axes) {
      it(`${name} matches finite differences for [${shape}] along axis ${axis}`, () => {
        checkGradients({ inputs: [{ shape, lo: -3, hi: 3 }], build: ([x]) => f(x!, axis) });
      });
    }

    it(`${name} has finite, exact gradients at logits of ±1e4`, () => {
      const g = new Graph('t');
      const x = g.input('x', [3]);
      const [dx] = grad(mul(f(x), g.constant([1, 0, 0])).sum(), [x]);
      const got = values(dx!, { feeds: { x: [1e4, 1e4, -1e4] }, precision: 'f64' });
      // softmax = [½, ½, 0]: d softmax₀ = ½·([1,0,0] − ½); d logSoftmax₀ = [1,0,0] − softmax.
      expectClose(got, name === 'softmax' ? [0.25, -0.25, 0] : [0.5, -0.5, 0], 1e-12, 1e-300);
    });

    it(`${name} is twice differentiable`, () => {
      checkGradients({ inputs: [{ shape: [2, 4], lo: -2, hi: 2 }], build: gradientOf(([x]) => f(x!, -1)) });
      checkGradients({ inputs: [{ shape: [3, 2, 2], lo: -2, hi: 2 }], build: gradientOf(([x]) => f(x!, 0)) });
    });
  }

  it('oneHot passes no gradient', () => {
    expect(oneHotOp.vjp).to.equal(noGradient);
  });
});

describe('loss gradients', () => {
  it('softmaxCrossEntropy has gradient (softmax − onehot)/N with respect to the logits', () => {
    const g = new Graph('t');
    const logits = g.input('logits', [2, 3]);
    const labels = g.constant([2, 0], { dtype: 'i32' });
    const [dlogits] = grad(softmaxCrossEntropy(logits, labels), [logits]);
    const rows = [
      [1, 2, 3],
      [0.5, -1, 0],
    ];
    const got = values(dlogits!, { feeds: { logits: rows.flat() }, precision: 'f64' });
    const expected = rows.flatMap((row, n) => {
      const total = row.reduce((s, v) => s + Math.exp(v), 0);
      return row.map((v, c) => (Math.exp(v) / total - (c === [2, 0][n] ? 1 : 0)) / 2);
    });
    expectClose(got, expected, 1e-12, 1e-15);
  });

  it('softmaxCrossEntropy matches finite differences, for each reduction', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      checkGradients({
        inputs: [{ shape: [2, 3, 4], lo: -2, hi: 2 }],
        build: ([x], g) => softmaxCrossEntropy(x!, g.constant([[0, 3, 1], [2, 2, 9]], { dtype: 'i32' }), { reduction }),
      });
    }
  });

  it('mse matches finite differences in both operands', () => {
    checkGradients({ inputs: [{ shape: [3, 2] }, { shape: [3, 2] }], build: ([p, t]) => mse(p!, t!) });
    checkGradients({ inputs: [{ shape: [4] }, { shape: [4] }], build: ([p, t]) => mse(p!, t!, { reduction: 'none' }) });
  });
});
