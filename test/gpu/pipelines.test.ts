import { expect } from 'chai';
import { ArgumentError, DeviceError, KernelError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { Plan, PlanKernel } from '../../compiler/plan-format.js';
import { interpret } from '../../compiler/reference.js';
import { requestDevice } from '../../runtime/device.js';
import type { KilnDevice } from '../../runtime/device.js';
import { pipelineFor, pipelineKey } from '../../runtime/pipelines.js';
import { Session } from '../../runtime/session.js';
import type { PipelineProgress } from '../../runtime/session.js';
import { creationOrder } from '../../runtime/session-pipelines.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';
import { bitsOf, rejectionOf, tinyRegression } from './runtime-fixtures.js';

/**
 * A device of its own (pipelines are cached per device, so nothing is made yet) whose
 * createComputePipelineAsync calls are recorded by label; `hold(call)` (0 for the first) may
 * return a promise that the pipeline waits for (a slow compile).
 */
async function recordingDevice(hold: (call: number) => Promise<void> | undefined = () => undefined): Promise<{ own: KilnDevice; labels: string[] }> {
  const own = await requestDevice();
  const labels: string[] = [];
  const create = own.device.createComputePipelineAsync.bind(own.device);
  own.device.createComputePipelineAsync = (descriptor) => {
    const wait = hold(labels.length);
    labels.push(descriptor.label ?? '');
    const made = create(descriptor);
    return wait ? wait.then(() => made) : made;
  };
  return { own, labels };
}

/** y = x·a and z = w·b on inputs of the same shapes: two matmul kernels that differ only in their header comments. */
function twinGraph(): Graph {
  const g = new Graph('twins');
  const [x, w] = [g.input('x', [5, 7]), g.input('w', [5, 7])];
  const [a, b] = [g.input('a', [7, 3]), g.input('b', [7, 3])];
  g.output('y', x.matmul(a));
  g.output('z', w.matmul(b));
  return g;
}

const FEEDS = { x: testData(35, 1), w: testData(35, 2), a: testData(21, 3), b: testData(21, 4) };

/** How many distinct pipelines the kernels of `entries` need. */
const pipelinesOf = (plan: Plan, entries: readonly string[]): number => new Set(entries.flatMap((name) => plan.entries[name]!.dispatches.map((k) => pipelineKey(plan.kernels[k]!)))).size;

/** The kernels of `entry` whose pipeline no other entry's kernel shares. */
function onlyIn(plan: Plan, entry: string): number[] {
  const others = new Set(Object.entries(plan.entries).flatMap(([name, e]) => (name === entry ? [] : e.dispatches.map((k) => pipelineKey(plan.kernels[k]!)))));
  return plan.entries[entry]!.dispatches.filter((k) => !others.has(pipelineKey(plan.kernels[k]!)));
}

describe('pipelines: kernels identical up to comments share one, made in the order the first steps need them', function () {
  this.timeout(120_000);

  it('keys a pipeline on the code without comment lines, the binding accesses and the size block', () => {
    const plan = compile(twinGraph(), { fuse: true });
    const [a, b] = plan.entries['forward']!.dispatches.map((k) => plan.kernels[k]!);
    expect(a!.wgsl).to.not.equal(b!.wgsl);
    expect(pipelineKey(a!)).to.equal(pipelineKey(b!));
    expect(pipelineKey({ ...a!, wgsl: a!.wgsl.replace(/\n}\s*$/, '\n  let changed = 1u;\n}\n') })).to.not.equal(pipelineKey(a!));
    expect(pipelineKey({ ...a!, readsDims: true })).to.not.equal(pipelineKey(a!));
    expect(pipelineKey({ ...a!, bindings: a!.bindings.map((binding) => ({ ...binding, access: 'read_write' as const })) })).to.not.equal(pipelineKey(a!));
  });

  it('compiles two kernels that differ only in their header once, and both compute their own outputs', async () => {
    const { own, labels } = await recordingDevice();
    try {
      const plan = compile(twinGraph(), { limits: own.limits, fuse: true });
      const session = await Session.create(own.device, plan);
      await session.ready;
      const distinct = new Set(plan.kernels.map(pipelineKey)).size;
      expect(distinct).to.be.below(plan.kernels.length);
      expect(labels).to.have.length(distinct);
      const { y, z } = await session.forward(FEEDS);
      const expected = interpret(twinGraph(), { feeds: FEEDS });
      expectClose(Array.from(y!.data), Array.from(expected['y']!.data));
      expectClose(Array.from(z!.data), Array.from(expected['z']!.data));
      session.destroy();
    } finally {
      own.destroy();
    }
  });

  it("starts init's pipelines first, then trainStep's and forward's in dispatch order, one call per distinct kernel", async () => {
    const { own, labels } = await recordingDevice();
    try {
      const plan = compile(tinyRegression(), { limits: own.limits });
      const session = await Session.create(own.device, plan);
      await session.ready;
      const seen = new Set<string>();
      const expected = creationOrder(plan).flatMap((k) => {
        const key = pipelineKey(plan.kernels[k]!);
        return seen.has(key) ? [] : (seen.add(key), [plan.kernels[k]!.name]);
      });
      expect(labels).to.deep.equal(expected);
      const init = plan.entries['init']!.dispatches.map((k) => plan.kernels[k]!.name);
      expect(labels.slice(0, init.length)).to.deep.equal(init);
      const trainStep = plan.entries['trainStep']!.dispatches.map((k) => plan.kernels[k]!.name);
      expect(labels.slice(init.length, init.length + trainStep.length)).to.deep.equal(trainStep);
      session.destroy();
    } finally {
      own.destroy();
    }
  });

  it('runs trainStep while a kernel only forward dispatches is still compiling, and forward once it is made', async () => {
    const plan = compile(tinyRegression());
    const forwardOnly = onlyIn(plan, 'forward');
    expect(forwardOnly, 'a kernel only forward dispatches').to.not.be.empty;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Every pipeline made after init's and trainStep's: forward's own.
    const needed = pipelinesOf(plan, ['init', 'trainStep']);
    const { own } = await recordingDevice((call) => (call >= needed ? held : undefined));
    try {
      const session = await Session.create(own.device, plan);
      let ready = false;
      void session.ready.then(() => (ready = true));
      const feeds = { x: testData(12, 3), target: testData(8, 4) };
      const { loss } = await session.trainStep(feeds, { outputs: ['loss'] });
      expect(ready, 'forward still compiling').to.equal(false);
      // The same step as a session whose pipelines were all made first.
      const reference = await Session.create((await gpu()).device, plan);
      await reference.ready;
      expect(bitsOf(loss!)).to.deep.equal(bitsOf((await reference.trainStep(feeds, { outputs: ['loss'] }))['loss']!));
      const forward = session.forward({ x: feeds.x });
      release();
      await session.ready;
      expect(bitsOf((await forward)['y']!)).to.deep.equal(bitsOf((await reference.forward({ x: feeds.x }))['y']!));
      session.destroy();
      reference.destroy();
    } finally {
      release();
      own.destroy();
    }
  });

  it('fails only the entry whose kernel does not compile: trainStep runs, forward and ready reject with its KernelError', async () => {
    const good = compile(tinyRegression());
    const [broken] = onlyIn(good, 'forward');
    const plan = { ...good, kernels: good.kernels.map((k, i) => (i === broken ? { ...k, wgsl: k.wgsl.replace(/}\s*$/, '  let unused_value: f32 = never_declared;\n}\n') } : k)) };
    const { device } = await gpu();
    const session = await Session.create(device, plan);
    const feeds = { x: testData(12, 3), target: testData(8, 4) };
    const { loss } = await session.trainStep(feeds, { outputs: ['loss'] });
    expect(Number.isFinite(loss!.data[0])).to.equal(true);
    for (const error of [await rejectionOf(session.forward({ x: feeds.x })), await rejectionOf(session.ready)]) {
      expect(error).to.be.instanceOf(KernelError);
      expect(error.message).to.match(new RegExp(`^kernel ${plan.kernels[broken!]!.name} \\(.*\\): WGSL does not compile:\\n  line \\d+: .*never_declared`));
    }
    // Still refused, never zeros; trainStep still runs.
    expect(await rejectionOf(session.forward({ x: feeds.x }))).to.be.instanceOf(KernelError);
    await session.trainStep(feeds, { outputs: [] });
    session.destroy();
  });

  it("names each kernel's own WGSL line when a pipeline it shares does not compile", async () => {
    const { device } = await gpu();
    const code = '@compute @workgroup_size(1) fn main() {\n  let broken: f32 = shared_but_undeclared;\n}\n';
    const kernel = (name: string, header: string): PlanKernel => ({ name, wgsl: `${header}${code}`, bindings: [], workgroups: [1, 1, 1], workgroupSize: [1, 1, 1], workgroupStorageBytes: 0, nodes: [], ops: [] });
    const first = kernel('k1_first', '// kiln kernel k1_first\n//   one line more\n//   and another\n');
    const second = kernel('k2_second', '// kiln kernel k2_second\n');
    expect(pipelineKey(first)).to.equal(pipelineKey(second));
    const errors = await Promise.all([rejectionOf(pipelineFor(device, first)), rejectionOf(pipelineFor(device, second))]);
    expect(errors[0]!.message).to.match(/^kernel k1_first \(\): WGSL does not compile:\n  line 5: .*shared_but_undeclared.*\n    let broken: f32 = shared_but_undeclared;/s);
    expect(errors[1]!.message).to.match(/^kernel k2_second \(\): WGSL does not compile:\n  line 3: .*shared_but_undeclared.*\n    let broken: f32 = shared_but_undeclared;/s);
  });

  it('reports progress as each distinct pipeline is made, the last call with ready === total', async () => {
    const { own } = await recordingDevice();
    try {
      const plan = compile(tinyRegression(), { limits: own.limits });
      const calls: PipelineProgress[] = [];
      const session = await Session.create(own.device, plan, { onProgress: (progress) => calls.push(progress) });
      await session.ready;
      const total = new Set(plan.kernels.map(pipelineKey)).size;
      expect(calls.map(({ ready }) => ready)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
      expect(calls.every((call) => call.total === total)).to.equal(true);
      session.destroy();
    } finally {
      own.destroy();
    }
  });

  it('refuses an onProgress that is not a function with an ArgumentError', async () => {
    const { device } = await gpu();
    const plan = compile(tinyRegression());
    for (const bad of [null, 1, 'progress', {}]) {
      const error = await rejectionOf(Session.create(device, plan, { onProgress: bad as never }));
      expect(error).to.be.instanceOf(ArgumentError);
      expect(error.message).to.match(/^Session\.create: onProgress must be a function/);
    }
  });

  it('fails a run waiting for its pipelines with a DeviceError when the device is lost meanwhile, and settles ready', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const plan = compile(tinyRegression());
    const needed = pipelinesOf(plan, ['init']);
    const { own } = await recordingDevice((call) => (call >= needed ? held : undefined));
    const session = await Session.create(own.device, plan);
    const step = session.trainStep({ x: testData(12, 3), target: testData(8, 4) });
    own.destroy();
    const error = await rejectionOf(step);
    expect(error).to.be.instanceOf(DeviceError);
    expect(error.message).to.match(/the GPU device was lost/);
    release();
    await session.ready.catch(() => undefined);
  });
});
