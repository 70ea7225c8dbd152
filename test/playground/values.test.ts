import { expect } from 'chai';
import { compileStages, initialParams, interpret } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import type { TensorData } from '../../playground/protocol.js';
import { rememberCompile } from '../../playground/worker/state.js';
import { maxAbsDifference, summarizeValues } from '../../playground/worker/value-summary.js';
import { values, valuesContext } from '../../playground/worker/values.js';

describe('playground/worker/value-summary', () => {
  it('gives the range, mean, population std, a histogram and the first values of known numbers', () => {
    const summary = summarizeValues({ dtype: 'f32', shape: [2, 4], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }, 7, 3);
    expect(summary).to.deep.include({ dtype: 'f32', shape: [2, 4], count: 8, min: 1, max: 8, mean: 4.5, nanCount: 0, infCount: 0, first: [1, 2, 3] });
    expect(summary.std).to.be.closeTo(Math.sqrt(5.25), 1e-12);
    // Seven bins of width 1 over [1, 8]: the last holds 7 and 8 (max falls in the last bin).
    expect(summary.histogram).to.deep.equal({ min: 1, max: 8, counts: [1, 1, 1, 1, 1, 1, 2] });
  });

  it('counts NaN and ±Infinity apart and leaves them out of the range, mean and histogram', () => {
    const summary = summarizeValues({ dtype: 'f32', shape: [6], data: Float32Array.from([NaN, -1, Infinity, 3, -Infinity, NaN]) }, 4);
    expect(summary).to.deep.include({ count: 6, min: -1, max: 3, mean: 1, std: 2, nanCount: 2, infCount: 2 });
    expect(summary.histogram.counts).to.deep.equal([1, 0, 0, 1]);
    expect(summary.first.map(String)).to.deep.equal(['NaN', '-1', 'Infinity', '3', '-Infinity', 'NaN']);
  });

  it('puts a constant tensor in one bin, with std 0, and a tensor of no finite value nowhere', () => {
    const constant = summarizeValues({ dtype: 'i32', shape: [3], data: Int32Array.from([5, 5, 5]) });
    expect(constant).to.deep.include({ min: 5, max: 5, mean: 5, std: 0 });
    expect(constant.histogram.counts[0]).to.equal(3);
    expect(constant.histogram.counts.reduce((a, b) => a + b)).to.equal(3);
    expect(constant.histogram.counts).to.have.length(24);
    const broken = summarizeValues({ dtype: 'f32', shape: [2], data: Float32Array.from([NaN, Infinity]) });
    expect([broken.min, broken.max, broken.mean, broken.std].every(Number.isNaN)).to.equal(true);
    expect(broken.histogram.counts.every((n) => n === 0)).to.equal(true);
    expect(summarizeValues({ dtype: 'f32', shape: [0, 3], data: new Float32Array(0) })).to.deep.include({ count: 0, first: [], nanCount: 0 });
  });

  it('keeps the mean of many large f32 values exact where an f32 running sum would drift', () => {
    const data = new Float32Array(1 << 20).fill(16777216); // 2^24: an f32 sum stops growing by 1 here
    data[0] = 16777218;
    const summary = summarizeValues({ dtype: 'f32', shape: [data.length], data });
    expect(summary.mean).to.equal(16777216 + 2 / data.length);
    expect(summary.std).to.be.closeTo(Math.sqrt((4 * (data.length - 1)) / data.length ** 2), 1e-9);
  });

  it('measures the largest |a − b|, with matching NaNs and infinities agreeing and a lone one disagreeing completely', () => {
    const a = { dtype: 'f32', shape: [4], data: [1, NaN, Infinity, -2] };
    expect(maxAbsDifference(a, { dtype: 'f32', shape: [4], data: [1.5, NaN, Infinity, -2.25] })).to.equal(0.5);
    expect(maxAbsDifference(a, { dtype: 'f32', shape: [4], data: [1, 0, Infinity, -2] })).to.equal(Infinity);
    expect(maxAbsDifference(a, { dtype: 'f32', shape: [4], data: [1, NaN, -Infinity, -2] })).to.equal(Infinity);
    expect(() => maxAbsDifference(a, { dtype: 'f32', shape: [2, 2], data: [1, 2, 3, 4] })).to.throw(/different shapes, \[4\] and \[2,2\]/);
  });
});

