import { expect } from 'chai';
import { DeviceError } from '../../compiler/errors.js';
import { compile } from '../../compiler/plan.js';
import { requestDevice } from '../../runtime/device.js';
import { Session } from '../../runtime/session.js';
import { countBuffers } from '../../scripts/gpu-buffers.js';
import { soakBatch, soakModel } from '../../scripts/soak-model.js';
import { gpu } from '../gpu/harness.js';
import { bitsOf, rejectionOf, tinyRegression } from '../gpu/runtime-fixtures.js';
import { testData } from '../helpers.js';

/** The losses of `count` training steps from step `first` (the step picks the batch), as f32 bits. */
async function trainLosses(session: Session, first: number, count: number): Promise<number[]> {
  const losses: number[] = [];
  for (let step = first; step < first + count; step++) losses.push(await lossBits(session, step));
  return losses;
}

async function lossBits(session: Session, step: number): Promise<number> {
  const { loss } = await session.trainStep(soakBatch(step), { outputs: ['loss'] });
  return new Uint32Array(loss!.data.buffer, loss!.data.byteOffset, 1)[0]!;
}

const regressionFeeds = (step: number) => ({ x: testData(12, 40 + step), target: testData(8, 60 + step) });

async function regressionLoss(session: Session, step: number): Promise<number[]> {
  return bitsOf((await session.trainStep(regressionFeeds(step), { outputs: ['loss'] }))['loss']!);
}

describe('session lifecycle: destroy, device loss and recovery, sessions side by side, determinism', function () {
  this.timeout(120000);

  it('destroy() releases every GPU buffer the session created: memory, readback staging and numerics flags', async () => {
    const { device, limits } = await gpu();
    const counter = countBuffers();
    try {
      const before = counter.live(device);
      const session = await Session.create(device, compile(soakModel(), { limits }), { checkNumerics: { every: 2 } });
      await trainLosses(session, 0, 3);
      await session.getParams();
      expect(counter.live(device).count).to.be.greaterThan(before.count);
      session.destroy();
      await device.queue.onSubmittedWorkDone();
      expect(counter.live(device)).to.deep.equal(before);
    } finally {
      counter.stop();
    }
  });

  it('destroy() during queued steps frees the buffers once they finish', async () => {
    const { device, limits } = await gpu();
    const counter = countBuffers();
    try {
      const before = counter.live(device);
      const session = await Session.create(device, compile(tinyRegression(), { limits }));
      const steps = [0, 1, 2].map((step) => session.trainStep(regressionFeeds(step), { outputs: ['loss'] }));
      session.destroy();
      for (const { loss } of await Promise.all(steps)) expect(Number.isFinite(loss!.data[0])).to.equal(true);
      await device.queue.onSubmittedWorkDone();
      expect(counter.live(device)).to.deep.equal(before);
    } finally {
      counter.stop();
    }
  });

  it('survives losing the device mid-training: later calls reject with a DeviceError, and a session rebuilt on a new device from the last checkpoint continues bit for bit as an uninterrupted run from it', async () => {
    const plan = compile(soakModel()); // WebGPU's default limits: the plan runs on any device
    const first = await requestDevice();
    const session = await Session.create(first.device, plan);
    await trainLosses(session, 0, 4);
    const checkpoint = await session.saveCheckpoint();
    // Training goes on after the checkpoint; the device is lost with steps in flight.
    const inFlight = [4, 5, 6].map((step) => lossBits(session, step).catch((error: unknown) => error));
    first.destroy();
    expect((await session.lost).reason).to.equal('destroyed');
    for (const outcome of await Promise.all(inFlight)) if (typeof outcome !== 'number') expect(outcome).to.be.instanceOf(DeviceError);
    const error = await rejectionOf(session.trainStep(soakBatch(7)));
    expect(error).to.be.instanceOf(DeviceError);
    // The reason's message is the implementation's (Dawn: 'Device was destroyed.').
    expect(error.message).to.match(
      /^Session 'soak_mlp': the GPU device was lost \(destroyed: [^)]*\)\. Request a new device and create a new session; params and state on the lost device are gone \(save checkpoints to keep them\)\.$/,
    );

    const second = await requestDevice();
    try {
      const recovered = await Session.create(second.device, plan);
      await recovered.loadCheckpoint(checkpoint);
      const { device } = await gpu();
      const uninterrupted = await Session.create(device, plan);
      await uninterrupted.loadCheckpoint(checkpoint);
      // The step counter came back too: the schedule and the dropout masks continue from step 4.
      expect(Array.from((await recovered.getParams(['optimizer.step']))['optimizer.step']!.data)).to.deep.equal([4]);
      expect(await trainLosses(recovered, 4, 6)).to.deep.equal(await trainLosses(uninterrupted, 4, 6));
      const [a, b] = await Promise.all([recovered.getParams(), uninterrupted.getParams()]);
      for (const name of Object.keys(b)) expect(bitsOf(a[name]!), name).to.deep.equal(bitsOf(b[name]!));
      recovered.destroy();
      uninterrupted.destroy();
    } finally {
      second.destroy();
    }
  });

  it('runs sessions side by side on one device without interference: interleaved steps give what each gives alone, bit for bit', async () => {
    const { device, limits } = await gpu();
    const soakPlan = compile(soakModel(), { limits });
    // Two sessions of one plan, and a third plan whose params share their names (w, b) with none of the first's buffers.
    const sessions = await Promise.all([Session.create(device, soakPlan), Session.create(device, soakPlan), Session.create(device, compile(tinyRegression(), { limits }))]);
    const takeStep = async (i: number, step: number) => (i < 2 ? [await lossBits(sessions[i]!, step)] : regressionLoss(sessions[i]!, step));
    try {
      const initial = await Promise.all(sessions.map((session) => session.saveCheckpoint()));
      const alone: number[][][] = [];
      for (const i of [0, 2]) {
        const losses: number[][] = [];
        for (let step = 0; step < 4; step++) losses.push(await takeStep(i, step));
        alone[i] = losses;
      }
      await Promise.all(sessions.map((session, i) => session.loadCheckpoint(initial[i]!)));
      const interleaved: number[][][] = [[], [], []];
      for (let step = 0; step < 4; step++) {
        // Every session's step is queued before any finishes.
        const losses = await Promise.all(sessions.map((_, i) => takeStep(i, step)));
        losses.forEach((loss, i) => interleaved[i]!.push(loss));
      }
      expect(interleaved).to.deep.equal([alone[0], alone[0], alone[2]]);
    } finally {
      for (const session of sessions) session.destroy();
    }
  });

  it('is deterministic: the same graph, seed and data give bit-identical losses and params across compiles, sessions and devices', async () => {
    const { device, limits } = await gpu();
    const [planA, planB] = [compile(soakModel(), { limits }), compile(soakModel(), { limits })];
    expect(JSON.stringify(planA)).to.equal(JSON.stringify(planB));
    const other = await requestDevice();
    try {
      const sessions = await Promise.all([Session.create(device, planA), Session.create(other.device, planB)]);
      const runs = [];
      for (const session of sessions) runs.push({ losses: await trainLosses(session, 0, 12), params: await session.getParams() });
      for (const run of runs.slice(1)) {
        expect(run.losses).to.deep.equal(runs[0]!.losses);
        for (const name of Object.keys(run.params)) expect(bitsOf(run.params[name]!), name).to.deep.equal(bitsOf(runs[0]!.params[name]!));
      }
      for (const session of sessions) session.destroy();
    } finally {
      other.destroy();
    }
  });
});
