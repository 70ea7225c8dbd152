import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { checkMemoryPlan } from '../../compiler/liveness.js';
import { memoryReport, planMemory } from '../../compiler/memory.js';
import type { CompileOptions } from '../../compiler/plan.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import type { Feed, HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';
import { bitsOf } from './runtime-fixtures.js';

/**
 * The plan with every value in its own buffer: `memory: false`, for when compile() plans
 * memory itself (until then compile() ignores the option and plans nothing anyway).
 */
function unplanned(source: Graph | TrainingProgram, options: CompileOptions): Plan {
  const plan = compile(source, { ...options, memory: false } as CompileOptions);
  expect(plan.allocations, 'the baseline plan must not be memory-planned').to.equal(undefined);
  return plan;
}

function planned(source: Graph | TrainingProgram, options: CompileOptions): Plan {
  const plan = planMemory(compile(source, options));
  checkMemoryPlan(plan);
  return plan;
}

const batch = 16;
const feedsOf = (step: number) => ({
  images: testData(batch * 784, 20 + step, 0, 1),
  labels: Array.from({ length: batch }, (_, i) => (i * 3 + step) % 10),
});

/** Three training steps: each step's loss, then every param and momentum. */
async function train(plan: Plan, start: Readonly<Record<string, Feed>>): Promise<{ losses: HostTensor[]; params: Record<string, HostTensor> }> {
  const { device } = await gpu();
  const session = await Session.create(device, plan);
  try {
    await session.setParams(start);
    const losses: HostTensor[] = [];
    for (let step = 0; step < 3; step++) losses.push((await session.trainStep(feedsOf(step), { outputs: ['loss'] }))['loss']!);
    return { losses, params: await session.getParams() };
  } finally {
    session.destroy();
  }
}

describe('memory planning on the GPU', () => {
  for (const fuse of [false, true]) {
    it(`leaves the seed MLP's training bit for bit as it was (${fuse ? 'fused' : 'unfused'}): 3 steps' losses and every param and momentum`, async function () {
      this.timeout(180000);
      const { limits } = await gpu();
      const program = seedMlp({ batch, seed: 5 });
      const start = new ReferenceSession(program).params as Record<string, Feed>;
      const plan = planned(program, { limits, fuse });
      expect(memoryReport(plan).allocationBytes).to.be.below(memoryReport(plan).naiveTransientBytes);
      const expected = await train(unplanned(program, { limits, fuse }), start);
      const actual = await train(plan, start);
      actual.losses.forEach((loss, step) => expect(bitsOf(loss), `loss at step ${step}`).to.deep.equal(bitsOf(expected.losses[step]!)));
      for (const [name, value] of Object.entries(expected.params)) expect(bitsOf(actual.params[name]!), name).to.deep.equal(bitsOf(value));
    });
  }

  it('runs a planned plan loaded from JSON (in-place updates included) as the reference interpreter trains, to 1e-4', async function () {
    this.timeout(180000);
    const { device, limits } = await gpu();
    const program = seedMlp({ batch, seed: 6 });
    const plan = planned(program, { limits, fuse: false });
    // The 6 momenta live in their state's memory; fusion writes the 6 params in place (no copy, no inPlace entry).
    expect(plan.entries['trainStep']!.inPlace).to.have.length(6);
    expect(plan.entries['trainStep']!.copies).to.deep.equal([]);
    const reference = new ReferenceSession(program);
    const session = await Session.create(device, JSON.parse(JSON.stringify(plan)) as Plan);
    try {
      await session.setParams(reference.params as Record<string, Feed>);
      for (let step = 0; step < 3; step++) {
        const expected = reference.trainStep(feedsOf(step))['loss']!.data[0]!;
        const actual = (await session.trainStep(feedsOf(step), { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-4 * Math.abs(expected));
      }
      const params = await session.getParams();
      for (const [name, value] of Object.entries(reference.params)) expectClose(params[name]!.data, value.data, 1e-4, 1e-6);
    } finally {
      session.destroy();
    }
  });

  it('gives a forward-only graph the same outputs planned and unplanned, bit for bit', async () => {
    const { device, limits } = await gpu();
    const g = new Graph('forward_chain');
    const x = g.input('x', [5, 7]);
    const w = g.param('w', [7, 3], { init: 'normal' });
    const h = x.exp().neg().add(1).tanh();
    g.output('y', h.matmul(w).relu().sum(1));
    g.output('h', h);
    const feeds = { x: testData(35, 4) };
    const outputs = async (plan: Plan): Promise<Record<string, HostTensor>> => {
      const session = await Session.create(device, plan);
      try {
        return await session.forward(feeds);
      } finally {
        session.destroy();
      }
    };
    const plan = planned(g, { limits, fuse: false });
    expect(plan.allocations!.length, 'some memory is shared').to.be.below(plan.buffers.length);
    const expected = await outputs(unplanned(g, { limits, fuse: false }));
    const actual = await outputs(plan);
    for (const name of ['y', 'h']) expect(bitsOf(actual[name]!), name).to.deep.equal(bitsOf(expected[name]!));
  });
});
