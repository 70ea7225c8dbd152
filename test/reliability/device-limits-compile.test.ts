import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { Plan, PlanKernel } from '../../compiler/plan-format.js';
import { DeviceLimitError } from '../../compiler/errors.js';
import { DEFAULT_LIMITS } from '../../compiler/codegen/wgsl.js';
import { kernelLimitProblems, kernelResources } from '../../compiler/kernel-fit.js';
import { checkPlanFitsDevice, validatePlan } from '../../compiler/plan-check.js';
import { attention, convWeightGrad2d, cumsum } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { leNet } from '../../examples/models/lenet.js';
import { GRAPH_WORKLOADS, SPEC_MINIMUM, STARVED, TIGHT, TRAINING_WORKLOADS } from './device-limits-fixtures.js';
import type { SimulatedDevice } from './device-limits-fixtures.js';

/** Asserts every kernel of `plan` fits `device`, by the resources it records (which its WGSL declares) and by the runtime's plan check. */
function expectFits(plan: Plan, device: SimulatedDevice): void {
  for (const kernel of plan.kernels) {
    expect(kernel.workgroupStorageBytes, kernel.name).to.equal(kernelResources(kernel.wgsl).workgroupStorageBytes);
    expect(kernelLimitProblems(kernel, device.limits), kernel.name).to.deep.equal([]);
  }
  expect(() => checkPlanFitsDevice(plan, device.limits)).not.to.throw();
}

