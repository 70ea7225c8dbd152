import { expect } from 'chai';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import type { HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { CheckpointError } from '../../compiler/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.js';
import { testData } from '../helpers.js';
import { gpu } from './harness.js';
import { bitsOf, rejectionOf, tinyRegression } from './runtime-fixtures.js';

const feeds = (step: number) => ({ x: testData(12, 30 + step), target: testData(8, 40 + step) });
const f32Bits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/** Values that only a bit-exact path keeps: NaN payloads, -0, infinities, a subnormal; i32 extremes; bools. */
const special = {
  w: { shape: [3, 2], dtype: 'f32', data: f32Bits([0x7fc00001, 0xffbfffff, 0x80000000, 0x7f800000, 0xff800000, 0x00000001]) },
  counts: { shape: [2], dtype: 'i32', data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
  flags: { shape: [5], dtype: 'bool', data: Uint8Array.from([1, 0, 0, 1, 1]) },
} as const satisfies Record<string, HostTensor>;

describe('Session checkpoints (safetensors, GPU)', function () {
  this.timeout(60000);
  let plan: Plan;
  const sessions: Session[] = [];
  const open = async () => {
    const { device } = await gpu();
    const session = await Session.create(device, plan);
    sessions.push(session);
    return session;
  };

  before(async () => {
    plan = compile(tinyRegression(), { limits: (await gpu()).limits });
  });
  afterEach(() => {
    for (const session of sessions.splice(0)) session.destroy();
  });

  it('saves every param and state with the plan name in the metadata', async () => {
    const session = await open();
    const { tensors, metadata } = decodeSafetensors(await session.saveCheckpoint());
    expect(metadata).to.deep.equal({ plan: 'tiny_regression', producer: 'kiln' });
    const persistent = plan.buffers.filter((b) => b.role === 'param' || b.role === 'state');
    expect(Object.keys(tensors).sort()).to.deep.equal(persistent.map((b) => b.name).sort());
    expect(Object.keys(tensors)).to.include.members(['w', 'b', 'flags', 'counts', 'optimizer.step', 'w.adam.m', 'w.adam.v']);
    const params = await session.getParams();
    for (const [name, tensor] of Object.entries(tensors)) expect(bitsOf(tensor), name).to.deep.equal(bitsOf(params[name]!));
  });

  it('round-trips bit for bit through save and load: NaN payloads, -0, infinities, i32 extremes, bools', async () => {
    const first = await open();
    await first.setParams(special);
    const saved = await first.saveCheckpoint();
    const { tensors } = decodeSafetensors(saved);
    for (const [name, tensor] of Object.entries(special)) expect(bitsOf(tensors[name]!), name).to.deep.equal(bitsOf(tensor));

    const second = await open();
    await second.loadCheckpoint(saved);
    const params = await second.getParams();
    for (const [name, tensor] of Object.entries(special)) expect(bitsOf(params[name]!), name).to.deep.equal(bitsOf(tensor));
    expect(Array.from(await second.saveCheckpoint())).to.deep.equal(Array.from(saved));
  });

  it('resumes training exactly: a session loaded from a checkpoint takes the same next step, bit for bit', async () => {
    const trained = await open();
    for (let step = 0; step < 3; step++) await trained.trainStep(feeds(step));
    const checkpoint = await trained.saveCheckpoint();

    const resumed = await open();
    await resumed.loadCheckpoint(checkpoint);
    const [a, b] = await Promise.all([trained.trainStep(feeds(3)), resumed.trainStep(feeds(3))]);
    expect(bitsOf(b['loss']!)).to.deep.equal(bitsOf(a['loss']!));
    expect(Array.from(await resumed.saveCheckpoint())).to.deep.equal(Array.from(await trained.saveCheckpoint()));
    const step = decodeSafetensors(await resumed.saveCheckpoint()).tensors['optimizer.step']!;
    expect(Array.from(step.data)).to.deep.equal([4]);
  });

  describe('rejects a checkpoint that does not fit, writes nothing, and keeps the session usable', () => {
    const cases: readonly (readonly [string, (good: Record<string, HostTensor>) => Uint8Array, RegExp])[] = [
      [
        'unknown and missing names, all listed',
        (good) => {
          const { w: _w, b: _b, ...rest } = good;
          return encodeSafetensors({ ...rest, W: good['w']!, 'fc9.bias': good['b']! });
        },
        /the checkpoint does not fit plan 'tiny_regression': it has 'W', 'fc9\.bias', which the plan has no param or state for; it lacks 'w', 'b'\. Pass \{strict: false\} to load only the tensors both have\./,
      ],
      [
        'a shape that differs',
        (good) => encodeSafetensors({ ...good, w: { shape: [2, 3], dtype: 'f32', data: new Float32Array(6) } }),
        /'w' is f32\[3,2\] in the plan, f32\[2,3\] in the checkpoint/,
      ],
      [
        'a dtype that differs',
        (good) => encodeSafetensors({ ...good, counts: { shape: [2], dtype: 'f32', data: new Float32Array(2) } }),
        /'counts' is i32\[2\] in the plan, f32\[2\] in the checkpoint/,
      ],
      ['a truncated file', (good) => encodeSafetensors(good).subarray(0, 100), /safetensors: /],
    ];
    for (const [what, corrupt, message] of cases) {
      it(what, async () => {
        const session = await open();
        await session.trainStep(feeds(0));
        const before = await session.getParams();
        const modified = Object.fromEntries(Object.entries(before).map(([name, t]) => [name, t.dtype === 'f32' ? { ...t, data: t.data.map(() => 0.5) } : t]));
        const error = await rejectionOf(session.loadCheckpoint(corrupt(modified)));
        expect(error).to.be.instanceOf(CheckpointError);
        expect(error.message).to.match(message);
        const after = await session.getParams();
        for (const name of Object.keys(before)) expect(bitsOf(after[name]!), name).to.deep.equal(bitsOf(before[name]!));
        const loss = (await session.trainStep(feeds(1)))['loss']!.data[0]!;
        expect(Number.isFinite(loss)).to.equal(true);
      });
    }
  });

  it('with strict: false, loads the tensors both have and leaves the others', async () => {
    const session = await open();
    const before = await session.getParams();
    const w = { shape: [3, 2], dtype: 'f32', data: Float32Array.from([1, 2, 3, 4, 5, 6]) } as const;
    await session.loadCheckpoint(encodeSafetensors({ w, 'head.w': w }), { strict: false });
    const after = await session.getParams();
    expect(Array.from(after['w']!.data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(bitsOf(after['b']!)).to.deep.equal(bitsOf(before['b']!));
  });
});
