/**
 * Bad input to a GPU session: checked feeds (labels and token ids out of range, NaN),
 * malformed feeds, garbled checkpoints and corrupted plans. After every rejected call the
 * session takes a good training step that matches the CPU reference stepping in lockstep,
 * so a bad call provably changed nothing.
 */

import { expect } from 'chai';
import { CheckpointError, FeedError, PlanError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { embedding } from '../../compiler/ops/layers.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { PLAN_VERSION } from '../../compiler/plan-format.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { trainingProgram } from '../../compiler/train.js';
import type { Feed } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from '../gpu/harness.js';
import { rejectionOf } from '../gpu/runtime-fixtures.js';

/** Token ids [5] → embedding [6, 4] + x → logits over 3 classes, softmax cross-entropy against labels. */
function classifier(): TrainingProgram {
  const g = new Graph('classifier', { seed: 3 });
  const tokens = g.input('tokens', [5], 'i32');
  const x = g.input('x', [5, 4]);
  const labels = g.input('labels', [5], 'i32');
  const table = g.param('table', [6, 4], { init: 'normal' });
  const w = g.param('w', [4, 3], { init: 'glorotUniform' });
  const logits = embedding(table, tokens).add(x).matmul(w);
  g.output('logits', logits);
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.5 }) });
}

const good = { tokens: [0, 5, -1, 2, 3], x: testData(20, 7), labels: [0, 2, 1, 1, 0] };

