import { expect } from 'chai';
import { ArgumentError, DeviceLimitError, FeedError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { planMemory } from '../../compiler/memory.js';
import * as nn from '../../compiler/nn/index.js';
import { compile } from '../../compiler/plan.js';
import type { HostValue } from '../../compiler/reference.js';
import { interpret } from '../../compiler/reference.js';
import type { Plan } from '../../compiler/plan-format.js';
import { NumericsError } from '../../runtime/numerics.js';
import { Session } from '../../runtime/session.js';
import { symbolicForward, symbolicPlan } from '../symbolic-plan.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';
import { rejectionOf } from './runtime-fixtures.js';

async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(type);
  expect(error.message).to.match(message);
}

const rows = (n: number, seed = 1): Float32Array => Float32Array.from({ length: 4 * n }, (_, i) => Math.sin(i * 0.37 + seed) * 3);

/** Counts, while `during` runs, the bind groups the device makes (by label) and the writes to the size block. */
async function counting<T>(device: GPUDevice, during: () => Promise<T>): Promise<{ result: T; bindGroups: string[]; dimsWrites: number; buffers: number }> {
  const [createBindGroup, writeBuffer, createBuffer] = [device.createBindGroup, device.queue.writeBuffer, device.createBuffer];
  const bindGroups: string[] = [];
  let dimsWrites = 0;
  let buffers = 0;
  device.createBindGroup = (descriptor) => {
    bindGroups.push(descriptor.label ?? '');
    return createBindGroup.call(device, descriptor);
  };
  device.queue.writeBuffer = ((buffer: GPUBuffer, ...rest: unknown[]) => {
    if (buffer.label.endsWith(' dims')) dimsWrites++;
    return (writeBuffer as (...args: unknown[]) => void).call(device.queue, buffer, ...rest);
  }) as GPUQueue['writeBuffer'];
  device.createBuffer = (descriptor) => {
    if (!descriptor.label?.endsWith('readback')) buffers++;
    return createBuffer.call(device, descriptor);
  };
  try {
    return { result: await during(), bindGroups, dimsWrites, buffers };
  } finally {
    // Deleted, not assigned back: an own property holding the original would hide the
    // prototype's method from later tests that wrap it (scripts/gpu-buffers.ts counts buffers there).
    const hooks = device as Partial<Pick<GPUDevice, 'createBindGroup' | 'createBuffer'>>;
    delete hooks.createBindGroup;
    delete hooks.createBuffer;
    delete (device.queue as Partial<GPUQueue>).writeBuffer;
  }
}

