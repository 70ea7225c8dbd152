import { expect } from 'chai';
import { ArgumentError, DTypeError, GraphError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { batchNorm, batchNormLayer, layerNorm, rmsNorm } from '../../../compiler/ops/norm.js';
import { sgd } from '../../../compiler/optim.js';
import { compile } from '../../../compiler/plan.js';
import { evaluate } from '../../../compiler/reference.js';
import { ReferenceSession } from '../../../compiler/reference-session.js';
import { trainingProgram } from '../../../compiler/train.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, testData, values } from '../../helpers.js';
import { trainingBranch } from './training-branch.js';

const F64 = { precision: 'f64' } as const;

/** (v − mean)/√(biased variance + ε) of one group, in double. */
function standardized(group: readonly number[], epsilon = 1e-5): number[] {
  const mean = group.reduce((a, b) => a + b, 0) / group.length;
  const variance = group.reduce((a, b) => a + (b - mean) ** 2, 0) / group.length;
  return group.map((v) => (v - mean) / Math.sqrt(variance + epsilon));
}

/** The forward kernels' ops of a compiled graph. */
function forwardKernels(graph: Graph): string[] {
  const plan = compile(graph);
  return plan.entries['forward']!.dispatches.map((k) => plan.kernels[k]!.ops.join('+'));
}

describe('layerNorm', () => {
  it('normalizes each row over the last axis, then scales by gamma and shifts by beta', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 4]);
    const gamma = g.input('gamma', [4]);
    const beta = g.input('beta', [4]);
    const feeds = { x: [1, 2, 3, 4, -1, 0, 0, 1], gamma: [2, 1, 0.5, -1], beta: [0, 1, 2, 3] };
    // Row 1: mean 2.5, variance 1.25; row 2: mean 0, variance 0.5.
    const rows = [...standardized([1, 2, 3, 4]), ...standardized([-1, 0, 0, 1])];
    expectClose(values(layerNorm(x), { feeds, ...F64 }), rows, 1e-14, 0);
    const affine = rows.map((v, i) => v * feeds.gamma[i % 4]! + feeds.beta[i % 4]!);
    expectClose(values(x.layerNorm({ gamma, beta }), { feeds, ...F64 }), affine, 1e-14, 1e-15);
  });

  it('normalizes over several axes, non-trailing ones included, with gamma shaped as those axes', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3, 2]);
    const gamma = g.input('gamma', [2, 2]);
    const data = testData(12, 3);
    const gammaData = [1, 2, 3, 4];
    const y = values(layerNorm(x, { axes: [0, -1], gamma, epsilon: 1e-3 }), { feeds: { x: data, gamma: gammaData }, ...F64 });
    for (let j = 0; j < 3; j++) {
      // Group j holds x[a, j, c] for a, c in {0, 1}, in (a, c) order: gamma's order.
      const at = [0, 1, 6, 7].map((k) => k + 2 * j);
      const expected = standardized(at.map((k) => data[k]!), 1e-3).map((v, k) => v * gammaData[k]!);
      expectClose(at.map((k) => y[k]!), expected, 1e-13, 1e-15);
    }
  });

  it('keeps a variance of order 1 accurate in f32 at inputs near 1e4 (mean of squared deviations)', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 16]);
    const feeds = { x: testData(32, 5, -2, 2).map((v) => v + 1e4) };
    const exact = values(layerNorm(x), { feeds, ...F64 });
    // E[x²] − E[x]² would subtract numbers near 1e8 (f32 spacing 8) and lose the variance.
    expectClose(values(layerNorm(x), { feeds }), exact, 0, 2e-3);
  });

  it('compiles its forward pass over rows of up to 256 to one row kernel: mean, variance, rsqrt, scale and shift', () => {
    const g = new Graph('t');
    const x = g.input('x', [7, 37]);
    g.output('y', layerNorm(x, { gamma: g.param('gamma', [37], { init: 'ones' }), beta: g.param('beta', [37]) }));
    expect(forwardKernels(g)).to.deep.equal(['mean+sub+square+mean+add+rsqrt+mul+mul+add']);
  });

  it('rejects bad axes, operands and options, naming the call', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3]);
    expect(() => layerNorm(x, { axes: 2 })).to.throw(ShapeError, /layerNorm\(f32\[2,3\]\): axis 2 is out of range for rank 2/);
    expect(() => layerNorm(x, { axes: [1, -1] })).to.throw(ShapeError, /layerNorm.*name the same axis twice/);
    expect(() => layerNorm(x, { axes: [] })).to.throw(ArgumentError, /layerNorm\(f32\[2,3\]\): axes is empty.*Fix: name at least one axis/);
    expect(() => layerNorm(x, { axes: 0.5 })).to.throw(ArgumentError, /layerNorm: axes must be an integer or a list of integers, got 0.5/);
    expect(() => layerNorm(g.input('s', []))).to.throw(ShapeError, /layerNorm\(f32\[\]\): axis -1 is out of range for rank 0/);
    expect(() => layerNorm(x.cast('i32'))).to.throw(DTypeError, /layerNorm\(i32\[2,3\]\): the operand must be f32, got i32/);
    expect(() => layerNorm(x, { gamma: g.input('g', [2]) })).to.throw(
      ShapeError,
      /layerNorm\(f32\[2,3\], f32\[2\]\): gamma must have shape \[3\] \(x's size on axes \[1\]\), got \[2\]\. Fix: declare gamma with shape \[3\]/,
    );
    expect(() => layerNorm(x, { beta: g.input('b', [3], 'i32') })).to.throw(DTypeError, /layerNorm\(f32\[2,3\], i32\[3\]\): beta must be f32/);
    expect(() => layerNorm(x, { gamma: new Graph('other').input('g', [3]) })).to.throw(ArgumentError, /gamma g:f32\[3\] belongs to graph 'other'/);
    expect(() => layerNorm(x, { epsilon: 0 })).to.throw(ArgumentError, /layerNorm: epsilon must be a finite number > 0, got 0\./);
    expect(() => layerNorm(x, { epsilon: Number.NaN })).to.throw(ArgumentError, /epsilon must be a finite number > 0, got NaN/);
    expect(() => layerNorm(x, { eps: 1e-3 } as never)).to.throw(ArgumentError, /layerNorm: unknown option 'eps'\. Options: axes, epsilon, gamma, beta/);
  });

  it('matches finite differences for x, gamma and beta', () => {
    checkGradients({
      inputs: [{ shape: [3, 5] }, { shape: [5], lo: 0.5, hi: 1.5 }, { shape: [5] }],
      build: ([x, gamma, beta]) => layerNorm(x!, { gamma: gamma!, beta: beta! }),
      rtol: 1e-5,
    });
    checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: ([x]) => layerNorm(x!, { axes: [0, 2] }), rtol: 1e-5 });
  });
});

