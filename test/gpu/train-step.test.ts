import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import type { Tensor } from '../../compiler/tensor.js';
import { trainingProgram } from '../../compiler/train.js';
import { Session } from '../../runtime/session.js';
import type { Feed } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';

/** The seed MLP (784→128→ReLU→64→ReLU→10, softmax CE, SGD lr 0.01 momentum 0.9) for `batch` images. */
function seedMlp(batch: number) {
  const g = new Graph('seed_mlp', { seed: 3 });
  const images = g.input('images', [batch, 784]);
  const labels = g.input('labels', [batch], 'i32');
  const dense = (name: string, x: Tensor, units: number): Tensor => {
    const fanIn = x.shape[1]!;
    const w = g.param(`${name}.w`, [fanIn, units], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [units], { init: { kind: 'linearDefault', fanIn } });
    return x.matmul(w).add(b);
  };
  const logits = dense('fc3', dense('fc2', dense('fc1', images, 128).relu(), 64).relu(), 10);
  g.output('logits', logits);
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.01, momentum: 0.9 }) });
}

describe('the seed MLP training step on the GPU', () => {
  it('equals the reference interpreter: loss each step and every parameter and momentum after 3 steps, to 1e-4', async function () {
    this.timeout(120000);
    const batch = 16;
    const program = seedMlp(batch);
    const reference = new ReferenceSession(program);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      session.setParams(reference.params as Record<string, Feed>);
      for (let step = 0; step < 3; step++) {
        const feeds = {
          images: testData(batch * 784, 10 + step, 0, 1),
          labels: Array.from({ length: batch }, (_, i) => (i * 7 + step) % 10),
        };
        const expected = reference.trainStep(feeds)['loss']!.data[0]!;
        const actual = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-4 * Math.abs(expected));
      }
      const params = await session.getParams();
      for (const [name, value] of Object.entries(reference.params)) {
        expectClose(params[name]!.data, value.data, 1e-4, 1e-6);
      }
    } finally {
      session.destroy();
    }
  });

  it('initializes parameters on the GPU with the reference initializers (same Philox bits, f32 rounding)', async () => {
    const program = seedMlp(2);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      const params = await session.getParams();
      const reference = new ReferenceSession(program).params;
      for (const [name, value] of Object.entries(reference)) expectClose(params[name]!.data, value.data, 1e-6, 1e-7);
    } finally {
      session.destroy();
    }
  });
});
