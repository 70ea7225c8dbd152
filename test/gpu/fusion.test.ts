import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { Session } from '../../runtime/session.js';
import type { Feed } from '../../runtime/session.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { expectClose, testData } from '../helpers.js';
import { expectPlanMatchesReference, gpu } from './harness.js';
import type { ReferenceCheck } from './harness.js';
import { MAX_ROW_LENGTH } from '../../compiler/passes/fusion/rows.js';

/** The forward entry's kernels: names and the ops each fuses. */
function kernelsOf(plan: Plan, entry = 'forward'): { name: string; ops: string }[] {
  return plan.entries[entry]!.dispatches.map((k) => ({ name: plan.kernels[k]!.name, ops: plan.kernels[k]!.ops.join(',') }));
}

/** Runs the graph's outputs fused on the GPU, compares them with the reference interpreter, returns the plan. */
async function expectFusedMatchesReference(graph: Graph, feeds: Record<string, number[]>, check: ReferenceCheck = {}): Promise<Plan> {
  return (await expectPlanMatchesReference(graph, feeds, check)).plan;
}

describe('fusion (GPU)', () => {
  it('loop fusion: an elementwise chain with broadcasting is one kernel', async () => {
    const g = new Graph('chain');
    const x = g.input('x', [3, 17]);
    const b = g.input('b', [17]);
    g.output('y', x.mul(2).add(b).tanh().sub(x.square()).relu());
    const plan = await expectFusedMatchesReference(g, { x: testData(51, 1), b: testData(17, 2) });
    expect(kernelsOf(plan)).to.deep.equal([{ name: 'k3_fused', ops: 'mul,add,tanh,square,sub,relu' }]);
  });

  it('multi-output: a shared intermediate and two results come from one kernel', async () => {
    const g = new Graph('siblings');
    const x = g.input('x', [129]);
    const e = x.exp();
    g.output('a', e.add(1));
    g.output('b', e.mul(x));
    g.output('e', e);
    const plan = await expectFusedMatchesReference(g, { x: testData(129, 3) });
    expect(kernelsOf(plan)).to.have.length(1);
    expect(plan.kernels[plan.entries['forward']!.dispatches[0]!]!.bindings).to.have.length(4);
  });

  it('epilogue fusion: bias add and activation run in the matmul store', async () => {
    const g = new Graph('dense');
    const x = g.input('x', [5, 33]);
    const w = g.param('w', [33, 7], { init: 'glorotUniform' });
    const bias = g.param('bias', [7], { init: 'normal' });
    g.output('y', x.matmul(w).add(bias).relu());
    const plan = await expectFusedMatchesReference(g, { x: testData(165, 4) });
    expect(kernelsOf(plan)).to.deep.equal([{ name: 'k3_matmul_scalar_epilogue', ops: 'matmul,add,relu' }]);
  });

  it('input fusion: elementwise producers are computed as a reduction reads them, and its consumers in its epilogue', async () => {
    // Rows longer than a row kernel holds, so input fusion (not row fusion) applies.
    const g = new Graph('reduce');
    const x = g.input('x', [4, MAX_ROW_LENGTH + 9]);
    g.output('y', x.square().mul(0.5).sum(1).sqrt().neg());
    const plan = await expectFusedMatchesReference(g, { x: testData(4 * (MAX_ROW_LENGTH + 9), 5) });
    expect(kernelsOf(plan)).to.deep.equal([{ name: 'k4_sum_tree_prologue_epilogue', ops: 'sum,sqrt,neg' }]);
  });

  it('never fuses across a cycle: a value needed after a reduction of itself stays in memory', async () => {
    const g = new Graph('cycle');
    const x = g.input('x', [4, MAX_ROW_LENGTH + 6]);
    const e = x.exp();
    g.output('y', e.div(e.sum(1, true)));
    const plan = await expectFusedMatchesReference(g, { x: testData(4 * (MAX_ROW_LENGTH + 6), 6) });
    expect(kernelsOf(plan).map((k) => k.ops)).to.deep.equal(['exp', 'sum', 'div']);
  });

  it('row fusion: a hand-written softmax over short rows is one kernel, the row held in registers', async () => {
    const g = new Graph('short rows');
    const x = g.input('x', [4, 6]);
    const e = x.exp();
    g.output('y', e.div(e.sum(1, true)));
    const plan = await expectFusedMatchesReference(g, { x: testData(24, 6) });
    expect(kernelsOf(plan).map((k) => k.ops)).to.deep.equal(['exp,sum,div']);
  });

  it('row fusion: a softmax cross-entropy and its gradient are one kernel, one invocation per row', async () => {
    const g = new Graph('rows');
    const logits = g.input('logits', [6, 5]);
    const labels = g.input('labels', [6], 'i32');
    const ls = logits.logSoftmax();
    g.output('perRow', ls.where(labels.oneHot(5, { dtype: 'bool' }), 0).sum(1).neg());
    g.output('probabilities', ls.exp().sub(ls.exp().sum(1, true).mul(0.5)));
    const plan = await expectFusedMatchesReference(g, { logits: testData(30, 7, -3, 3), labels: [0, 4, 2, 2, 9, 1] });
    expect(kernelsOf(plan).map((k) => k.name)).to.deep.equal(['k2_rows']);
  });

  it('sibling fusion: a bias gradient is the extra row of its weight-gradient matmul', async () => {
    const g = new Graph('grads');
    const x = g.input('x', [9, 5]);
    const dy = g.input('dy', [9, 3]);
    g.output('dw', x.matmul(dy, { transposeA: true }));
    g.output('db', dy.sum(0));
    const plan = await expectFusedMatchesReference(g, { x: testData(45, 8), dy: testData(27, 9) });
    expect(kernelsOf(plan)).to.have.length(1);
    expect(kernelsOf(plan)[0]!.ops).to.equal('matmul,sum');
  });

  it('keeps every kernel within the storage-buffer limit', async () => {
    const g = new Graph('wide');
    const inputs = Array.from({ length: 10 }, (_, i) => g.input(`x${i}`, [8]));
    g.output('y', inputs.reduce((acc, t) => acc.add(t)));
    const plan = await expectFusedMatchesReference(
      g,
      Object.fromEntries(inputs.map((_, i) => [`x${i}`, testData(8, 10 + i)])),
      // WebGPU's guaranteed minimum: 8 storage buffers per kernel.
      { compile: { limits: {} } },
    );
    expect(kernelsOf(plan).length).to.be.greaterThan(1);
    for (const kernel of plan.kernels) expect(kernel.bindings.length).to.be.at.most(8);
  });

  it('fuses each parameter update into the kernel making its gradient, in place, leaving no copies', async function () {
    this.timeout(60000);
    const program = seedMlp({ batch: 16, seed: 5 });
    const { device, limits } = await gpu();
    const fused = compile(program, { limits });
    const unfused = compile(program, { limits, fuse: false });
    expect(fused.entries['trainStep']!.copies).to.deep.equal([]);
    expect(fused.entries['trainStep']!.dispatches.length).to.be.below(unfused.entries['trainStep']!.dispatches.length / 2);
    const sessions = await Promise.all([Session.create(device, fused), Session.create(device, unfused)]);
    try {
      const start = await sessions[1].getParams();
      await sessions[0].setParams(start as Record<string, Feed>);
      for (let step = 0; step < 3; step++) {
        const feeds = { images: testData(16 * 784, 30 + step, 0, 1), labels: Array.from({ length: 16 }, (_, i) => (i + step) % 10) };
        const [a, b] = await Promise.all(sessions.map((s) => s.trainStep(feeds, { outputs: ['loss'] })));
        expectClose(a!['loss']!.data, b!['loss']!.data, 1e-5, 1e-7);
      }
      const [pa, pb] = await Promise.all(sessions.map((s) => s.getParams()));
      for (const name of Object.keys(pb!)) expectClose(pa![name]!.data, pb![name]!.data, 1e-5, 1e-7);
    } finally {
      for (const s of sessions) s.destroy();
    }
  });
});
