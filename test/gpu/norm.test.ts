import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { batchNorm, layerNorm, rmsNorm } from '../../compiler/ops/norm.js';
import { testData } from '../helpers.js';
import { expectPlanMatchesReference } from './harness.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Tolerance: the GPU sums in f32 (in another order), the reference in double rounded
 * once; then both standardize in f32. Measured on these inputs: max error 5e-7 absolute
 * (layer norm outputs near 0) and 2e-7 relative (batch norm outputs up to 3e4).
 */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

/** layerNorm and rmsNorm of x (shape, values) over `axes`, with random gamma and beta params. */
async function checkNorms(shape: number[], axes: number[], data: ArrayLike<number>) {
  const g = new Graph('norms', { seed: 4 });
  const x = g.input('x', shape);
  const affine = axes.map((a) => shape[a]!);
  const gamma = g.param('gamma', affine, { init: { kind: 'uniform', low: 0.5, high: 1.5 } });
  const beta = g.param('beta', affine, { init: { kind: 'uniform', low: -1, high: 1 } });
  g.output('layerNorm', layerNorm(x, { axes, gamma, beta }));
  g.output('rmsNorm', rmsNorm(x, { axes, gamma }));
  return expectPlanMatchesReference(g, { x: Float32Array.from(data) }, TOLERANCE);
}

describe('normalization on the GPU', () => {
  it('layerNorm and rmsNorm over the last axis of an awkward shape, with inputs up to ±1e4', async () => {
    const { outputs } = await checkNorms([7, 37], [1], testData(7 * 37, 11, -1e4, 1e4));
    expect([...outputs['layerNorm']!.data].every(Number.isFinite)).to.equal(true);
  });

  it('layerNorm and rmsNorm over several axes, non-trailing ones included', async () => {
    await checkNorms([3, 5, 6], [0, 2], testData(90, 12, -3, 3));
  });

  it('layerNorm stays accurate for rows near 1e4 whose spread is of order 1', async () => {
    const shape = [5, 33];
    const data = testData(size(shape), 13, -2, 2).map((v) => 1e4 + v);
    // f32 values near 1e4 are 1e-3 apart, so each side's mean carries an error of that
    // order (the GPU's f32 sum, the reference's one rounding), and so do the deviations
    // from it, over a spread (std) of ~1.1: measured 8e-4.
    const g = new Graph('offset');
    g.output('y', layerNorm(g.input('x', shape)));
    const { plan } = await expectPlanMatchesReference(g, { x: Float32Array.from(data) }, { rtol: 0, atol: 2e-3 });
    const kernels = plan.entries['forward']!.dispatches.map((k) => plan.kernels[k]!.ops.join('+'));
    expect(kernels).to.deep.equal(['mean+sub+square+mean+add+rsqrt+mul']);
  });

  it('batchNorm at inference (running statistics) on NCHW with an awkward shape', async () => {
    const shape = [3, 5, 4, 3];
    const g = new Graph('bn', { seed: 6 });
    const x = g.input('x', shape);
    const uniform = (low: number, high: number) => ({ init: { kind: 'uniform' as const, low, high } });
    const y = batchNorm(x, {
      gamma: g.param('gamma', [5], uniform(0.5, 1.5)),
      beta: g.param('beta', [5], uniform(-1, 1)),
      runningMean: g.state('runningMean', [5], uniform(-1e4, 1e4)),
      runningVar: g.state('runningVar', [5], uniform(0.5, 1e4)),
    });
    g.output('y', y);
    await expectPlanMatchesReference(g, { x: Float32Array.from(testData(size(shape), 14, -1e4, 1e4)) }, TOLERANCE);
  });
});
