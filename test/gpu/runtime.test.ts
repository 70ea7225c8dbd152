import { expect } from 'chai';
import { ArgumentError, DeviceError, FeedError, KernelError, SessionError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { initialParams, interpret } from '../../compiler/reference.js';
import { requestDevice } from '../../runtime/device.js';
import type { Feed, HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { testData } from '../helpers.js';
import { gpu } from './harness.js';
import { bitsOf, rejectionOf, tinyRegression } from './runtime-fixtures.js';

/** y = where(mask, x·w, 0) over f32, i32 and bool inputs, and next = idx + 1. */
function feedGraph(): Graph {
  const g = new Graph('feeds', { seed: 5 });
  const x = g.input('x', [3, 17]);
  const idx = g.input('idx', [3], 'i32');
  const mask = g.input('mask', [17], 'bool');
  const w = g.param('w', [17], { init: 'normal' });
  g.output('y', x.mul(w).where(mask, 0));
  g.output('next', idx.add(1));
  return g;
}

const goodFeeds = {
  x: testData(51, 3),
  idx: [0, -7, 2 ** 31 - 2],
  mask: Array.from({ length: 17 }, (_, i) => (i % 3 === 0 ? 0 : 1)),
};

const trainFeeds = { x: testData(12, 21), target: testData(8, 22) };


describe('Session (GPU runtime)', function () {
  this.timeout(60000);

  describe('rejects bad input with a typed error naming it, before touching the GPU, and keeps running', () => {
    const graph = feedGraph();
    const params = initialParams(graph);
    const expected = interpret(graph, { feeds: goodFeeds, params });
    let session: Session;

    before(async () => {
      const { device, limits } = await gpu();
      session = await Session.create(device, compile(graph, { limits }));
      await session.setParams(params as Record<string, Feed>);
    });
    after(() => session?.destroy());

    async function expectStillCorrect(): Promise<void> {
      const out = await session.forward(goodFeeds);
      expect(Array.from(out['y']!.data)).to.deep.equal(Array.from(expected['y']!.data));
      expect(Array.from(out['next']!.data)).to.deep.equal([1, -6, 2 ** 31 - 1]);
    }

    const cases: readonly (readonly [string, () => Promise<unknown>, new (message: string) => Error, RegExp])[] = [
      ['a feed of the wrong length', () => session.forward({ ...goodFeeds, x: testData(50) }), FeedError, /Session\.forward: input 'x': expected 51 values for f32\[3,17\], got 50\. Feed a flat array in row-major order\./],
      [
        'a tensor of the wrong shape',
        () => session.forward({ ...goodFeeds, x: { shape: [17, 3], dtype: 'f32', data: new Float32Array(51) } }),
        FeedError,
        /input 'x': expected f32\[3,17\], got f32\[17,3\]\./,
      ],
      [
        'a tensor of the wrong dtype',
        () => session.forward({ ...goodFeeds, idx: { shape: [3], dtype: 'f32', data: new Float32Array(3) } }),
        FeedError,
        /input 'idx': expected i32\[3\], got f32\[3\]\./,
      ],
      ['a missing feed', () => session.forward({ x: goodFeeds.x, mask: goodFeeds.mask }), FeedError, /Session\.forward: input 'idx' \(i32\[3\]\) was not fed\./],
      ['an unknown input name', () => session.forward({ ...goodFeeds, images: [1] }), FeedError, /Session\.forward: 'images' is not an input of this entry\. Inputs: x, idx, mask\./],
      ['an unknown entry', () => session.run('trainStep', goodFeeds), ArgumentError, /Session 'feeds': no entry 'trainStep'\. This plan has: init, forward\./],
      ['an unknown output name', () => session.forward(goodFeeds, { outputs: ['y', 'z'] }), ArgumentError, /Session\.forward: no output 'z'\. Outputs: y, next\./],
      ['a non-integer for an i32 input', () => session.forward({ ...goodFeeds, idx: [0, 1.5, 2] }), FeedError, /input 'idx': i32\[3\] values must be integers in \[-2147483648, 2147483647\]; element 1 is 1\.5\./],
      ['an integer outside i32', () => session.forward({ ...goodFeeds, idx: [2 ** 31, 0, 0] }), FeedError, /input 'idx': i32\[3\] values must be integers .*; element 0 is 2147483648\./],
      ['a value other than 0 or 1 for a bool input', () => session.forward({ ...goodFeeds, mask: goodFeeds.mask.map((v, i) => (i === 4 ? 2 : v)) }), FeedError, /input 'mask': bool\[17\] values must be 0 or 1; element 4 is 2\./],
      ['a string among the numbers', () => session.forward({ ...goodFeeds, idx: [0, '1', 2] as unknown as number[] }), FeedError, /input 'idx': expected numbers for i32\[3\]; element 1 is "1" \(string\)/],
      ['a number instead of an array', () => session.forward({ ...goodFeeds, x: 3 as unknown as number[] }), FeedError, /input 'x': expected f32\[3,17\] as an array of numbers, a typed array or a tensor \{shape, dtype, data\}; got number\./],
      ['an unknown param name in setParams', () => session.setParams({ v: [1] }), ArgumentError, /Session 'feeds': no param or state named 'v'\. Known: w\./],
      ['a param value of the wrong length', () => session.setParams({ w: [1, 2] }), FeedError, /Session\.setParams: param 'w': expected 17 values for f32\[17\], got 2\./],
    ];
    for (const [what, call, kind, message] of cases) {
      it(`${what}`, async () => {
        const error = await rejectionOf(call());
        expect(error).to.be.instanceOf(kind);
        expect(error.message).to.match(message);
        await expectStillCorrect();
      });
    }

    it('copies feeds when called: an array reused by the caller right away does not change a queued step', async () => {
      const x = Float32Array.from(goodFeeds.x);
      const pending = session.forward({ ...goodFeeds, x });
      x.fill(1000);
      expect(Array.from((await pending)['y']!.data)).to.deep.equal(Array.from(expected['y']!.data));
    });

    it('writes no param when one of several given to setParams is bad', async () => {
      const error = await rejectionOf(session.setParams({ w: new Array(17).fill(9), v: [1] } as Record<string, Feed>));
      expect(error.message).to.match(/no param or state named 'v'/);
      expect(Array.from((await session.getParams(['w']))['w']!.data)).to.deep.equal(Array.from(params['w']!.data));
      await expectStillCorrect();
    });
  });

  it('reports a kernel whose WGSL does not compile with its name, ops, node ids and the offending line', async () => {
    const graph = feedGraph();
    const { device, limits } = await gpu();
    // Unfused, so the kernel to break implements exactly one op.
    const plan = compile(graph, { limits, fuse: false });
    const index = plan.kernels.findIndex((k) => k.ops.includes('mul'));
    const kernel = plan.kernels[index]!;
    const broken = kernel.wgsl.replace(/out\[i\] = (.*);/, 'out[i] = $1 + undefined_weight;');
    expect(broken).to.not.equal(kernel.wgsl);
    const line = broken.split('\n').findIndex((l) => l.includes('undefined_weight')) + 1;
    const kernels = plan.kernels.map((k, i) => (i === index ? { ...k, wgsl: broken } : k));
    // Session.create waits for init's pipelines only: the broken forward kernel fails the first forward.
    expect(plan.entries['forward']!.dispatches).to.include(index);
    const session = await Session.create(device, { ...plan, kernels });
    const error = await rejectionOf(session.forward(goodFeeds));
    session.destroy();
    expect(error).to.be.instanceOf(KernelError);
    expect(error.message).to.include(`kernel ${kernel.name} (mul %${kernel.nodes[0]}): WGSL does not compile:`);
    expect(error.message).to.include(`line ${line}: `);
    expect(error.message).to.match(/undefined_weight/);
    expect(error.message).to.include(broken.split('\n')[line - 1]!.trim());
  });

  it('runs a plan that went through JSON exactly as the original: same outputs and params, bit for bit', async () => {
    const { device, limits } = await gpu();
    const plan = compile(tinyRegression(), { limits });
    const shipped = JSON.parse(JSON.stringify(plan)) as Plan;
    expect(shipped).to.deep.equal(plan);
    const original = await Session.create(device, plan);
    const loaded = await Session.create(device, shipped);
    try {
      for (let step = 0; step < 2; step++) {
        const [a, b] = await Promise.all([original.trainStep(trainFeeds), loaded.trainStep(trainFeeds)]);
        expect(bitsOf(b['loss']!), `loss at step ${step}`).to.deep.equal(bitsOf(a['loss']!));
      }
      const [a, b] = await Promise.all([original.getParams(), loaded.getParams()]);
      for (const name of Object.keys(a)) expect(bitsOf(b[name]!), name).to.deep.equal(bitsOf(a[name]!));
      expect((await original.forward({ x: trainFeeds.x }))['y']!.data).to.deep.equal((await loaded.forward({ x: trainFeeds.x }))['y']!.data);
    } finally {
      original.destroy();
      loaded.destroy();
    }
  });

  describe('destroy()', () => {
    it('lets the calls already made finish, then rejects every later call with a SessionError', async () => {
      const { device, limits } = await gpu();
      const graph = feedGraph();
      const session = await Session.create(device, compile(graph, { limits }));
      const before = session.forward(goodFeeds);
      session.destroy();
      session.destroy();
      expect(Array.from((await before)['next']!.data)).to.deep.equal([1, -6, 2 ** 31 - 1]);
      const calls = [session.forward(goodFeeds), session.getParams(), session.setParams({ w: new Array(17).fill(0) }), session.saveCheckpoint(), session.loadCheckpoint(new Uint8Array(8))];
      for (const call of calls) {
        const error = await rejectionOf(call);
        expect(error).to.be.instanceOf(SessionError);
        expect(error.message).to.equal("Session 'feeds' was destroyed; create a new session to run it again.");
      }
    });

    it('leaves the device usable for other sessions', async () => {
      const { device, limits } = await gpu();
      const plan = compile(feedGraph(), { limits });
      (await Session.create(device, plan)).destroy();
      const other = await Session.create(device, plan);
      expect(Array.from((await other.forward(goodFeeds))['next']!.data)).to.deep.equal([1, -6, 2 ** 31 - 1]);
      other.destroy();
    });
  });

  describe('device loss (on a device of its own)', () => {
    it('resolves lost, and rejects every later call with a DeviceError instead of hanging', async () => {
      const own = await requestDevice();
      const session = await Session.create(own.device, compile(feedGraph(), { limits: own.limits }));
      await session.forward(goodFeeds);
      own.destroy();
      const info = await session.lost;
      expect(info.reason).to.equal('destroyed');
      for (const call of [session.forward(goodFeeds), session.getParams(), session.saveCheckpoint()]) {
        const error = await rejectionOf(call);
        expect(error).to.be.instanceOf(DeviceError);
        expect(error.message).to.match(/^Session 'feeds': the GPU device was lost \(destroyed.*\)\. Request a new device and create a new session/);
      }
    });

    it('rejects creating a session on a lost device with a DeviceError', async () => {
      const own = await requestDevice();
      own.destroy();
      await own.lost;
      const error = await rejectionOf(Session.create(own.device, compile(feedGraph(), { limits: own.limits })));
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.match(/the GPU device was lost \(destroyed/);
    });

    it('settles a step in flight when the device is lost (its values, or a DeviceError)', async () => {
      const own = await requestDevice();
      const session = await Session.create(own.device, compile(feedGraph(), { limits: own.limits }));
      const step = session.forward(goodFeeds).then(
        (out) => ({ out }),
        (error: unknown) => ({ error }),
      );
      own.destroy();
      const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10000));
      const settled = await Promise.race([step, timeout]);
      expect(settled).to.not.equal('timeout');
      if (typeof settled === 'object' && settled !== null && 'error' in settled) expect(settled.error).to.be.instanceOf(DeviceError);
      else expect(Array.from((settled as { out: Record<string, HostTensor> }).out['next']!.data)).to.deep.equal([1, -6, 2 ** 31 - 1]);
    });
  });

  it('reads outputs that view one buffer in their own shapes, each in its own memory', async () => {
    const g = new Graph('views');
    const x = g.input('x', [3, 4]);
    g.output('flat', x.reshape([12]));
    g.output('same', x.stopGradient());
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(g, { limits }));
    try {
      const out = await session.forward({ x: testData(12) });
      const expected = Array.from(Float32Array.from(testData(12)));
      expect(out['flat']!.shape).to.deep.equal([12]);
      expect(out['same']!.shape).to.deep.equal([3, 4]);
      out['flat']!.data.fill(0);
      expect(Array.from(out['same']!.data)).to.deep.equal(expected);
    } finally {
      session.destroy();
    }
  });

  it('reads a param asked for twice once', async () => {
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(feedGraph(), { limits }));
    try {
      const params = await session.getParams(['w', 'w']);
      expect(Object.keys(params)).to.deep.equal(['w']);
    } finally {
      session.destroy();
    }
  });
});

describe('a plan with non-finite constants', () => {
  it('survives JSON (NaN and ±Infinity are written as strings) and uploads them exactly', async () => {
    const g = new Graph('specials');
    const x = g.input('x', [4]);
    g.output('y', x.add(g.constant([Number.NaN, Infinity, -Infinity, 1.5])));
    const { device } = await gpu();
    const plan = JSON.parse(JSON.stringify(compile(g))) as Plan;
    const session = await Session.create(device, plan);
    try {
      const { y } = await session.forward({ x: [1, 2, 3, 4] });
      expect(Number.isNaN(y!.data[0]!)).to.equal(true);
      expect(Array.from(y!.data).slice(1)).to.deep.equal([Infinity, -Infinity, 5.5]);
    } finally {
      session.destroy();
    }
  });
});
