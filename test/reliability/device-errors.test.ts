import { expect } from 'chai';
import { installGpuCounters, readGpuCounts } from '../../bench/gpu-counters.js';
import type { WebGPUClasses } from '../../bench/gpu-counters.js';
import { DeviceError, DeviceLimitError, KernelError, PlanError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { validatePlan } from '../../compiler/plan-check.js';
import type { Plan, PlanKernel } from '../../compiler/plan-format.js';
import { interpret, initialParams } from '../../compiler/reference.js';
import { Session } from '../../runtime/session.js';
import { gpu } from '../gpu/harness.js';
import { rejectionOf } from '../gpu/runtime-fixtures.js';
import { expectClose } from '../helpers.js';

/** y = relu(x·w + b) on [2, 3] → [2, 4], and y2 = x + 1: two kernels in forward, plus init kernels. */
function affineGraph(): Graph {
  const g = new Graph('affine', { seed: 3 });
  const x = g.input('x', [2, 3]);
  const w = g.param('w', [3, 4], { init: 'normal' });
  const b = g.param('b', [4], { init: 'normal' });
  g.output('y', x.matmul(w).add(b).relu());
  g.output('y2', x.add(1));
  return g;
}

const X = [0.5, -1, 2, 1.5, 0.25, -0.75];

async function affinePlan(): Promise<Plan> {
  const { limits } = await gpu();
  return compile(affineGraph(), { limits, fuse: true });
}

/** The plan with its first kernel whose ops include `op` changed by `edit`, and that kernel as it was. */
function editKernel(plan: Plan, op: string, edit: (kernel: PlanKernel) => PlanKernel): { plan: Plan; kernel: PlanKernel } {
  const index = plan.kernels.findIndex((k) => k.ops.includes(op));
  expect(index, `a kernel with ${op}`).to.be.at.least(0);
  return { plan: { ...plan, kernels: plan.kernels.map((k, i) => (i === index ? edit(k) : k)) }, kernel: plan.kernels[index]! };
}

/** The WGSL with its storage declaration `name: array<f32>` given the fixed size `count` instead. */
function fixedSize(wgsl: string, count: number): string {
  const declaration = /(var<storage, read(?:_write)?> \w+: )array<f32>;/;
  expect(wgsl).to.match(declaration);
  return wgsl.replace(declaration, `$1array<f32, ${count}>;`);
}

describe('device errors reach the caller: a plan the device rejects fails with a typed error, never zeros', function () {
  this.timeout(120_000);

  describe('the probe\'s four plan edits are refused by validatePlan and Session.create with a PlanError naming the kernel', () => {
    const edits: readonly (readonly [string, (kernel: PlanKernel) => PlanKernel, RegExp])[] = [
      [
        'a binding whose access does not match the WGSL (a bind group that does not fit the pipeline layout)',
        (k) => ({ ...k, bindings: k.bindings.map((b, i) => (i === 0 ? { ...b, access: 'read_write' as const } : b)) }),
        /\(k\d+_matmul\w*\)\.bindings\[0\]: is var<storage, read_write> in the plan but the WGSL declares @binding\(0\) as var<storage, read>/,
      ],
      [
        'a buffer bound twice, once read_write',
        (k) => ({ ...k, bindings: k.bindings.map((b, i) => (i === 0 ? { buffer: k.bindings.at(-1)!.buffer, access: 'read' as const } : b)) }),
        /\(k\d+_matmul\w*\)\.bindings\[\d\]: binds buffer #\d+ \([^)]*\) again \(also @binding\(\d\)\), and one of the two is read_write/,
      ],
      [
        'a binding the WGSL declares and the plan does not bind',
        (k) => ({ ...k, wgsl: `${k.wgsl}\n@group(0) @binding(${k.bindings.length}) var<storage, read> unbound: array<f32>;` }),
        /\(k\d+_matmul\w*\)\.wgsl: declares @binding\(\d\) \(unbound\), which the plan does not bind/,
      ],
      [
        'a binding declared as uniform',
        (k) => ({ ...k, wgsl: k.wgsl.replace(/var<storage, read> (\w+): array<f32>;/, 'var<uniform> $1: vec4f;') }),
        /\(k\d+_matmul\w*\)\.bindings\[0\]: is var<storage, read> in the plan but the WGSL declares @binding\(0\) as var<uniform>/,
      ],
    ];
    for (const [what, edit, message] of edits) {
      it(`refuses ${what}`, async () => {
        const { device } = await gpu();
        const { plan } = editKernel(await affinePlan(), 'matmul', edit);
        expect(() => validatePlan(plan)).to.throw(PlanError, message);
        const error = await rejectionOf(Session.create(device, plan));
        expect(error).to.be.instanceOf(PlanError);
        expect(error.message).to.match(message);
      });
    }

    it('runs a plan whose kernel declares and binds a buffer it never reads, with the right values (explicit layouts keep the binding)', async () => {
      const { device } = await gpu();
      const good = await affinePlan();
      const { plan } = editKernel(good, 'matmul', (k) => ({
        ...k,
        wgsl: `${k.wgsl}\n@group(0) @binding(${k.bindings.length}) var<storage, read> never_read: array<f32>;`,
        bindings: [...k.bindings, { buffer: k.bindings[0]!.buffer, access: 'read' as const }],
      }));
      expect(() => validatePlan(plan)).not.to.throw();
      const session = await Session.create(device, plan);
      const expected = interpret(affineGraph(), { feeds: { x: X }, params: initialParams(affineGraph()) });
      const { y } = await session.forward({ x: X });
      expectClose(Array.from(y!.data), Array.from(expected['y']!.data));
      session.destroy();
    });
  });

  describe('plans that pass validatePlan but that the device rejects', () => {
    it('rejects the first forward with a DeviceError naming the kernel when its WGSL needs a larger buffer than is bound', async () => {
      const { device } = await gpu();
      const { plan, kernel } = editKernel(await affinePlan(), 'matmul', (k) => ({ ...k, wgsl: fixedSize(k.wgsl, 64) }));
      expect(() => validatePlan(plan)).not.to.throw();
      const session = await Session.create(device, plan);
      const error = await rejectionOf(session.forward({ x: X }));
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.include(`Session 'affine' forward: the GPU device rejected kernel ${kernel.name} (matmul %`);
      expect(error.message).to.include('a validation error, so the run returns no values. Recompile the plan with compile() for this device');
      expect(error.message).to.match(/The device says: .*requires a buffer binding which is at least 256 bytes/s);
      // It keeps failing: a rejected run is never reported as values, however often it is tried.
      expect(await rejectionOf(session.forward({ x: X }))).to.be.instanceOf(DeviceError);
      expect(await rejectionOf(session.forward({ x: X }, { outputs: ['y2'] }))).to.be.instanceOf(DeviceError);
      session.destroy();
    });

    it('rejects Session.create with a DeviceError naming the init kernel the device rejects, and frees what it made', async () => {
      const { device } = await gpu();
      const { plan, kernel } = editKernel(await affinePlan(), 'param', (k) => ({ ...k, wgsl: fixedSize(k.wgsl, 1024) }));
      expect(() => validatePlan(plan)).not.to.throw();
      const error = await rejectionOf(Session.create(device, plan));
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.include(`Session 'affine' init: the GPU device rejected kernel ${kernel.name} (param %`);
      expect(error.message).to.include('4096 bytes');
    });

    // Session.create waits for init's pipelines only: a forward kernel that does not compile fails
    // every forward and `session.ready`, never with values; init's fails Session.create itself.
    it('rejects every forward and session.ready with a KernelError naming the kernel when its WGSL does not compile', async () => {
      const { device } = await gpu();
      const { plan, kernel } = editKernel(await affinePlan(), 'matmul', (k) => ({ ...k, wgsl: k.wgsl.replace(/}\s*$/, '  let unused_value: f32 = not_declared_anywhere;\n}\n') }));
      expect(() => validatePlan(plan)).not.to.throw();
      const session = await Session.create(device, plan);
      const message = new RegExp(`^kernel ${kernel.name} \\(matmul %\\d+, .*\\): WGSL does not compile:\\n  line \\d+: .*not_declared_anywhere`);
      for (const error of [await rejectionOf(session.forward({ x: X })), await rejectionOf(session.forward({ x: X }, { outputs: ['y2'] })), await rejectionOf(session.ready)]) {
        expect(error).to.be.instanceOf(KernelError);
        expect(error.message).to.match(message);
      }
      session.destroy();
    });

    it('rejects Session.create with a KernelError naming the init kernel when its WGSL does not compile', async () => {
      const { device } = await gpu();
      const { plan, kernel } = editKernel(await affinePlan(), 'param', (k) => ({ ...k, wgsl: k.wgsl.replace(/}\s*$/, '  let unused_value: f32 = not_declared_anywhere;\n}\n') }));
      const error = await rejectionOf(Session.create(device, plan));
      expect(error).to.be.instanceOf(KernelError);
      expect(error.message).to.match(new RegExp(`^kernel ${kernel.name} \\(param %\\d+.*\\): WGSL does not compile:\\n  line \\d+: .*not_declared_anywhere`));
    });

    it('rejects the first forward with a KernelError naming the kernel when its pipeline fails (a workgroup size over the device limit, set by an override)', async () => {
      const { device } = await gpu();
      const { plan, kernel } = editKernel(await affinePlan(), 'matmul', (k) => ({ ...k, wgsl: `override size: u32 = 4096u;\n${k.wgsl.replace(/@workgroup_size\([^)]*\)/, '@workgroup_size(size)')}` }));
      expect(() => validatePlan(plan)).not.to.throw();
      const session = await Session.create(device, plan);
      const error = await rejectionOf(session.forward({ x: X }));
      expect(error).to.be.instanceOf(KernelError);
      expect(error.message).to.match(new RegExp(`^kernel ${kernel.name} \\(matmul %\\d+.*\\): pipeline creation failed: .*workgroup_size\\(4096, 1, 1\\)`));
      expect(error.message).to.include(`[ComputePipeline "${kernel.name}"]`);
      expect(await rejectionOf(session.ready)).to.equal(error);
      session.destroy();
    });

    it('rejects a dispatch past maxComputeWorkgroupsPerDimension with a DeviceLimitError naming the kernel, before anything reaches the GPU', async () => {
      const { device } = await gpu();
      const over = device.limits.maxComputeWorkgroupsPerDimension + 1;
      const { plan, kernel } = editKernel(await affinePlan(), 'matmul', (k) => ({ ...k, workgroups: [over, 1, 1] }));
      const error = await rejectionOf(Session.create(device, plan));
      expect(error).to.be.instanceOf(DeviceLimitError);
      expect(error.message).to.include(`kernel ${kernel.name} dispatches [${over}, 1, 1] workgroups, over this device's maxComputeWorkgroupsPerDimension`);
    });

    it('rejects a buffer larger than the device allows with a DeviceLimitError naming it', async () => {
      const { device } = await gpu();
      // Unplanned memory: each buffer is its own allocation, so only the device limit stands in the way.
      const plan = compile(affineGraph(), { limits: device.limits, memory: false });
      const huge = { ...plan, buffers: plan.buffers.map((b) => (b.name === 'w' ? { ...b, bytes: device.limits.maxBufferSize + 4 } : b)) };
      expect(() => validatePlan(huge)).not.to.throw();
      const error = await rejectionOf(Session.create(device, huge));
      expect(error).to.be.instanceOf(DeviceLimitError);
      expect(error.message).to.match(/\(w\) needs \d+ bytes, over this device's/);
    });
  });

  describe('later runs, outside error scopes: the device\'s uncaptured errors reject the call', () => {
    it('rejects a run in flight with a DeviceError carrying the device\'s message when the device rejects its submit', async () => {
      const { device } = await gpu();
      const session = await Session.create(device, await affinePlan());
      await session.forward({ x: X });
      // Sabotage behind the session's back: its submit now uses a destroyed buffer.
      const y = session.plan.entries['forward']!.outputs['y']!;
      (session as unknown as { memory: { buffers: GPUBuffer[] } }).memory.buffers[y]!.destroy();
      const error = await rejectionOf(session.forward({ x: X }));
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.include("Session 'affine' forward: the GPU device rejected the run with a validation error, so it returns no values;");
      expect(error.message).to.match(/The device says: .*[Dd]estroyed/s);
      session.destroy();
    });

    it('rejects the next call once when the device reports an error after the session\'s last call returned, then runs again', async () => {
      const { device } = await gpu();
      const session = await Session.create(device, await affinePlan());
      const first = await session.forward({ x: X });
      const reported = new Promise<void>((resolve) => device.addEventListener('uncapturederror', () => resolve(), { once: true }));
      device.createBuffer({ label: 'invalid on purpose', size: 4, usage: 0 });
      await reported;
      const error = await rejectionOf(session.forward({ x: X }));
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.match(/^Session 'affine': the GPU device reported a validation error after this session's last call had returned: that call's results may be wrong, and this call is refused/);
      expect(error.message).to.include('invalid on purpose');
      expect(Array.from((await session.forward({ x: X }))['y']!.data)).to.deep.equal(Array.from(first['y']!.data));
      session.destroy();
    });
  });

  describe('a good plan', () => {
    before(async () => installGpuCounters((await import('webgpu')).globals as unknown as WebGPUClasses));

    it('returns the reference values on its first and later runs, one submit per step, Session.create included', async () => {
      const { device } = await gpu();
      const plan = await affinePlan();
      const expected = interpret(affineGraph(), { feeds: { x: X }, params: initialParams(affineGraph()) });
      const before = readGpuCounts()!;
      const session = await Session.create(device, plan);
      const created = readGpuCounts()!;
      expect(created.submits - before.submits, 'Session.create: the init step').to.equal(1);
      expect(created.dispatches - before.dispatches).to.equal(plan.entries['init']!.dispatches.length);
      for (let run = 0; run < 3; run++) {
        const start = readGpuCounts()!;
        const out = await session.forward({ x: X });
        const end = readGpuCounts()!;
        expect(end.submits - start.submits, `run ${run}`).to.equal(1);
        expect(end.dispatches - start.dispatches, `run ${run}`).to.equal(plan.entries['forward']!.dispatches.length);
        expectClose(Array.from(out['y']!.data), Array.from(expected['y']!.data));
        expectClose(Array.from(out['y2']!.data), Array.from(expected['y2']!.data));
      }
      session.destroy();
    });
  });
});
