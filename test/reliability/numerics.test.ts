import { expect } from 'chai';
import { ArgumentError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { trainingProgram } from '../../compiler/train.js';
import { checkSlots, NumericsError } from '../../runtime/numerics.js';
import { Session } from '../../runtime/session.js';
import { countBuffers } from '../../scripts/gpu-buffers.js';
import { gpu } from '../gpu/harness.js';
import { bitsOf, rejectionOf } from '../gpu/runtime-fixtures.js';
import { testData } from '../helpers.js';

/** y = log(2x)·w over a tall x: log makes NaN of a negative and −∞ of 0, the matmul spreads them. */
function logGraph(): Graph {
  const g = new Graph('log_matmul', { seed: 3 });
  const x = g.input('x', [300, 400]);
  const w = g.param('w', [400, 3], { init: 'glorotUniform' });
  g.output('y', x.mul(2).log().matmul(w));
  return g;
}

/** x of logGraph, all positive but where `bad` says. */
function positiveX(bad: Readonly<Record<number, number>> = {}): Float32Array {
  const x = Float32Array.from(testData(300 * 400, 5, 0.5, 2));
  for (const [index, value] of Object.entries(bad)) x[Number(index)] = value;
  return x;
}

/** A loss whose gradient overflows: d sqrt(s)/ds at s = 0 is +∞, while the loss itself is finite. */
function overflowingGradient() {
  const g = new Graph('grad_overflow', { seed: 1 });
  const x = g.input('x', [4, 3]);
  const w = g.param('w', [3, 2], { init: 'glorotUniform' });
  const scale = g.param('scale', [2]);
  return trainingProgram(g, { loss: x.matmul(w).mul(scale.sqrt()).sum(), optimizer: sgd({ lr: 0.1 }) });
}

async function numericsError(promise: Promise<unknown>): Promise<NumericsError> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(NumericsError);
  return error as NumericsError;
}