describe('rmsNorm', () => {
  it('divides by the root mean square over the last axis, then scales by gamma', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 4]);
    const gamma = g.input('gamma', [4]);
    const feeds = { x: [1, 2, 3, 4, -2, 0, 0, 2], gamma: [1, 2, 3, 4] };
    // Mean squares 7.5 and 2.
    const expected = [1, 2, 3, 4].map((v) => v / Math.sqrt(7.5 + 1e-5)).concat([-2, 0, 0, 2].map((v) => v / Math.sqrt(2 + 1e-5)));
    expectClose(values(rmsNorm(x), { feeds, ...F64 }), expected, 1e-14, 0);
    expectClose(values(x.rmsNorm({ gamma }), { feeds, ...F64 }), expected.map((v, i) => v * feeds.gamma[i % 4]!), 1e-14, 0);
  });

  it('compiles its forward pass over rows of up to 256 to one row kernel', () => {
    const g = new Graph('t');
    g.output('y', rmsNorm(g.input('x', [7, 37]), { gamma: g.param('gamma', [37], { init: 'ones' }) }));
    expect(forwardKernels(g)).to.deep.equal(['square+mean+add+rsqrt+mul+mul']);
  });

  it('takes no beta, and checks gamma and epsilon', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3]);
    expect(() => rmsNorm(x, { beta: x } as never)).to.throw(ArgumentError, /rmsNorm: unknown option 'beta'\. Options: axes, epsilon, gamma/);
    expect(() => rmsNorm(x, { gamma: g.input('g', [2, 3]) })).to.throw(ShapeError, /rmsNorm.*gamma must have shape \[3\]/);
    expect(() => rmsNorm(x, { epsilon: -1 })).to.throw(ArgumentError, /rmsNorm: epsilon must be a finite number > 0, got -1/);
  });

  it('matches finite differences for x and gamma', () => {
    checkGradients({
      inputs: [{ shape: [4, 3] }, { shape: [3] }],
      build: ([x, gamma]) => rmsNorm(x!, { gamma: gamma! }),
      rtol: 1e-5,
    });
  });
});

