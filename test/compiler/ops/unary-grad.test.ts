import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { sum } from '../../../compiler/ops/reduce.js';
import * as u from '../../../compiler/ops/unary.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { testData, values } from '../../helpers.js';

/** Shapes every op is checked on: a scalar, size-1 dims, vectors and matrices. */
const SHAPES = [[], [1], [5], [2, 3], [3, 1], [2, 1, 3]];

/** Where an op's input is drawn from: `[lo, hi)`, or values of either sign at least `gap` away from 0 (kinks). */
type Domain = { lo: number; hi: number } | { gap: number; hi: number };

const ANY: Domain = { lo: -2, hi: 2 };
const POSITIVE: Domain = { lo: 0.5, hi: 3 };
const AWAY_FROM_ZERO: Domain = { gap: 0.1, hi: 2 };

function inputData(domain: Domain, size: number, seed: number): number[] {
  if ('lo' in domain) return testData(size, seed, domain.lo, domain.hi);
  // Magnitudes in [gap, hi), signs alternating so both sides of the kink are covered.
  return testData(size, seed, domain.gap, domain.hi).map((v, i) => (i % 2 === 0 ? -v : v));
}

const DIFFERENTIABLE: [string, (x: Tensor) => Tensor, Domain][] = [
  ['neg', u.neg, ANY],
  ['abs', u.abs, AWAY_FROM_ZERO],
  ['square', u.square, ANY],
  ['relu', u.relu, AWAY_FROM_ZERO],
  ['exp', u.exp, ANY],
  ['log', u.log, POSITIVE],
  ['log1p', u.log1p, { lo: -0.5, hi: 3 }],
  ['expm1', u.expm1, ANY],
  ['sqrt', u.sqrt, POSITIVE],
  ['rsqrt', u.rsqrt, POSITIVE],
  ['reciprocal', u.reciprocal, POSITIVE],
  ['reciprocal of negatives', u.reciprocal, { lo: -3, hi: -0.5 }],
  ['sin', u.sin, { lo: -4, hi: 4 }],
  ['cos', u.cos, { lo: -4, hi: 4 }],
  ['atan', u.atan, { lo: -4, hi: 4 }],
  ['tanh', u.tanh, ANY],
  ['erf', u.erf, ANY],
  ['sigmoid', u.sigmoid, { lo: -6, hi: 6 }],
  ['softplus', u.softplus, { lo: -6, hi: 6 }],
  ['leakyRelu', (x) => u.leakyRelu(x), AWAY_FROM_ZERO],
  ['leakyRelu alpha 0.2', (x) => u.leakyRelu(x, 0.2), AWAY_FROM_ZERO],
  ['elu', (x) => u.elu(x), AWAY_FROM_ZERO],
  ['elu alpha 0.5', (x) => u.elu(x, 0.5), AWAY_FROM_ZERO],
  ['gelu (erf)', (x) => u.gelu(x), { lo: -4, hi: 4 }],
  ['gelu (tanh)', (x) => u.gelu(x, { approximate: 'tanh' }), { lo: -4, hi: 4 }],
];

/** The gradient of sum(f(x)) at `data`, evaluated in f64. */
function gradientAt(f: (x: Tensor) => Tensor, data: number[]): number[] {
  const g = new Graph('grad');
  const x = g.input('x', [data.length]);
  const [dx] = grad(sum(f(x)), [x]);
  return values(dx!, { feeds: { x: data }, precision: 'f64' });
}

describe('unary op gradients', () => {
  for (const [name, op, domain] of DIFFERENTIABLE) {
    it(`${name} matches finite differences on every shape`, () => {
      SHAPES.forEach((shape, k) => {
        const size = shape.reduce((a, b) => a * b, 1);
        checkGradients({ inputs: [{ shape, data: inputData(domain, size, 11 + k) }], build: ([x]) => op(x!) });
      });
    });
  }

  it('clip matches finite differences inside, outside and with an open side', () => {
    const data = [-1.5, -0.7, -0.3, 0, 0.2, 0.45, 0.9, 2];
    for (const [min, max] of [[-0.5, 0.5], [null, 0.5], [-0.5, null], [null, null]] as const) {
      checkGradients({ inputs: [{ shape: [2, 4], data }], build: ([x]) => u.clip(x!, min, max) });
    }
  });

  it('clip passes the gradient at its bounds and blocks it outside, as PyTorch', () => {
    expect(gradientAt((x) => u.clip(x, -1, 1), [-2, -1, 0, 1, 2])).to.deep.equal([0, 1, 1, 1, 0]);
    expect(gradientAt((x) => u.clip(x, null, 1), [-2, 1, 2])).to.deep.equal([1, 1, 0]);
  });

  it('relu, abs, leakyRelu and elu pick documented subgradients at 0', () => {
    expect(gradientAt(u.relu, [0])).to.deep.equal([0]);
    expect(gradientAt(u.abs, [0])).to.deep.equal([0]);
    expect(gradientAt((x) => u.leakyRelu(x, 0.2), [0])).to.deep.equal([0.2]);
    expect(gradientAt((x) => u.elu(x, 0.5), [0])).to.deep.equal([0.5]);
  });

  it('sigmoid and softplus gradients stay finite far from 0', () => {
    // exp(±800) overflows f64: a form like e⁻ˣ/(1 + e⁻ˣ)² would give NaN here.
    for (const value of gradientAt(u.sigmoid, [-800, -100, 100, 800])) {
      expect(value).to.be.at.least(0).and.below(1e-40);
    }
    const softplus = gradientAt(u.softplus, [-800, 800]);
    expect(softplus[0]).to.be.at.least(0).and.below(1e-300);
    expect(softplus[1]).to.equal(1);
  });

  for (const [name, op] of [
    ['sign', u.sign],
    ['floor', u.floor],
    ['ceil', u.ceil],
    ['round', u.round],
  ] as const) {
    it(`${name} has an exactly zero gradient`, () => {
      expect(gradientAt(op, [-2.5, -0.7, 0.3, 1.5, 4])).to.deep.equal([0, 0, 0, 0, 0]);
    });
  }
});