describe('device limits at compile time', () => {
  describe('kernelResources reads what a kernel asks of the device from its WGSL', () => {
    it('reads 1-, 2- and 3-D workgroup sizes with or without suffixes, and nothing from an override', () => {
      expect(kernelResources('@compute @workgroup_size(64)\nfn main() {}').workgroupSize).to.deep.equal([64, 1, 1]);
      expect(kernelResources('@compute @workgroup_size(8u, 4)\nfn main() {}').workgroupSize).to.deep.equal([8, 4, 1]);
      expect(kernelResources('@compute @workgroup_size( 4, 2, 3 )\nfn main() {}').workgroupSize).to.deep.equal([4, 2, 3]);
      expect(kernelResources('override size = 64;\n@compute @workgroup_size(size)\nfn main() {}').workgroupSize).to.equal(undefined);
      expect(kernelResources('/* @workgroup_size(1024) */ @compute @ workgroup_size (32)\nfn main() {}').workgroupSize).to.deep.equal([32, 1, 1]);
    });

    it('counts workgroup variables as WebGPU does: WGSL sizes and strides, each rounded up to 16 bytes', () => {
      const bytes = (decls: string): number | undefined => kernelResources(`${decls}\n@compute @workgroup_size(1) fn main() {}`).workgroupStorageBytes;
      expect(bytes('')).to.equal(0);
      expect(bytes('var<workgroup> partial: array<f32, 64>;')).to.equal(256);
      expect(bytes('var<workgroup> a: array<f32, 5>;\nvar<workgroup> b: array<u32, 3>;')).to.equal(32 + 16);
      expect(bytes('var<workgroup> v: array<vec3<f32>, 2>;')).to.equal(32);
      expect(bytes('var<workgroup> t: array<array<vec4f, 3>, 2>;')).to.equal(96);
      expect(bytes('var<workgroup> flag: atomic<u32>;')).to.equal(16);
      expect(bytes('struct S { a: f32 }\nvar<workgroup> s: S;')).to.equal(undefined);
      expect(bytes('var < workgroup > spaced : array<f32, 4>;\n// var<workgroup> commented: array<f32, 4096>;')).to.equal(16);
    });

    it('names every limit a kernel exceeds, with what it needs', () => {
      const kernel = { bindings: [0, 1, 2, 3, 4], workgroups: [70000, 1, 1], workgroupSize: [128, 4, 1] as const, workgroupStorageBytes: 8192 };
      const problems = kernelLimitProblems(kernel, { ...TIGHT.limits, maxComputeWorkgroupSizeY: 2 }).map((p) => p.problem);
      expect(problems).to.deep.equal([
        "binds 5 storage buffers, over this device's maxStorageBuffersPerShaderStage of 4",
        "dispatches [70000, 1, 1] workgroups, over this device's maxComputeWorkgroupsPerDimension of 65535",
        "runs 512 invocations per workgroup (@workgroup_size(128, 4, 1)), over this device's maxComputeInvocationsPerWorkgroup of 64",
        "runs workgroups 128 invocations wide (@workgroup_size(128, 4, 1)), over this device's maxComputeWorkgroupSizeX of 64",
        "runs workgroups 4 invocations high (@workgroup_size(128, 4, 1)), over this device's maxComputeWorkgroupSizeY of 2",
        "uses 8192 bytes of workgroup storage, over this device's maxComputeWorkgroupStorageSize of 4096",
      ]);
    });
  });

  for (const device of [SPEC_MINIMUM, TIGHT, STARVED]) {
    describe(`every model compiled for ${device.name}`, () => {
      for (const workload of TRAINING_WORKLOADS) {
        it(`${workload.name}: every kernel of init, forward and trainStep fits`, () => {
          expectFits(compile(workload.program(), { limits: device.limits }), device);
        });
      }
      for (const workload of GRAPH_WORKLOADS) {
        it(`${workload.name}: every kernel fits`, () => {
          expectFits(compile(workload.graph(), { limits: device.limits }), device);
        });
      }
    });
  }

  describe('tensors larger than a binding', () => {
    it('rejects an input over maxStorageBufferBindingSize, naming the tensor, its op, node, shape, bytes and the limit', () => {
      const g = new Graph('big_input');
      g.output('y', g.input('x', [100, 256]).relu());
      expect(() => compile(g, { limits: { maxStorageBufferBindingSize: 65536 } })).to.throw(
        DeviceLimitError,
        "compile: tensor x (input %0, f32[100,256]) needs 102400 bytes, over this device's storage-buffer binding limit of 65536 bytes " +
          "(maxStorageBufferBindingSize). Fix: use a smaller batch or layer, or compile for the device's own limits (compile(graph, {limits: device.limits})) if it allows more.",
      );
    });

    it('rejects an intermediate over the limit though its operands fit, and names maxBufferSize when that is the smaller', () => {
      const g = new Graph('big_product');
      g.output('y', g.input('a', [160, 100]).matmul(g.input('b', [100, 120])).sum());
      expect(() => compile(g, { limits: { maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 65536 } })).to.throw(
        DeviceLimitError,
        /^compile: tensor %2 \(matmul %2, f32\[160,120\]\) needs 76800 bytes, over this device's storage-buffer binding limit of 65536 bytes \(maxBufferSize\)/,
      );
    });

    it('rejects a parameter over the limit in a training program', () => {
      expect(() => compile(seedMlp({ batch: 4 }), { limits: { maxStorageBufferBindingSize: 256 * 1024 } })).to.throw(
        DeviceLimitError,
        /^compile: tensor fc1\.kernel \(param %\d+, f32\[784,128\]\) needs 401408 bytes, over this device's storage-buffer binding limit of 262144 bytes/,
      );
    });
  });

  it("splits a fused kernel that binds more storage buffers than the device allows into one kernel per node (LeNet's Adam updates under 4)", () => {
    const plan = compile(leNet({ batch: 2 }), { limits: TIGHT.limits });
    const split = plan.kernels.filter((k) => k.reason?.includes('split into one kernel per node'));
    expect(split.length).to.be.greaterThan(0);
    expect(split[0]!.reason).to.match(/; split into one kernel per node: fused, it would bind 5 storage buffers, over maxStorageBuffersPerShaderStage of 4$/);
    expect(split.every((k) => k.kind === 'single' && k.nodes.length === 1)).to.equal(true);
  });

  describe('kernels at the edge of the limits: adapted, or refused', () => {
    it('rejects a masked attention (q, k, v, mask and out) on a device with 4 storage buffers per stage', () => {
      const g = new Graph('masked');
      const mask = g.constant([1, 0, 1, 1, 1, 0], { dtype: 'bool', shape: [2, 3] });
      g.output('out', attention(g.input('q', [2, 4]), g.input('k', [3, 4]), g.input('v', [3, 4]), { mask }));
      expect(() => compile(g, { limits: TIGHT.limits })).to.throw(
        DeviceLimitError,
        /^compile: kernel k\d+_attention \(attention %\d+\) binds 5 storage buffers, over this device's maxStorageBuffersPerShaderStage of 4\. Fix: this kernel cannot be split to fit; every WebGPU device allows 8, so compile with the device's own limits \(compile\(graph, \{limits: device\.limits\}\)\)\.$/,
      );
    });

    it('rejects workgroups of 64 on a device allowing 32 invocations (below what WebGPU guarantees)', () => {
      expect(() => compile(seedMlp({ batch: 4 }), { limits: { maxComputeInvocationsPerWorkgroup: 32 } })).to.throw(
        DeviceLimitError,
        /^compile: kernel \w+ \(.+\) runs 64 invocations per workgroup \(@workgroup_size\(64, 1, 1\)\), over this device's maxComputeInvocationsPerWorkgroup of 32\. Fix: this kernel cannot be split to fit; every WebGPU device allows 256/,
      );
    });

    it('folds a dispatch past maxComputeWorkgroupsPerDimension into 2-D, and rejects one past its square naming the nodes', () => {
      const g = new Graph('wide');
      g.output('y', g.input('x', [100000]).relu());
      // 100000 / 64 = 1563 workgroups: 40 × 40 reach them, 16 × 16 do not.
      expect(compile(g, { limits: { maxComputeWorkgroupsPerDimension: 40 } }).kernels[0]!.workgroups).to.deep.equal([40, 40, 1]);
      expect(() => compile(g, { limits: { maxComputeWorkgroupsPerDimension: 16 } })).to.throw(
        DeviceLimitError,
        "compile: kernel for relu %1: 100000 invocations need 1563 workgroups of 64, more than the 16 × 16 a 2-D dispatch reaches under this device's " +
          'maxComputeWorkgroupsPerDimension of 16. Fix: use smaller tensors (a smaller batch), or compile for the device\'s own limits (compile(graph, {limits: device.limits})).',
      );
    });

    it("sizes attention's key tiles from the workgroup storage, and reads keys from their buffers when none fits", () => {
      const wgsl = (device: SimulatedDevice): string => compile(GRAPH_WORKLOADS[0]!.graph(), { limits: device.limits }).kernels[0]!.wgsl;
      expect(wgsl(SPEC_MINIMUM)).to.include('keys and values in tiles of 8 in workgroup memory');
      expect(wgsl(TIGHT)).to.include('keys and values in tiles of 2 in workgroup memory');
      expect(wgsl(STARVED)).to.include('keys and values read from their buffers').and.not.include('var<workgroup>');
    });

    it('refuses a kernel over maxComputeWorkgroupStorageSize, by the storage it records (a weight gradient needs a partial sum of 16 bytes)', () => {
      const g = new Graph('conv_weight_grad');
      g.output('dw', convWeightGrad2d(g.input('x', [3, 4, 13, 11]), g.input('dy', [3, 6, 6, 9]), { kernelSize: [5, 3], stride: [2, 1], padding: [1, 0] }));
      const fitting = compile(g, { limits: { ...STARVED.limits, maxComputeWorkgroupStorageSize: 16 } }).kernels[0]!;
      expect(fitting.workgroupStorageBytes).to.equal(16).and.equal(kernelResources(fitting.wgsl).workgroupStorageBytes);
      expect(() => compile(g, { limits: { ...STARVED.limits, maxComputeWorkgroupStorageSize: 8 } })).to.throw(
        DeviceLimitError,
        "compile: kernel k2_convWeightGrad2d (convWeightGrad2d %2) uses 16 bytes of workgroup storage, over this device's maxComputeWorkgroupStorageSize of 8. " +
          'Fix: this kernel cannot be split to fit; every WebGPU device allows 16384, so compile with the device\'s own limits (compile(graph, {limits: device.limits})).',
      );
    });

    it('scans a long line with one invocation when the chunk totals do not fit workgroup storage', () => {
      const g = new Graph('scan');
      g.output('y', cumsum(g.input('x', [2, 1000]), 1));
      expect(compile(g).kernels[0]!.wgsl).to.include('var<workgroup> chunk_totals');
      const starved = compile(g, { limits: STARVED.limits }).kernels[0]!.wgsl;
      expect(starved).to.not.include('var<workgroup>');
      expect(starved).to.include('one invocation per line');
    });
  });

  describe('checkPlanFitsDevice (Session.create) on a plan compiled for a larger device', () => {
    const bigDevice = { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 1 << 20, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 };
    const fix = "compile without `limits` for a portable plan that runs on any adapter, or with this device's limits: compile(graph, {limits: device.limits}).";

    it('rejects an attention kernel whose key tiles use more workgroup storage than the device has', () => {
      const g = new Graph('wide_heads');
      g.output('out', attention(g.input('q', [64, 128]), g.input('k', [64, 128]), g.input('v', [64, 128])));
      const plan = compile(g, { limits: bigDevice });
      expect(() => checkPlanFitsDevice(plan, DEFAULT_LIMITS)).to.throw(
        DeviceLimitError,
        `plan 'wide_heads': kernel k3_attention uses 65536 bytes of workgroup storage, over this device's maxComputeWorkgroupStorageSize of 16384. ` +
          'This plan was compiled for limits maxComputeInvocationsPerWorkgroup 1024, maxComputeWorkgroupSizeX 1024, maxComputeWorkgroupStorageSize 1048576, ' +
          `and this device has maxComputeInvocationsPerWorkgroup 256, maxComputeWorkgroupSizeX 256, maxComputeWorkgroupStorageSize 16384: ${fix}`,
      );
      expect(() => checkPlanFitsDevice(plan, bigDevice)).not.to.throw();
    });

    it('rejects a hand-edited kernel whose workgroups are larger than the device allows', () => {
      const plan = compile(seedMlp({ batch: 4 }));
      const wider = (k: PlanKernel): PlanKernel => ({ ...k, wgsl: k.wgsl.replace('@workgroup_size(64)', '@workgroup_size(512)'), workgroupSize: [512, 1, 1] });
      const edited: Plan = { ...plan, kernels: plan.kernels.map((k, i) => (i === 1 ? wider(k) : k)) };
      expect(() => validatePlan(edited)).not.to.throw();
      expect(() => checkPlanFitsDevice(edited, DEFAULT_LIMITS)).to.throw(
        DeviceLimitError,
        `plan 'seed_mlp': kernel ${plan.kernels[1]!.name} runs 512 invocations per workgroup (@workgroup_size(512, 1, 1)), over this device's maxComputeInvocationsPerWorkgroup of 256. ` +
          `The plan was compiled for limits this device meets, so it was edited after compile(); ${fix}`,
      );
    });

    it("takes WebGPU's minimums for the workgroup limits a caller leaves out", () => {
      const plan = compile(seedMlp({ batch: 4 }), { limits: TIGHT.limits });
      const { maxComputeWorkgroupsPerDimension, maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize, maxBufferSize } = TIGHT.limits;
      expect(() => checkPlanFitsDevice(plan, { maxComputeWorkgroupsPerDimension, maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize, maxBufferSize })).not.to.throw();
    });
  });
});
