import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { initialParams } from '../../compiler/reference.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { Session } from '../../runtime/session.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import type { Feed } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';

describe('the seed MLP training step on the GPU', () => {
  it('equals the reference interpreter: loss each step and every parameter and momentum after 3 steps, to 1e-4', async function () {
    this.timeout(120000);
    const batch = 16;
    const program = seedMlp({ batch, seed: 3 });
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
    const program = seedMlp({ batch: 2, seed: 3 });
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

  it('fills params and state of different sizes, dtypes and initializers from a few shared init kernels', async () => {
    const g = new Graph('inits', { seed: 9 });
    const sizes = [[5], [3, 7], [1], [40], [2, 2, 3], [9], [], [11], [6, 4], [13]];
    const kinds = ['normal', 'glorotUniform', 'ones', 'uniform', 'heNormal', 'zeros', 'ones', 'normal', 'linearDefault', 'uniform'] as const;
    sizes.forEach((shape, i) => g.param(`p${i}`, shape, { init: kinds[i]! }));
    g.state('count', [3], { dtype: 'i32', init: { kind: 'constant', value: 7 } });
    const { device, limits } = await gpu();
    // WebGPU's minimum of 8 storage buffers per kernel: 11 buffers take two init kernels.
    const plan = compile(g, { limits: { ...limits, maxStorageBuffersPerShaderStage: 8 } });
    expect(plan.entries['init']!.dispatches).to.have.length(2);
    const session = await Session.create(device, plan);
    try {
      const params = await session.getParams();
      for (const [name, value] of Object.entries(initialParams(g))) expectClose(params[name]!.data, value.data, 1e-6, 1e-6);
    } finally {
      session.destroy();
    }
  });
});
