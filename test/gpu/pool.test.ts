import { staticDim } from '../../compiler/shape.js';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { mul } from '../../compiler/ops/binary.js';
import type { AvgPoolOptions, PoolAttrs, PoolOptions } from '../../compiler/ops/pool.js';
import { avgPool1d, avgPool2d, avgPoolGrad, maxPool1d, maxPool2d, maxPool3d, maxPoolGather, maxPoolGrad } from '../../compiler/ops/pool.js';
import { sum } from '../../compiler/ops/reduce.js';
import { sizeOf } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference } from './harness.js';

/**
 * A max is exact, and the gradient kernels add in the reference's order; averages divide
 * in f32 on the GPU (WGSL allows 2.5 ulp) where the reference divides in double.
 */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

/** Inputs on a coarse grid (multiples of 1/4), so many windows hold ties. */
const withTies = (shape: readonly number[], seed = 1): number[] => testData(sizeOf(shape), seed, -2, 2).map((v) => Math.round(v * 4) / 4);

const maxPool = (x: Tensor, options: PoolOptions): Tensor => (x.rank === 3 ? maxPool1d(x, options) : maxPool2d(x, options));
const avgPool = (x: Tensor, options: AvgPoolOptions): Tensor => (x.rank === 3 ? avgPool1d(x, options) : avgPool2d(x, options));

/**
 * Max and average pooling (both divisors) of an input of `shape`, and their gradients
 * (weighted by an uneven constant so each window's cotangent differs), on both sides.
 */
async function checkPooling(shape: number[], options: PoolOptions): Promise<void> {
  const g = new Graph('pool');
  const x = g.input('x', shape);
  const outputs: Record<string, Tensor> = {
    max: maxPool(x, options),
    avg: avgPool(x, options),
    avgWithPad: avgPool(x, { ...options, countIncludePad: true }),
  };
  for (const [name, y] of Object.entries(outputs)) {
    g.output(name, y);
    const weights = g.constant(testData(staticDim('pool test', y.size), 5, 0.5, 1.5), { shape: y.shape });
    g.output(`${name}Grad`, grad(sum(mul(y, weights)), [x])[0]!);
  }
  await expectGpuMatchesReference(g, { x: withTies(shape) }, TOLERANCE);
}

describe('pooling on the GPU', () => {
  it('pools 2-D windows with padding and ceil mode, forward and backward, over odd sizes', async () => {
    await checkPooling([2, 3, 9, 11], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
  });

  it('pools overlapping windows (stride < kernel) with per-axis sizes and asymmetric padding', async () => {
    await checkPooling([1, 2, 7, 5], { kernelSize: [2, 3], stride: [1, 2], padding: [[1, 0], 1] });
  });

  it('pools 1-D windows, strided past the kernel and in ceil mode', async () => {
    await checkPooling([2, 3, 13], { kernelSize: 4, stride: 3, padding: [[2, 1]], ceilMode: true });
    await checkPooling([1, 2, 10], { kernelSize: 2, stride: 3 });
  });

  it('pools windows that tile the input (stride = kernel): exact, past the end in ceil mode, padded; one invocation per window', async () => {
    await checkPooling([2, 3, 8, 6], { kernelSize: 2 });
    await checkPooling([1, 2, 9, 7], { kernelSize: 2, ceilMode: true });
    await checkPooling([1, 2, 7, 8], { kernelSize: [3, 2], padding: [1, 0] });
    await checkPooling([3, 2, 12], { kernelSize: 3, padding: 1, ceilMode: true });
    // Windows that miss the last row: the per-element kernel zeroes what no window holds.
    await checkPooling([1, 2, 9, 8], { kernelSize: 2 });
  });

  it('pools 3-D volumes', async () => {
    const g = new Graph('pool3d');
    const x = g.input('x', [1, 2, 4, 5, 3]);
    const y = maxPool3d(x, { kernelSize: [2, 3, 2], stride: 1, padding: [0, 1, 1] });
    g.output('max', y);
    g.output('dx', grad(sum(y), [x])[0]!);
    g.output('avg', x.avgPool3d({ kernelSize: 2, ceilMode: true }));
    await expectGpuMatchesReference(g, { x: withTies([1, 2, 4, 5, 3], 2) }, TOLERANCE);
  });

  it('runs the transposed gradient ops: maxPoolGather and avgPoolGrad', async () => {
    const g = new Graph('poolGrads');
    const shape = [2, 2, 7, 5];
    const x = g.input('x', shape);
    const values = g.input('v', shape);
    const dy = g.input('dy', [2, 2, 4, 3]);
    const attrs = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }).node.attrs as PoolAttrs;
    g.output('picked', maxPoolGather(x, values, attrs));
    g.output('routed', maxPoolGrad(x, dy, attrs));
    g.output('spread', avgPoolGrad(dy, { ...attrs, countIncludePad: false, inputSize: [7, 5] }));
    g.output('spreadWithPad', avgPoolGrad(dy, { ...attrs, countIncludePad: true, inputSize: [7, 5] }));
    const feeds = { x: withTies(shape, 3), v: testData(sizeOf(shape), 4), dy: testData(48, 6) };
    await expectGpuMatchesReference(g, feeds, TOLERANCE);
  });

  it('propagates NaN and keeps −∞ as the reference does', async () => {
    const g = new Graph('poolNaN');
    const x = g.input('x', [1, 1, 8]);
    const y = maxPool1d(x, { kernelSize: 2, stride: 1 });
    g.output('max', y);
    g.output('dx', grad(sum(y), [x])[0]!);
    await expectGpuMatchesReference(g, { x: [1, NaN, 3, NaN, NaN, -Infinity, -Infinity, 2] }, TOLERANCE);
  });

  it('routes a tiling max-pool gradient to the first NaN or the first maximum of each window, padding never chosen', async () => {
    const g = new Graph('poolNaNTiled');
    const x = g.input('x', [1, 1, 11]);
    const y = maxPool1d(x, { kernelSize: 3, padding: 1 });
    g.output('max', y);
    g.output('dx', grad(sum(mul(y, g.constant([1, 2, 3, 4], { shape: [1, 1, 4] }))), [x])[0]!);
    await expectGpuMatchesReference(g, { x: [-Infinity, 2, NaN, 1, NaN, 3, 3, 1, -Infinity, NaN, -Infinity] }, TOLERANCE);
  });
});