describe('bad input to a GPU session', function () {
  this.timeout(60000);
  const program = classifier();
  const reference = new ReferenceSession(program);
  let plan: Plan;
  let session: Session;

  before(async () => {
    const { device, limits } = await gpu();
    plan = compile(program, { limits });
    session = await Session.create(device, plan);
    await session.setParams(reference.params as Record<string, Feed>);
  });
  after(() => session?.destroy());

  /** A good step on the GPU and on the reference: the same loss, so nothing the bad call touched changed. */
  async function expectStillTraining(): Promise<void> {
    const { loss } = await session.trainStep(good, { outputs: ['loss'], checkFeeds: true });
    expectClose(loss!.data, reference.trainStep(good)['loss']!.data, 1e-4, 1e-5);
  }

  const feedCases: readonly (readonly [string, () => Promise<unknown>, string])[] = [
    [
      'a class label past the last class, with checkFeeds',
      () => session.trainStep({ ...good, labels: [0, 3, 1, 1, 0] }, { checkFeeds: true }),
      "Session.trainStep: input 'labels': element 1 is 3, outside [0, 2] (the class labels of softmaxCrossEntropy over 3 classes), where the graph would ignore it without an error. Fix the data.",
    ],
    ['a negative class label, with checkFeeds', () => session.trainStep({ ...good, labels: [0, 1, -1, 1, 0] }, { checkFeeds: true }), "input 'labels': element 2 is -1, outside [0, 2]"],
    [
      'a token id past the vocabulary, with checkFeeds',
      () => session.forward({ tokens: [0, 1, 2, 6, 0], x: good.x }, { checkFeeds: true }),
      "Session.forward: input 'tokens': element 3 is 6, outside [-6, 5] (the token ids of embedding over a vocabulary of 6), where the graph would ignore it without an error. Fix the data.",
    ],
    [
      'NaN among f32 inputs, with checkFeeds',
      () => session.trainStep({ ...good, x: good.x.map((v, i) => (i === 7 ? NaN : v)) }, { checkFeeds: true }),
      "Session.trainStep: input 'x': element 7 is NaN; checkFeeds rejects NaN and ±Infinity in f32 feeds. Fix the data, or run without checkFeeds to feed them on purpose.",
    ],
    ['NaN among integer labels (always)', () => session.trainStep({ ...good, labels: [0, NaN, 1, 1, 0] }), "Session.trainStep: input 'labels': i32[5] values must be integers in [-2147483648, 2147483647]; element 1 is NaN."],
    ['Infinity among integer labels (always)', () => session.trainStep({ ...good, labels: [Infinity, 0, 1, 1, 0] }), "input 'labels': i32[5] values must be integers in [-2147483648, 2147483647]; element 0 is Infinity."],
    ['labels as a BigInt64Array', () => session.trainStep({ ...good, labels: new BigInt64Array(5) as unknown as Int32Array }), "input 'labels': expected i32[5] as numbers; got a BigInt64Array."],
    ['feeds that are not an object', () => session.trainStep(null as unknown as Record<string, Feed>), 'Session.trainStep: feeds must be an object {inputName: values}, got null.'],
  ];
  for (const [what, call, message] of feedCases) {
    it(`rejects ${what} with a FeedError, and keeps training`, async () => {
      const error = await rejectionOf(call());
      expect(error).to.be.instanceOf(FeedError);
      expect(error.message).to.include(message);
      await expectStillTraining();
    });
  }

  const checkpointCases: readonly (readonly [string, (file: Uint8Array) => Uint8Array, string])[] = [
    ['random bytes', () => Uint8Array.from({ length: 256 }, (_, i) => (i * 131 + 7) % 256), 'safetensors: header length'],
    [
      'a header length that lies (past the end)',
      (file) => {
        const lying = file.slice();
        new DataView(lying.buffer).setBigUint64(0, BigInt(file.length), true);
        return lying;
      },
      'runs past the end of the file',
    ],
    ['an ArrayBuffer instead of bytes', (file) => file.slice().buffer as unknown as Uint8Array, 'decodeSafetensors: expected the file\'s bytes as a Uint8Array, got ArrayBuffer. Wrap an ArrayBuffer as new Uint8Array(buffer)'],
  ];
  for (const [what, corrupt, message] of checkpointCases) {
    it(`rejects a checkpoint of ${what} with a CheckpointError, and keeps training`, async () => {
      const error = await rejectionOf(session.loadCheckpoint(corrupt(await session.saveCheckpoint())));
      expect(error).to.be.instanceOf(CheckpointError);
      expect(error.message).to.include(message);
      await expectStillTraining();
    });
  }

  const planCases: readonly (readonly [string, (plan: Plan) => unknown, string])[] = [
    [
      'WGSL edited to drop a binding (the bind group would not match its pipeline)',
      (p) => ({ ...p, kernels: p.kernels.map((k, i) => (i === p.kernels.length - 1 ? { ...k, wgsl: k.wgsl.replace(/@group\(0\) @binding\(0\)[^\n]*\n/, '') } : k)) }),
      '.bindings[0]: buffer #',
    ],
    ['a version from the future', (p) => ({ ...p, version: PLAN_VERSION + 1 }), `invalid plan: version: expected ${PLAN_VERSION}, got ${PLAN_VERSION + 1}.`],
    ['a dispatch of a kernel that does not exist', (p) => ({ ...p, entries: { ...p.entries, forward: { ...p.entries['forward']!, dispatches: [999] } } }), 'entries.forward.dispatches[0]: kernel 999 does not exist'],
    ['a value range on a param', (p) => ({ ...p, buffers: p.buffers.map((b) => (b.role === 'param' ? { ...b, valueRange: { min: 0, max: 1, reason: 'r' } } : b)) }), 'valueRange: only input buffers carry a value range'],
  ];
  for (const [what, corrupt, message] of planCases) {
    it(`refuses a plan with ${what} with a PlanError; the device and the open session keep working`, async () => {
      const { device } = await gpu();
      const error = await rejectionOf(Session.create(device, JSON.parse(JSON.stringify(corrupt(plan)))));
      expect(error).to.be.instanceOf(PlanError);
      expect(error.message).to.include(message);
      expect(error.message).to.match(/The plan is corrupted or was hand-edited; recompile it with compile\(\)\.$/);
      await expectStillTraining();
    });
  }

  it('opens a fresh session from the good plan on the same device after the refusals', async () => {
    const { device } = await gpu();
    const fresh = await Session.create(device, JSON.parse(JSON.stringify(plan)));
    try {
      await fresh.setParams(reference.params as Record<string, Feed>);
      const { logits } = await fresh.forward({ tokens: good.tokens, x: good.x }, { checkFeeds: true });
      expectClose(logits!.data, reference.forward({ tokens: good.tokens, x: good.x })['logits']!.data, 1e-4, 1e-5);
    } finally {
      fresh.destroy();
    }
  });

  it('leaves checkFeeds off by default: a label out of range is fed as the graph defines it (it picks no class)', async () => {
    const labels = [0, 7, 1, 1, 0];
    const { loss } = await session.trainStep({ ...good, labels }, { outputs: ['loss'] });
    expectClose(loss!.data, reference.trainStep({ ...good, labels })['loss']!.data, 1e-4, 1e-5);
    await expectStillTraining();
  });
});