describe('Session with symbolic dims (GPU, hand-written v3 plan)', () => {
  let device: GPUDevice;
  let plan: Plan;
  before(async () => {
    device = (await gpu()).device;
    plan = planMemory(symbolicPlan());
  });

  it('runs one plan at batch 3, 1, 7, 100 and 5 in one session: outputs have the run’s shapes and values (memory grows for 100)', async () => {
    const session = await Session.create(device, plan);
    try {
      for (const n of [3, 1, 7, 100, 5]) {
        const x = rows(n, n);
        // A flat array binds batch through its length (4·batch values); a tensor through its shape.
        const out = await session.forward({ x: n % 2 === 0 ? x : { shape: [n, 4], dtype: 'f32', data: x } });
        expect(out['c']!.shape).to.deep.equal([n, 4]);
        expect(out['flat']!.shape).to.deep.equal([4 * n]);
        expect(out['c']!.data.length).to.equal(4 * n);
        expectClose(out['c']!.data, symbolicForward(x), 0, 0);
        expectClose(out['flat']!.data, symbolicForward(x), 0, 0);
      }
      const labels = Int32Array.from({ length: 9 }, (_, r) => r % 4);
      const x = rows(9);
      const { s } = await session.run('score', { x, labels });
      expect(s!.shape).to.deep.equal([9]);
      expectClose(s!.data, Array.from(labels, (c, r) => x[r * 4 + c]!), 0, 0);
      expect((await session.getParams(['w']))['w']!.data).to.deep.equal(Float32Array.from([0.5, 1, 1.5, 2]));
    } finally {
      session.destroy();
    }
  });

  it('grows memory for a larger batch, rebuilding only the bind groups that bind it, and writes the size block only when the batch changes', async () => {
    const session = await Session.create(device, plan);
    try {
      await session.forward({ x: rows(8) });
      const larger = await counting(device, () => session.forward({ x: rows(64) }));
      // x and the shared transient block grow: every kernel binding them, none other (init_1_w binds only w).
      expect([...larger.bindGroups].sort()).to.deep.equal(['k2_scale', 'k3_addOne', 'k4_double', 'k6_pick']);
      expect(larger.dimsWrites).to.equal(1);
      expectClose(larger.result['c']!.data, symbolicForward(rows(64)), 0, 0);
      const smaller = await counting(device, async () => [await session.forward({ x: rows(5) }), await session.forward({ x: rows(5, 2) })]);
      expect(smaller.bindGroups, 'a smaller batch fits the memory grown').to.deep.equal([]);
      expect(smaller.buffers).to.equal(0);
      expect(smaller.dimsWrites, 'batch 5 twice: one write').to.equal(1);
      expectClose(smaller.result[1]['c']!.data, symbolicForward(rows(5, 2)), 0, 0);
    } finally {
      session.destroy();
    }
  });

  it('refuses bad sizes with typed errors before anything is submitted, and stays usable after each', async () => {
    const session = await Session.create(device, plan);
    const usable = async (): Promise<void> => {
      const out = await session.forward({ x: rows(2) });
      expectClose(out['c']!.data, symbolicForward(rows(2)), 0, 0);
    };
    try {
      await usable();
      const x3 = { shape: [3, 4], dtype: 'f32' as const, data: rows(3) };
      await rejects(session.run('score', { x: x3, labels: Int32Array.from([0, 1, 2, 3]) }), FeedError, /input 'x' \(f32\[3,4\] for f32\[batch,4\]\): batch = 3/);
      await rejects(session.run('score', { x: x3, labels: { shape: [4], dtype: 'i32', data: Int32Array.from([0, 1, 2, 3]) } }), FeedError, /labels.*i32\[4\].*batch = 3/);
      await usable();
      await rejects(session.forward({ x: { shape: [0, 4], dtype: 'f32', data: new Float32Array(0) } }), FeedError, /makes dim 'batch' 0; a symbolic dim is a whole number of at least 1/);
      await rejects(session.forward({ x: new Float32Array(10) }), FeedError, /10 values for f32\[batch,4\].*batch = 2\.5/);
      await rejects(session.forward({ x: { shape: [3, 5], dtype: 'f32', data: new Float32Array(15) } }), FeedError, /expected f32\[3,4\], got f32\[3,5\]/);
      await usable();
      // RunOptions.dims: where no feed tells a size, or to say it; it must agree with the feeds.
      expectClose((await session.forward({ x: rows(3) }, { dims: { batch: 3 } }))['c']!.data, symbolicForward(rows(3)), 0, 0);
      await rejects(session.forward({ x: rows(3) }, { dims: { batch: 4 } }), FeedError, /RunOptions\.dims: batch = 4/);
      await rejects(session.forward({ x: rows(3) }, { dims: { seq: 4 } }), ArgumentError, /'seq', which is not a dim of plan 'symbolic' \(batch\)/);
      // Over the device's limits: named by dim and size, refused before the data is even read.
      const bindingLimit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
      const huge = Math.floor(bindingLimit / 16) + 1;
      await rejects(session.forward({ x: { shape: [huge, 4], dtype: 'f32', data: new Float32Array(4) } }), DeviceLimitError, new RegExp(`at batch = ${huge}, buffer #0 \\(x, f32\\[batch,4\\]\\) needs ${16 * huge} bytes, over this device's storage-buffer limit`));
      const wide = (device.limits.maxComputeWorkgroupsPerDimension + 1) * 64;
      if (16 * wide <= bindingLimit) {
        const feeds = { x: { shape: [wide, 4], dtype: 'f32' as const, data: new Float32Array(4) }, labels: { shape: [wide], dtype: 'i32' as const, data: new Int32Array(4) } };
        await rejects(session.run('score', feeds), DeviceLimitError, /kernel k6_pick \(pick\) would dispatch \[\d+, 1, 1\] workgroups, over this device's maxComputeWorkgroupsPerDimension/);
      }
      await usable();
    } finally {
      session.destroy();
    }
  });

  it('SessionOptions.maxDims allocates for the largest batch at once and refuses a larger one by name', async () => {
    await rejects(Session.create(device, plan, { maxDims: { seq: 3 } }), ArgumentError, /maxDims names 'seq'/);
    const session = await Session.create(device, plan, { maxDims: { batch: 16 } });
    try {
      const run = await counting(device, () => session.forward({ x: rows(16) }));
      expect(run.buffers, 'no growth below maxDims').to.equal(0);
      expect(run.bindGroups).to.deep.equal([]);
      await rejects(session.forward({ x: rows(17) }), DeviceLimitError, /dim 'batch' is 17 .*over its limit of 16 \(maxDims\)/);
      expectClose((await session.forward({ x: rows(16) }))['c']!.data, symbolicForward(rows(16)), 0, 0);
    } finally {
      session.destroy();
    }
    const compiledFor = await Session.create(device, { ...plan, maxDims: { batch: 8 } });
    try {
      await rejects(compiledFor.forward({ x: rows(9) }), DeviceLimitError, /dim 'batch' is 9 .*over its limit of 8/);
    } finally {
      compiledFor.destroy();
    }
  });

  it('checks numerics and feeds at the run’s sizes', async () => {
    const session = await Session.create(device, plan);
    try {
      await session.forward({ x: rows(3) }, { checkNumerics: true });
      const x = rows(6);
      x[13] = NaN;
      const error = await session.forward({ x }, { checkNumerics: true }).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(NumericsError);
      expect((error as NumericsError).report.buffer.shape).to.deep.equal([6, 4]);
      expect((error as NumericsError).report.firstIndex).to.equal(13);
      await rejects(session.forward({ x }, { checkFeeds: true }), FeedError, /element 13 is NaN/);
      await rejects(session.run('score', { x: rows(2), labels: [0, 4] }, { checkFeeds: true }), FeedError, /element 1 is 4, outside \[0, 3\]/);
      await session.forward({ x: rows(40) }, { checkNumerics: true });
    } finally {
      session.destroy();
    }
  });
});

describe('Session with symbolic dims (GPU, a compiled MLP)', () => {
  const mlp = (): Graph => {
    const g = new Graph('mlp', { seed: 3 });
    const images = g.input('images', ['batch', 784]);
    const logits = nn.sequential(nn.linear(g, 'fc1', 784, 128), nn.relu, nn.linear(g, 'fc2', 128, 10))(images);
    g.output('logits', logits);
    g.output('probs', logits.softmax(-1));
    return g;
  };

  it('runs forward at batch 1, 7, 100 and 64 in one session (one plan, weights never copied): equal to a static plan compiled for each and the reference', async function () {
    this.timeout(120000);
    const { device, limits } = await gpu();
    const graph = mlp();
    const session = await Session.create(device, compile(graph, { limits }));
    try {
      const params = await session.getParams();
      for (const n of [1, 7, 100, 64]) {
        const images = testData(n * 784, n, 0, 1);
        const out = await session.forward({ images: { shape: [n, 784], dtype: 'f32', data: Float32Array.from(images) } });
        const fixed = await Session.create(device, compile(graph, { limits, dims: { batch: n } }));
        try {
          await fixed.setParams(params);
          const expected = await fixed.forward({ images });
          const reference = interpret(graph, { feeds: { images: { shape: [n, 784], dtype: 'f32', data: Float32Array.from(images) } } as Record<string, HostValue>, params: params as Record<string, HostValue> });
          for (const name of ['logits', 'probs'] as const) {
            expect(out[name]!.shape, `${name} at batch ${n}`).to.deep.equal([n, 10]);
            expectClose(out[name]!.data, expected[name]!.data, 1e-5, 1e-6);
            expectClose(out[name]!.data, reference[name]!.data, 1e-4, 1e-5);
          }
        } finally {
          fixed.destroy();
        }
      }
      // The same weights throughout: no run moved or rewrote them.
      const after = await session.getParams();
      for (const [name, value] of Object.entries(params)) expect(after[name]!.data, name).to.deep.equal(value.data);
    } finally {
      session.destroy();
    }
  });
});