describe('checkNumerics: NaN and ±Infinity found on the GPU and traced to the first kernel that made them', function () {
  this.timeout(120000);

  it('returns the same outputs, bit for bit, as an unchecked run when every value is finite', async () => {
    const { device, limits } = await gpu();
    const plan = compile(logGraph(), { limits });
    const [checked, plain] = await Promise.all([Session.create(device, plan, { checkNumerics: { every: 1 } }), Session.create(device, plan)]);
    try {
      const x = positiveX();
      expect(bitsOf((await checked.forward({ x }))['y']!)).to.deep.equal(bitsOf((await plain.forward({ x }))['y']!));
    } finally {
      checked.destroy();
      plain.destroy();
    }
  });

  for (const fuse of [false, true]) {
    it(`names the kernel that made them, not the later ones they spread to, with the kinds, count and first element (${fuse ? 'fused' : 'one kernel per op'})`, async () => {
      const { device, limits } = await gpu();
      const plan = compile(logGraph(), { limits, fuse });
      const session = await Session.create(device, plan, { checkNumerics: { every: 1 } });
      try {
        // Past 64 × 1024 elements: the check's invocations stride through the rest of the buffer.
        const error = await numericsError(session.forward({ x: positiveX({ 70001: 0, 119999: -1 }) }));
        const [kernel, ops, position, of] = fuse ? ['k3_fused', 'mul %3, log %4', 1, 2] : ['k4_log', 'log %4', 2, 3];
        expect(error.message).to.equal(
          `Session 'log_matmul' forward (run 1, checked): kernel ${kernel} (${ops}), dispatch ${position} of ${of}, is the first to produce a non-finite value: ` +
            "it wrote 2 non-finite values (NaN, -Infinity) to %4 (f32[300,400], the value of graph node %4), the first at element 70001 [175,1]. " +
            "Every f32 input, param and state the step read, and every earlier kernel's output, was finite. " +
            'Fix: look in these ops for an overflow (exp of a large value), a log, sqrt or division of zero or a negative value, or a learning rate too large; ' +
            'then restore params and state from a checkpoint.',
        );
        expect(error.report).to.deep.include({ entry: 'forward', run: 1, node: 4, kinds: ['NaN', '-Infinity'], count: 2, firstIndex: 70001 });
        expect(error.report.kernel).to.deep.include({ name: kernel, position: position - 1 });
        // The session is still usable, and the next run is checked again.
        const { y } = await session.forward({ x: positiveX() });
        expect([...y!.data].every(Number.isFinite)).to.equal(true);
      } finally {
        session.destroy();
      }
    });
  }

  it('names an input fed NaN before the first kernel, with the fix', async () => {
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(logGraph(), { limits }), { checkNumerics: { every: 1 } });
    try {
      const error = await numericsError(session.forward({ x: positiveX({ 5: Number.NaN, 400: Infinity }) }));
      expect(error.message).to.equal(
        "Session 'log_matmul' forward (run 1, checked): input 'x' (f32[300,400]) held 2 non-finite values (NaN, +Infinity) before the step's first kernel, " +
          'the first at element 5 [0,5]. Fix: clean the values fed to it.',
      );
      expect(error.report.kernel).to.equal(undefined);
    } finally {
      session.destroy();
    }
  });

  it('traces a gradient that overflows in training to its kernel, says the updates were applied, then names the param it left non-finite', async () => {
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(overflowingGradient(), { limits }), { checkNumerics: { every: 1 } });
    try {
      const x = testData(12, 2, 0.1, 1);
      const first = await numericsError(session.trainStep({ x }));
      expect(first.message).to.match(
        /^Session 'grad_overflow' trainStep \(run 1, checked\): kernel k\d+_\w+ \([^)]*\bdiv %\d+[^)]*\), dispatch \d of \d, is the first to produce a non-finite value: it wrote 2 non-finite values \(\+Infinity, -Infinity\) to param 'scale' \(f32\[2\], updated in place\), the first at element 0\. .* The step ran to its end and its updates were applied\. Fix: /,
      );
      // The forward kernels before it (matmul, sqrt, the loss's sum) were checked and finite.
      expect(first.report.kernel!.position).to.be.greaterThan(2);
      const second = await numericsError(session.trainStep({ x }));
      expect(second.message).to.match(/^Session 'grad_overflow' trainStep \(run 2, checked\): param 'scale' \(f32\[2\]\) held 2 non-finite values .* before the step's first kernel, the first at element 0\. It came from an earlier run/);
      // Restored params make the session train again (here with a scale away from the singularity).
      await session.setParams({ scale: [1, 1], w: testData(6, 3) });
      const { loss } = await session.trainStep({ x }, { outputs: ['loss'] });
      expect(Number.isFinite(loss!.data[0])).to.equal(true);
    } finally {
      session.destroy();
    }
  });

  it('checks the first run and every N-th after it; a run option forces a check or skips one', async () => {
    const { device, limits } = await gpu();
    const plan = compile(logGraph(), { limits });
    const scheduled = await Session.create(device, plan, { checkNumerics: { every: 3 } });
    const unscheduled = await Session.create(device, plan);
    const bad = { x: positiveX({ 7: -1 }) };
    try {
      const outcomes: string[] = [];
      for (let run = 1; run <= 7; run++) outcomes.push(await scheduled.forward(bad).then(() => 'ran', (error: Error) => error.name));
      expect(outcomes).to.deep.equal(['NumericsError', 'ran', 'ran', 'NumericsError', 'ran', 'ran', 'NumericsError']);
      expect((await scheduled.forward(bad, { checkNumerics: true }).catch((e: NumericsError) => e.report.run))).to.equal(8);
      await scheduled.forward(bad); // run 9 is not scheduled
      expect(await scheduled.forward(bad, { checkNumerics: false }).then(() => 'ran')).to.equal('ran'); // run 10 would be
      expect((await numericsError(unscheduled.forward(bad, { checkNumerics: true }))).report.run).to.equal(1);
      expect(await unscheduled.forward(bad).then(() => 'ran')).to.equal('ran');
    } finally {
      scheduled.destroy();
      unscheduled.destroy();
    }
  });

  it('rejects a bad schedule or run option with an ArgumentError', async () => {
    const { device, limits } = await gpu();
    const plan = compile(logGraph(), { limits });
    for (const every of [0, 1.5, -2]) {
      const error = await rejectionOf(Session.create(device, plan, { checkNumerics: { every } }));
      expect(error).to.be.instanceOf(ArgumentError);
      expect(error.message).to.equal(`Session.create: checkNumerics must be {every: N} with N a positive integer (1 checks every run), got {"every":${every}}.`);
    }
    const session = await Session.create(device, plan);
    try {
      const error = await rejectionOf(session.forward({ x: positiveX() }, { checkNumerics: 'yes' as unknown as boolean }));
      expect(error).to.be.instanceOf(ArgumentError);
      expect(error.message).to.equal('Session.forward: the option checkNumerics must be true or false, got "yes".');
    } finally {
      session.destroy();
    }
  });

  it('checks each f32 value the entry reads before the first kernel and each f32 buffer a kernel writes right after it', () => {
    const plan = compile(overflowingGradient());
    const entry = plan.entries['trainStep']!;
    const slots = checkSlots(plan, entry).map(({ buffer, position }) => `${position}:${plan.buffers[buffer]!.name}`);
    const before = slots.filter((s) => s.startsWith('-1:'));
    expect(before).to.have.members(['-1:x', '-1:w', '-1:scale']);
    // Every kernel's f32 outputs, in dispatch order, after the entry's values.
    const after = slots.slice(before.length).map((s) => Number(s.split(':')[0]));
    expect(after).to.deep.equal([...after].sort((a, b) => a - b));
    expect(new Set(after)).to.deep.equal(new Set(entry.dispatches.map((_, position) => position)));
  });

  it('creates no GPU object for numerics unless a run is checked, and destroy() frees what checked runs made', async () => {
    const { device, limits } = await gpu();
    const plan = compile(logGraph(), { limits });
    const counter = countBuffers();
    try {
      const plain = await Session.create(device, plan);
      const perSession = counter.created(device);
      await plain.forward({ x: positiveX() }, { outputs: [] });
      expect(counter.created(device)).to.equal(perSession);
      await plain.forward({ x: positiveX() }, { checkNumerics: true, outputs: [] });
      await plain.forward({ x: positiveX() }, { checkNumerics: true, outputs: [] });
      // One flags buffer and its readback for the entry, made once.
      expect(counter.created(device)).to.equal(perSession + 2);
      plain.destroy();
      await device.queue.onSubmittedWorkDone();
      expect(counter.live(device)).to.deep.equal({ count: 0, bytes: 0 });
    } finally {
      counter.stop();
    }
  });
});