describe('playground/worker/values', () => {
  const batch = 8;
  const program = seedMlp({ batch, seed: 3 });
  const images = Float32Array.from({ length: batch * 784 }, (_, i) => Math.sin(i) * 0.5 + 0.5);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const stages = compileStages(program);
  // Params as a session that trained a little holds them: not the initializers' values, so a mix-up would show.
  const params: Record<string, { dtype: 'f32'; shape: number[]; data: Float32Array }> = Object.fromEntries(
    Object.entries(initialParams(program.graph)).map(([name, p]) => [name, { dtype: 'f32', shape: [...p.shape], data: Float32Array.from(p.data, (v) => v * 1.5 + 0.01) }]),
  );
  const reference = interpret(program.graph, { feeds: { images, labels }, params });
  const gpuOutputs = (shift: number): Record<string, TensorData> => ({ logits: { dtype: 'f32', shape: [batch, 10], data: reference.logits.data.map((v) => v + shift) as Float32Array } });

  // The code's feeds(0) draws new images at each call (as a random generator does): the values must use the ones Forward ran on.
  const otherImages = images.map((v) => 1 - v);
  beforeEach(() => rememberCompile({ user: { model: program, feeds: () => ({ images: otherImages, labels }) }, stages, fuse: true, limits: undefined }));

  it('evaluates a node of the simplified graph from the feeds and params Forward ran with, as interpret does the written graph', async () => {
    await valuesContext({ feeds: { images }, params, outputs: gpuOutputs(0) });
    const logitsNode = stages.simplified.entries['forward']!.outputs['logits']!;
    const summary = values({ node: logitsNode }).result;
    const expected = summarizeValues(reference.logits);
    expect(summary).to.deep.include({ dtype: 'f32', shape: [batch, 10], count: batch * 10, nanCount: 0, infCount: 0 });
    expect(summary.min).to.be.closeTo(expected.min, 1e-5);
    expect(summary.max).to.be.closeTo(expected.max, 1e-5);
    expect(summary.mean).to.be.closeTo(expected.mean, 1e-5);
    expect(summary.first).to.have.length(32);
    summary.first.forEach((v, i) => expect(v).to.be.closeTo(expected.first[i]!, 1e-5));
    // A param's values are the ones sent, not its initializer's.
    const kernel = stages.simplified.graph.nodes.find((node) => node.name === 'fc1.kernel')!;
    expect(values({ node: kernel.id }).result.first[0]).to.equal(params['fc1.kernel']!.data[0]);
  });

  it('evaluates every node of the training graph, gradients (which read the labels) and updates included', async () => {
    await valuesContext({ feeds: { images }, params, outputs: gpuOutputs(0) });
    const { graph } = stages.simplified;
    for (const node of graph.nodes) {
      const summary = values({ node: node.id }).result;
      expect(summary.shape, `%${node.id}`).to.deep.equal(node.shape);
      expect(summary.nanCount + summary.infCount, `%${node.id}`).to.equal(0);
    }
  });

  it('says how far the GPU’s forward outputs are from the reference’s', async () => {
    expect((await valuesContext({ feeds: { images }, params, outputs: gpuOutputs(0) })).result.maxAbsDifference).to.be.below(1e-5);
    const off = (await valuesContext({ feeds: { images }, params, outputs: gpuOutputs(0.25) })).result;
    expect(off.outputs.map((o) => o.name)).to.deep.equal(['logits']);
    expect(off.maxAbsDifference).to.be.closeTo(0.25, 1e-5);
  });

  it('asks for Forward first, and again after a new compile', async () => {
    await valuesContext({ feeds: { images }, params, outputs: gpuOutputs(0) });
    rememberCompile({ user: { model: program }, stages, fuse: true, limits: undefined });
    expect(() => values({ node: 0 })).to.throw(/run Forward first/);
  });
});
