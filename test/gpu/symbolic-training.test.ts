/**
 * The promise of a symbolic batch, end to end on the GPU: one session trains the seed MLP
 * at batch 64 and then predicts 1, 7 and 100 examples (and trains at 1 and 37), with no
 * second compile and no weight copy; every result equals what a static plan compiled for
 * that size gives from the same weights, and the reference interpreter's.
 */

import { expect } from 'chai';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { interpret } from '../../compiler/reference.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../runtime/session.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { gpu } from './harness.js';
import { testData } from '../helpers.js';

const feedsAt = (rows: number, seed: number): { images: Float32Array; labels: Int32Array } => ({
  images: Float32Array.from(testData(rows * 784, seed, 0, 1)),
  labels: Int32Array.from({ length: rows }, (_, i) => (i * 7 + seed) % 10),
});

/** Equal element for element (+0 and −0 count as equal: a static kernel may fold its first product into the zero it starts from). */
function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${what}: element ${i} is ${actual[i]}, the static plan's ${expected[i]}`);
  }
}

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!) / (1e-6 + Math.abs(b[i]!)));
  return most;
}

describe('a symbolic batch on the GPU: train at 64, predict any size, in one session', function () {
  this.timeout(240000);
  const symbolicProgram = seedMlp({ batch: 'batch', seed: 3 });
  let plan: Plan;
  let session: Session;

  before(async () => {
    const { device } = await gpu();
    plan = compile(symbolicProgram, { limits: device.limits });
    session = await Session.create(device, plan);
  });
  after(() => session?.destroy());

  it('trains at batch 64 as the static plan for 64 does, step for step', async () => {
    const { device } = await gpu();
    const fixed = await Session.create(device, compile(seedMlp({ batch: 64, seed: 3 }), { limits: device.limits }));
    try {
      for (let step = 0; step < 3; step++) {
        const feeds = feedsAt(64, step);
        const [a, b] = [await session.trainStep(feeds, { outputs: ['loss'] }), await fixed.trainStep(feeds, { outputs: ['loss'] })];
        // The loss's mean divides by the run's batch where the static plan multiplies by 1/64: a rounding apart at most.
        expect(Math.abs(a['loss']!.data[0]! - b['loss']!.data[0]!), `step ${step}`).to.be.at.most(1e-6 * Math.abs(b['loss']!.data[0]!));
      }
      const [mine, theirs] = [await session.getParams(), await fixed.getParams()];
      for (const name of Object.keys(theirs)) expect(maxRelativeDifference(mine[name]!.data, theirs[name]!.data), name).to.be.below(1e-4);
    } finally {
      fixed.destroy();
    }
  });

  for (const rows of [1, 7, 100]) {
    it(`then predicts ${rows} example${rows === 1 ? '' : 's'} in the same session: bit for bit the static plan for ${rows} with the same weights, and the reference`, async () => {
      const { device } = await gpu();
      const params = await session.getParams();
      const { images } = feedsAt(rows, 10 + rows);
      const { logits } = await session.forward({ images }, { outputs: ['logits'] });
      expect(logits!.shape).to.deep.equal([rows, 10]);

      const fixed = await Session.create(device, compile(seedMlp({ batch: rows, seed: 3 }).graph, { limits: device.limits }));
      try {
        await fixed.setParams(params);
        const expected = (await fixed.forward({ images }, { outputs: ['logits'] }))['logits']!;
        expectSameValues(logits!.data, expected.data, `logits at batch ${rows}`);
      } finally {
        fixed.destroy();
      }
      const reference = interpret(symbolicProgram.graph, { feeds: { images }, params: params as Record<string, HostTensor> })['logits']!;
      expect(maxRelativeDifference(logits!.data, reference.data)).to.be.below(1e-3);
    });
  }

  it('trains a step at batch 1 and at 37 (not a multiple of a workgroup) as the static plans for them do', async () => {
    const { device } = await gpu();
    for (const rows of [1, 37]) {
      const params = await session.getParams();
      const feeds = feedsAt(rows, 40 + rows);
      const loss = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
      const fixed = await Session.create(device, compile(seedMlp({ batch: rows, seed: 3 }), { limits: device.limits }));
      try {
        await fixed.setParams(params);
        const expected = (await fixed.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(loss - expected), `loss at batch ${rows}`).to.be.at.most(1e-6 * Math.abs(expected));
        const [mine, theirs] = [await session.getParams(), await fixed.getParams()];
        for (const name of Object.keys(theirs)) expect(maxRelativeDifference(mine[name]!.data, theirs[name]!.data), `${name} at batch ${rows}`).to.be.below(1e-4);
      } finally {
        fixed.destroy();
      }
    }
  });

  it('reads the batch from the size block in every kernel that binds a batch-sized buffer, and nowhere else', () => {
    expect(plan.dims).to.deep.equal(['batch']);
    for (const kernel of plan.kernels) {
      const batchSized = kernel.bindings.some(({ buffer }) => typeof plan.buffers[buffer]!.bytes === 'string');
      expect(kernel.readsDims === true, kernel.name).to.equal(batchSized);
    }
  });
});
