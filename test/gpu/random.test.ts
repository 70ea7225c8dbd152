import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { batchNormLayer } from '../../compiler/ops/norm.js';
import { dropout, randomUniform } from '../../compiler/ops/random.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';
import { Session } from '../../runtime/session.js';
import type { Feed } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from './harness.js';

/** x [7, 5] → dense → batch norm → relu → dropout 0.3 → dense → softmax cross-entropy. */
function model() {
  const g = new Graph('bn-dropout', { seed: 9 });
  const x = g.input('x', [7, 5]);
  const labels = g.input('labels', [7], 'i32');
  const w1 = g.param('w1', [5, 6], { init: 'glorotUniform' });
  const w2 = g.param('w2', [6, 3], { init: 'glorotUniform' });
  const hidden = dropout(batchNormLayer(g, 'bn', 6)(x.matmul(w1)).relu(), 0.3);
  const logits = hidden.matmul(w2);
  g.output('logits', logits);
  const program = trainingProgram(g, {
    loss: logits.softmaxCrossEntropy(labels),
    optimizer: sgd({ lr: 0.1, momentum: 0.9 }),
    outputs: { hidden },
  });
  return program;
}

describe('random draws on the GPU', () => {
  it('randomUniform gives the reference bits exactly, for an awkward shape and any counter', async () => {
    const g = new Graph('uniform', { seed: 3 });
    const step = g.input('step', [], 'i32');
    g.output('u', randomUniform(g, [3, 37, 5], { stream: 'noise', counter: step }));
    for (const counter of [0, 12345]) {
      await expectGpuMatchesReference(g, { step: [counter] }, { rtol: 0, atol: 0 });
    }
  });

  it('emits no kernel for an empty draw', () => {
    const g = new Graph('empty');
    g.output('u', randomUniform(g, [0, 4], { stream: 's', counter: g.input('step', [], 'i32') }));
    expect(compile(g).kernels).to.deep.equal([]);
  });

  it('runs a training step with batch norm and dropout as the reference does, over 2 steps', async function () {
    this.timeout(60000);
    const program = model();
    const reference = new ReferenceSession(program);
    const { device, limits } = await gpu();
    const plan = compile(program, { limits });
    // Dropout's compare and scale run as the epilogue of the kernel that draws the bits.
    const drawing = plan.entries['trainStep']!.dispatches.map((k) => plan.kernels[k]!.ops).filter((ops) => ops.includes('randomUniform'));
    expect(drawing).to.have.length(1);
    expect(drawing[0]).to.include.members(['greaterEqual', 'where']);
    const session = await Session.create(device, plan);
    try {
      await session.setParams(reference.params as Record<string, Feed>);
      for (let step = 0; step < 2; step++) {
        const feeds = { x: testData(35, 20 + step, -2, 2), labels: [0, 1, 2, 0, 1, 2, 1].map((l) => (l + step) % 3) };
        const expected = reference.trainStep(feeds);
        const actual = await session.trainStep(feeds, { outputs: ['loss', 'hidden'] });
        // The same elements are zero (dropped, or cut by the ReLU): the masks match exactly.
        const dropped = (data: ArrayLike<number>): boolean[] => Array.from(data, (v) => v === 0);
        expect(dropped(actual['hidden']!.data), `mask at step ${step}`).to.deep.equal(dropped(expected['hidden']!.data));
        expectClose(actual['hidden']!.data, expected['hidden']!.data, 1e-4, 1e-5);
        expectClose(actual['loss']!.data, expected['loss']!.data, 1e-4, 0);
      }
      const params = await session.getParams();
      for (const [name, value] of Object.entries(reference.params)) expectClose(params[name]!.data, value.data, 1e-4, 1e-5);
      expect(Array.from(params['optimizer.step']!.data)).to.deep.equal([2]);
      // Inference: no dropout, the running statistics the two steps left.
      const x = testData(35, 30, -2, 2);
      expectClose((await session.forward({ x }))['logits']!.data, reference.forward({ x })['logits']!.data, 1e-4, 1e-5);
    } finally {
      session.destroy();
    }
  });
});
