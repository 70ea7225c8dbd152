import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { conv1d, conv2d, convTranspose1d, convTranspose2d, convWeightGrad1d, convWeightGrad2d } from '../../compiler/ops/conv.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { sizeOf } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import { trainingProgram } from '../../compiler/train.js';
import type { Feed } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { expectPlanMatchesReference, gpu } from './harness.js';

/** Long sums in f32 (the GPU) against f32-rounded double sums (the reference). */
const tolerance = { rtol: 1e-4, atol: 1e-5 };

/** A graph whose inputs are named after `shapes`, with `build`'s results as outputs, and feeds for them. */
function graphOf(shapes: Record<string, number[]>, build: (t: Record<string, Tensor>) => Record<string, Tensor>): { graph: Graph; feeds: Record<string, number[]> } {
  const graph = new Graph('conv');
  const inputs = Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, graph.input(name, shape)]));
  for (const [name, y] of Object.entries(build(inputs))) graph.output(name, y);
  const feeds = Object.fromEntries(Object.entries(shapes).map(([name, shape], k) => [name, testData(sizeOf(shape), 20 + k)]));
  return { graph, feeds };
}

describe('convolutions on the GPU', () => {
  it('conv2d and conv1d equal the reference on odd sizes with stride, padding, dilation, groups, depthwise and wide kernels', async () => {
    const { graph, feeds } = graphOf(
      { x: [2, 3, 9, 7], w: [5, 3, 3, 2], x2: [1, 4, 11, 10], w2: [6, 2, 3, 3], wd: [3, 1, 3, 3], xw: [1, 2, 3, 10], wide: [3, 2, 1, 17], x1: [3, 4, 13], w1: [6, 2, 3], xr: [1, 2, 5, 18], wr: [5, 2, 3, 3] },
      (t) => ({
        // 5 channels: a channel block of 4 and a clamped one; 7 columns: a shifted column block.
        strided: conv2d(t['x']!, t['w']!, { stride: [2, 1], padding: [[1, 2], [0, 1]] }),
        dilated: conv2d(t['x2']!, t['w2']!, { dilation: 2, groups: 2, padding: 'same' }),
        depthwise: conv2d(t['x']!, t['wd']!, { groups: 3, stride: 2, padding: 1 }),
        // A kernel wider than the column blocking takes: one column per invocation.
        wide: conv2d(t['xw']!, t['wide']!, { padding: [[0, 0], [4, 5]] }),
        // A 16-wide row in one block: 5 channels in blocks of 2 (32 accumulators), the last block recomputing one.
        rowOf16: conv2d(t['xr']!, t['wr']!, { padding: [[1, 0], 0] }),
        oneD: conv1d(t['x1']!, t['w1']!, { stride: 2, padding: [[2, 1]], dilation: 2, groups: 2 }),
      }),
    );
    await expectPlanMatchesReference(graph, feeds, tolerance);
  });

  it('convTranspose2d and convTranspose1d equal the reference: strided with outputPadding and groups, and stride 1 with dilation', async () => {
    const { graph, feeds } = graphOf({ x: [2, 6, 4, 5], w: [6, 2, 3, 3], y: [1, 5, 5, 6], v: [5, 3, 2, 3], s: [2, 4, 7], k: [4, 3, 4], r: [2, 3, 3, 19], rv: [3, 5, 2, 5] }, (t) => ({
      strided: convTranspose2d(t['x']!, t['w']!, { stride: 2, padding: 1, outputPadding: 1, groups: 3 }),
      dilated: convTranspose2d(t['y']!, t['v']!, { dilation: [2, 1], padding: [0, 1] }),
      // A row wider than 16: blocks of 8 columns, the last shifted back, edge blocks reading padding.
      wideRow: convTranspose2d(t['r']!, t['rv']!, { padding: [0, 2] }),
      oneD: convTranspose1d(t['s']!, t['k']!, { stride: 3, padding: [[2, 0]], outputPadding: 2 }),
    }));
    await expectPlanMatchesReference(graph, feeds, tolerance);
  });

  it('weight gradients equal the reference: padding, stride, groups, tiles of taps that do not divide the kernel, long sums', async () => {
    const { graph, feeds } = graphOf({ x: [3, 4, 9, 10], dy: [3, 6, 5, 5], s: [2, 3, 40], ds: [2, 6, 19], l: [16, 2, 14, 13], dl: [16, 3, 10, 9] }, (t) => ({
      padded: convWeightGrad2d(t['x']!, t['dy']!, { kernelSize: 3, stride: 2, padding: 1, groups: 2 }),
      // 27 taps in tiles that do not divide it (the last one shifted back), with padding.
      wide: convWeightGrad1d(t['s']!, t['ds']!, { kernelSize: 27, padding: [[2, 3]], groups: 1 }),
      // 16·10·9 products per weight, split over a workgroup's invocations.
      long: convWeightGrad2d(t['l']!, t['dl']!, { kernelSize: 5 }),
    }));
    await expectPlanMatchesReference(graph, feeds, tolerance);
  });

  it('fuses a bias add and a ReLU into the conv kernel, which stores only the activation', async () => {
    const { graph, feeds } = graphOf({ x: [2, 3, 8, 9], w: [4, 3, 3, 3], b: [4, 1, 1] }, (t) => ({
      y: conv2d(t['x']!, t['w']!, { padding: 'same' }).add(t['b']!).relu(),
    }));
    const { plan } = await expectPlanMatchesReference(graph, feeds, tolerance);
    const forward = plan.entries['forward']!.dispatches.map((k) => plan.kernels[k]!);
    expect(forward.map((k) => k.name)).to.deep.equal(['k3_conv2d_epilogue']);
    expect(forward[0]!.wgsl).to.match(/kiln_epilogue\(/);
  });

  it('folds dispatches past the workgroup limit into 2-D grids', async () => {
    const { device } = await gpu();
    const { graph, feeds } = graphOf({ x: [8, 3, 30, 29], w: [5, 3, 3, 2], dy: [8, 5, 28, 28] }, (t) => ({
      y: conv2d(t['x']!, t['w']!),
      dx: convTranspose2d(t['dy']!, t['w']!),
      dw: convWeightGrad2d(t['x']!, t['dy']!, { kernelSize: [3, 2] }),
    }));
    const { plan } = await expectPlanMatchesReference(graph, feeds, { ...tolerance, compile: { limits: { ...device.limits, maxComputeWorkgroupsPerDimension: 10 } } });
    for (const kernel of plan.kernels) {
      expect(kernel.workgroups[0], kernel.name).to.be.at.most(10);
      expect(kernel.workgroups[1], kernel.name).to.be.greaterThan(1);
    }
  });

  it('trains a small CNN with SGD: the loss each step and every parameter after 3 steps equal the reference', async function () {
    this.timeout(60000);
    const batch = 4;
    const g = new Graph('cnn', { seed: 5 });
    const images = g.input('images', [batch, 1, 9, 9]);
    const labels = g.input('labels', [batch], 'i32');
    const conv = (name: string, x: Tensor, channels: number, options: Parameters<typeof conv2d>[2]): Tensor => {
      const w = g.param(`${name}.w`, [channels, x.shape[1]!, 3, 3], { init: 'heUniform' });
      const b = g.param(`${name}.b`, [channels, 1, 1], { init: { kind: 'uniform', low: -0.1, high: 0.1 } });
      return conv2d(x, w, options).add(b).relu();
    };
    const features = conv('conv2', conv('conv1', images, 4, { padding: 1 }), 6, { stride: 2 });
    const fc = g.param('fc.w', [6 * 4 * 4, 3], { init: 'glorotUniform' });
    const logits = features.reshape([batch, 96]).matmul(fc);
    g.output('logits', logits);
    const program = trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.1, momentum: 0.9 }) });
    const reference = new ReferenceSession(program);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      await session.setParams(reference.params as Record<string, Feed>);
      for (let step = 0; step < 3; step++) {
        const feeds = { images: testData(batch * 81, 40 + step, 0, 1), labels: Array.from({ length: batch }, (_, i) => (i + step) % 3) };
        const expected = reference.trainStep(feeds)['loss']!.data[0]!;
        const actual = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-4 * Math.abs(expected));
      }
      const params = await session.getParams();
      for (const [name, value] of Object.entries(reference.params)) expectClose(params[name]!.data, value.data, 1e-4, 1e-5);
    } finally {
      session.destroy();
    }
  });
});
