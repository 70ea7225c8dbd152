import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { dropout, randomUniform } from '../../../compiler/ops/random.js';
import { sgd } from '../../../compiler/optim.js';
import { hashName, philox4x32 } from '../../../compiler/random.js';
import { evaluate } from '../../../compiler/reference.js';
import type { InterpretOptions } from '../../../compiler/reference.js';
import { ReferenceSession } from '../../../compiler/reference-session.js';
import { STEP_COUNTER } from '../../../compiler/ops/step-counter.js';
import { trainingProgram } from '../../../compiler/train.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { values } from '../../helpers.js';
import { trainingBranch } from './training-branch.js';

/** Values of `t` in a training step whose step counter (if any) reads `step`. */
function trained(t: Tensor, step = 0, options: InterpretOptions = {}): number[] {
  return Array.from(evaluate([t], { mode: 'train', params: { [STEP_COUNTER]: [step] }, ...options })[0]!.data);
}

const fractionZero = (xs: readonly number[]): number => xs.filter((v) => v === 0).length / xs.length;

describe('randomUniform', () => {
  it('draws element i from Philox4x32-10: word i % 4 of counter (⌊i/4⌋, step, 1, 0), key (seed, hash of the stream)', () => {
    const g = new Graph('t', { seed: 42 });
    const step = g.input('step', [], 'i32');
    const u = randomUniform(g, [2, 3], { stream: 'noise', counter: step });
    const got = values(u, { feeds: { step: [5] } });
    const expected = [0, 1, 2, 3, 4, 5].map((i) => {
      const word = philox4x32([Math.floor(i / 4), 5, 1, 0], [42, hashName('noise')])[i % 4]!;
      return Math.floor(word / 256) / 2 ** 24;
    });
    expect(got).to.deep.equal(expected);
  });

  it('gives values in [0, 1) with the mean and variance of U(0, 1) over 10k elements', () => {
    const g = new Graph('t');
    const u = trained(randomUniform(g, [100, 100], { stream: 's' }));
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    const variance = u.reduce((a, b) => a + (b - mean) ** 2, 0) / u.length;
    expect(Math.min(...u)).to.be.at.least(0);
    expect(Math.max(...u)).to.be.below(1);
    expect(mean).to.be.closeTo(0.5, 0.015);
    expect(variance).to.be.closeTo(1 / 12, 0.005);
  });

  it('repeats for the same seed, stream and counter, and differs when any of them changes', () => {
    const draw = (seed: number, stream: string, step: number): number[] => {
      const g = new Graph('t', { seed });
      return trained(randomUniform(g, [64], { stream }), step);
    };
    const base = draw(1, 'a', 0);
    expect(draw(1, 'a', 0)).to.deep.equal(base);
    for (const other of [draw(2, 'a', 0), draw(1, 'b', 0), draw(1, 'a', 1)]) {
      expect(other.filter((v, i) => v === base[i]).length).to.be.below(3);
    }
  });

  it('uses the step counter by default, creating it with its increment', () => {
    const g = new Graph('t');
    const u = randomUniform(g, [3], { stream: 's' });
    const counter = g.get(STEP_COUNTER);
    expect(u.node.inputs).to.deep.equal([counter.id]);
    expect(g.assignments.has(counter.id)).to.equal(true);
  });

  it('rejects a counter that is not an i32 scalar, an empty stream and unknown options', () => {
    const g = new Graph('t');
    expect(() => randomUniform(g, [2], { stream: 's', counter: g.input('f', []) })).to.throw(DTypeError, /randomUniform\(f32\[\]\): the counter must be i32, got f32/);
    expect(() => randomUniform(g, [2], { stream: 's', counter: g.input('v', [1], 'i32') })).to.throw(
      ShapeError,
      /randomUniform\(i32\[1\]\): the counter must be a scalar, got shape \[1\]\. Fix: pass one i32 step count/,
    );
    expect(() => randomUniform(g, [2], { stream: '' })).to.throw(ArgumentError, /randomUniform: stream must be a non-empty name/);
    expect(() => randomUniform(g, [2], { stream: 's', seed: 3 } as never)).to.throw(ArgumentError, /randomUniform: unknown option 'seed'\. Options: stream, counter/);
    expect(() => randomUniform(g, [2, -1], { stream: 's' })).to.throw(ArgumentError, /randomUniform: shape \[2,-1\] has a bad dimension -1/);
    // Nothing was built by the failed calls: not even the default counter.
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['input', 'input']);
  });
});