describe('batchNorm', () => {
  /** Inputs gamma and beta, and running statistics (zeros and ones), for `channels` channels. */
  function statistics(g: Graph, channels: number) {
    return {
      gamma: g.input('gamma', [channels]),
      beta: g.input('beta', [channels]),
      runningMean: g.state('runningMean', [channels]),
      runningVar: g.state('runningVar', [channels], { init: 'ones' }),
    };
  }

  /** A batch norm over x of `shape`, channels on axis 1. */
  function layer(shape: number[]) {
    const g = new Graph('bn');
    const x = g.input('x', shape);
    return batchNorm(x, statistics(g, shape[1]!));
  }

  it('normalizes each channel with the batch statistics (biased variance) in a training step', () => {
    const y = layer([4, 2]);
    const feeds = { x: [1, 10, 2, 20, 3, 30, 6, 40], gamma: [2, -1], beta: [0.5, 1] };
    const columns = [standardized([1, 2, 3, 6]), standardized([10, 20, 30, 40])];
    const expected = [0, 1, 2, 3].flatMap((n) => [columns[0]![n]! * 2 + 0.5, -columns[1]![n]! + 1]);
    expectClose(Array.from(evaluate([y], { feeds, mode: 'train', ...F64 })[0]!.data), expected, 1e-13, 1e-15);
  });

  it('normalizes with the running statistics at inference', () => {
    const y = layer([2, 2]);
    const feeds = { x: [1, 2, 3, 4], gamma: [2, 1], beta: [0, 1] };
    const params = { runningMean: [1, -1], runningVar: [4, 0.25] };
    const expected = [(1 - 1) / Math.sqrt(4 + 1e-5) * 2, (2 + 1) / Math.sqrt(0.25 + 1e-5) + 1, (3 - 1) / Math.sqrt(4 + 1e-5) * 2, (4 + 1) / Math.sqrt(0.25 + 1e-5) + 1];
    expectClose(values(y, { feeds, params, ...F64 }), expected, 1e-13, 0);
  });

  it('normalizes NCHW over batch and space, per channel (axis 1)', () => {
    const y = layer([2, 3, 2, 2]);
    const data = testData(24, 9, -3, 3);
    const out = Array.from(evaluate([y], { feeds: { x: data, gamma: [1, 1, 1], beta: [0, 0, 0] }, mode: 'train', ...F64 })[0]!.data);
    for (let c = 0; c < 3; c++) {
      const at = [0, 1].flatMap((n) => [0, 1, 2, 3].map((s) => n * 12 + c * 4 + s));
      expectClose(at.map((k) => out[k]!), standardized(at.map((k) => data[k]!)), 1e-13, 1e-15);
    }
  });

  it('updates the running statistics in each training step (unbiased variance, momentum 0.1), and forward then uses them', () => {
    const g = new Graph('bn', { seed: 2 });
    const x = g.input('x', [3, 2]);
    const y = batchNormLayer(g, 'bn', 2)(x);
    g.output('y', y);
    const program = trainingProgram(g, { loss: y.mul(g.constant([[1, 2], [3, 4], [5, 6]])).sum(), optimizer: sgd({ lr: 0 }) });
    const session = new ReferenceSession(program, { precision: 'f64' });
    const batches = [[1, 4, 2, 8, 6, 0], [0, 1, 3, -1, 3, 3]];
    const mean = [0, 0];
    const variance = [1, 1];
    for (const batch of batches) {
      session.trainStep({ x: batch });
      for (let c = 0; c < 2; c++) {
        const column = [batch[c]!, batch[c + 2]!, batch[c + 4]!];
        const m = column.reduce((a, b) => a + b, 0) / 3;
        const unbiased = column.reduce((a, b) => a + (b - m) ** 2, 0) / 2;
        mean[c] = 0.9 * mean[c]! + 0.1 * m;
        variance[c] = 0.9 * variance[c]! + 0.1 * unbiased;
      }
      expectClose(session.params['bn.runningMean']!.data, mean, 1e-14, 1e-15);
      expectClose(session.params['bn.runningVar']!.data, variance, 1e-14, 0);
    }
    // By hand: batch means [3, 4] then [2, 1], unbiased variances [7, 16] then [3, 4].
    expectClose(mean, [0.47, 0.46], 1e-14, 0);
    expectClose(variance, [1.74, 2.65], 1e-14, 0);
    const input = [1, 2, -1, 0, 4, 4];
    const expected = input.map((v, i) => (v - mean[i % 2]!) / Math.sqrt(variance[i % 2]! + 1e-5));
    expectClose(session.forward({ x: input })['y']!.data, expected, 1e-13, 0);
    // forward applies no update.
    expectClose(session.params['bn.runningMean']!.data, mean, 1e-14, 1e-15);
  });

  it('matches finite differences for x, gamma and beta in a training step ([N, C] and NCHW)', () => {
    const build = (shape: number[]) => ([x, gamma, beta]: Tensor[], g: Graph): Tensor => {
      const channels = shape[1]!;
      const runningMean = g.state('runningMean', [channels]);
      const runningVar = g.state('runningVar', [channels], { init: 'ones' });
      return trainingBranch(batchNorm(x!, { gamma: gamma!, beta: beta!, runningMean, runningVar }));
    };
    checkGradients({ inputs: [{ shape: [4, 3] }, { shape: [3] }, { shape: [3] }], build: build([4, 3]), rtol: 1e-5 });
    checkGradients({ inputs: [{ shape: [2, 2, 3, 1] }, { shape: [2] }, { shape: [2] }], build: build([2, 2, 3, 1]), rtol: 1e-5 });
  });

  it('batchNormLayer creates params gamma (ones) and beta (zeros) and state runningMean (zeros) and runningVar (ones)', () => {
    const g = new Graph('t');
    batchNormLayer(g, 'bn1', 3, { momentum: 0.2 })(g.input('x', [2, 3]));
    const created = ['gamma', 'beta', 'runningMean', 'runningVar'].map((k) => g.get(`bn1.${k}`).node);
    expect(created.map((n) => n.op)).to.deep.equal(['param', 'param', 'state', 'state']);
    expect(created.map((n) => (n.attrs['init'] as { kind: string }).kind)).to.deep.equal(['ones', 'zeros', 'zeros', 'ones']);
    expect([...g.assignments.keys()].sort()).to.deep.equal([created[2]!.id, created[3]!.id].sort());
  });

  it('rejects bad axes, statistics, momentum and epsilon, naming the call', () => {
    const g = new Graph('bn');
    const x = g.input('x', [4, 3]);
    const stats = statistics(g, 3);
    const bn = (changes: object) => () => batchNorm(x, { ...stats, ...changes });
    expect(bn({ axis: 2 })).to.throw(ShapeError, /batchNorm\(f32\[4,3\]\): axis 2 is out of range for rank 2/);
    expect(bn({ axis: 0.5 })).to.throw(ArgumentError, /batchNorm: axis must be an integer, got 0.5/);
    expect(bn({ gamma: g.input('g4', [4]) })).to.throw(ShapeError, /batchNorm\(f32\[4,3\], f32\[4\]\): gamma must have shape \[3\] \(x's size on axes \[1\]\), got \[4\]/);
    expect(bn({ runningVar: g.state('v2', [3, 1]) })).to.throw(ShapeError, /runningVar must have shape \[3\]/);
    expect(bn({ beta: undefined })).to.throw(ArgumentError, /batchNorm: the beta must be a Tensor, got undefined/);
    expect(bn({ runningMean: g.param('p', [3]) })).to.throw(ArgumentError, /batchNorm: runningMean must be a state \(persistent, not trained\), got param p:f32\[3\].*graph\.state/);
    expect(bn({ runningVar: stats.runningMean })).to.throw(ArgumentError, /runningMean and runningVar are the same state 'runningMean'/);
    expect(bn({ momentum: 1.5 })).to.throw(ArgumentError, /batchNorm: momentum must be a finite number in \[0, 1\], got 1.5/);
    expect(bn({ epsilon: 0 })).to.throw(ArgumentError, /batchNorm: epsilon must be a finite number > 0, got 0/);
    expect(bn({ eps: 1 })).to.throw(ArgumentError, /batchNorm: unknown option 'eps'/);
    expect(() => batchNorm(x.cast('i32'), stats)).to.throw(DTypeError, /batchNorm\(i32\[4,3\]\): the operand must be f32/);
    const single = g.input('one', [1, 3]);
    expect(() => batchNorm(single, stats)).to.throw(ShapeError, /batchNorm\(f32\[1,3\]\): each channel has 1 value\(s\) per batch \(axes \[0\] of f32\[1,3\]\).*Fix: use a batch of at least 2/);
    // A failed call leaves the statistics free; a second layer on the same ones is refused.
    batchNorm(x, stats);
    expect(() => batchNorm(x, stats)).to.throw(ArgumentError, /runningMean 'runningMean' is already updated by another layer/);
    expect(() => batchNormLayer(g, 'bad', 0)).to.throw(ArgumentError, /batchNormLayer: channels must be an integer ≥ 1, got 0/);
    expect(() => batchNormLayer(g, 'bn', 3)).to.not.throw();
    expect(() => batchNormLayer(g, 'bn', 3)).to.throw(GraphError, /bn\.gamma/);
  });
});