describe('dropout', () => {
  it('zeroes a fraction ≈ rate of 10k elements in a training step and scales the rest by 1/(1 − rate)', () => {
    const g = new Graph('t');
    const x = g.input('x', [100, 100]);
    const feeds = { x: new Array(10000).fill(2) };
    for (const rate of [0.1, 0.5, 0.8]) {
      const y = trained(dropout(x, rate), 0, { feeds });
      // 4 standard deviations of a binomial fraction over 10k draws.
      expect(fractionZero(y)).to.be.closeTo(rate, 4 * Math.sqrt((rate * (1 - rate)) / 10000));
      expect(new Set(y.filter((v) => v !== 0))).to.deep.equal(new Set([Math.fround(2 / (1 - rate))]));
    }
  });

  it('is the identity at inference, and rate 0 returns x itself', () => {
    const g = new Graph('t');
    const x = g.input('x', [4]);
    expect(values(dropout(x, 0.5), { feeds: { x: [1, 2, 3, 4] } })).to.deep.equal([1, 2, 3, 4]);
    const before = g.nodes.length;
    expect(x.dropout(0)).to.equal(x);
    expect(g.nodes.length).to.equal(before);
  });

  it('draws a new mask every step, a different one per layer, and the same ones for the same seed', () => {
    const masks = (seed: number) => {
      const g = new Graph('t', { seed });
      const x = g.input('x', [1000]);
      const [first, second] = [dropout(x, 0.5), dropout(x, 0.5)];
      const feeds = { x: new Array(1000).fill(1) };
      return { first: trained(first, 0, { feeds }), again: trained(first, 1, { feeds }), second: trained(second, 0, { feeds }), names: g.nodes.filter((n) => n.op === 'randomUniform').map((n) => n.attrs['stream']) };
    };
    const a = masks(7);
    expect(a.names).to.deep.equal(['dropout.0', 'dropout.1']);
    const agreement = (p: number[], q: number[]): number => p.filter((v, i) => v === q[i]).length / p.length;
    // Independent masks of rate 0.5 agree on about half the elements.
    expect(agreement(a.first, a.again)).to.be.closeTo(0.5, 0.07);
    expect(agreement(a.first, a.second)).to.be.closeTo(0.5, 0.07);
    expect(masks(7)).to.deep.equal(a);
    expect(agreement(masks(8).first, a.first)).to.be.closeTo(0.5, 0.07);
  });

  it('keys its stream by the layer name: one name, one mask', () => {
    const g = new Graph('t');
    const x = g.input('x', [200]);
    const feeds = { x: new Array(200).fill(1) };
    const named = trained(dropout(x, 0.3, { name: 'enc.drop' }), 0, { feeds });
    expect(trained(dropout(x, 0.3, { name: 'enc.drop' }), 0, { feeds })).to.deep.equal(named);
    expect(trained(dropout(x, 0.3, { name: 'dec.drop' }), 0, { feeds })).to.not.deep.equal(named);
  });

  it('changes its mask from one training step to the next through the step counter', () => {
    const g = new Graph('t');
    const x = g.input('x', [64]);
    const w = g.param('w', [64], { init: 'ones' });
    const y = dropout(x.mul(w), 0.5);
    const program = trainingProgram(g, { loss: y.sum(), optimizer: sgd({ lr: 0 }), outputs: { y } });
    const session = new ReferenceSession(program);
    const feeds = { x: new Array(64).fill(1) };
    const first = Array.from(session.trainStep(feeds)['y']!.data);
    const second = Array.from(session.trainStep(feeds)['y']!.data);
    expect(second).to.not.deep.equal(first);
    expect(Array.from(session.params[STEP_COUNTER]!.data)).to.deep.equal([2]);
  });

  it('rejects rates outside [0, 1), non-f32 operands and bad names', () => {
    const g = new Graph('t');
    const x = g.input('x', [3]);
    for (const rate of [1, -0.1, Number.NaN]) {
      expect(() => dropout(x, rate)).to.throw(ArgumentError, new RegExp(`dropout: rate must be a finite number in \\[0, 1\\), got ${rate}\\.`));
    }
    expect(() => dropout(x, '0.5' as never)).to.throw(ArgumentError, /dropout: rate must be a finite number in \[0, 1\), got '0.5'/);
    expect(() => dropout(x.cast('i32'), 0.5)).to.throw(DTypeError, /dropout\(i32\[3\]\): the operand must be f32, got i32/);
    expect(() => dropout(x, 0.5, { name: '' })).to.throw(ArgumentError, /dropout: name must be a non-empty string/);
    expect(() => dropout(x, 0.5, { seed: 1 } as never)).to.throw(ArgumentError, /dropout: unknown option 'seed'\. Options: name/);
  });

  it('matches finite differences in a training step (the mask is fixed for a given step)', () => {
    checkGradients({ inputs: [{ shape: [5, 7] }], build: ([x]) => trainingBranch(dropout(x!, 0.4)) });
  });
});
