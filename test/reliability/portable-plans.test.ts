import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { DeviceLimitError } from '../../compiler/errors.js';
import { DEFAULT_LIMITS } from '../../compiler/limits.js';
import { kernelLimitProblems } from '../../compiler/kernel-fit.js';
import { checkPlanFitsDevice, validatePlan } from '../../compiler/plan-check.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { leNet } from '../../examples/models/lenet.js';
import { charTransformer } from '../../examples/models/char-transformer.js';

/** The examples' models at the sizes `kiln inspect` compiles them (the char transformer with the GPL-3 corpus's 43 characters). */
const EXAMPLES: readonly (readonly [string, () => TrainingProgram])[] = [
  ['the seed MLP (batch 128)', () => seedMlp({ batch: 128 })],
  ['LeNet (batch 64)', () => leNet({ batch: 64 })],
  ['the char transformer (batch 32)', () => charTransformer({ vocab: 43, batch: 32 })],
];

/** What Dawn reports on a desktop adapter, where the default is 8: a plan compiled for it batches 12 params in one init kernel. */
const TWELVE_STORAGE_BUFFERS = { ...DEFAULT_LIMITS, maxStorageBuffersPerShaderStage: 12 };

const FIX = "compile without `limits` for a portable plan that runs on any adapter, or with this device's limits: compile(graph, {limits: device.limits}).";

describe('portable plans: a plan records the device limits it was compiled for', () => {
  describe("compiled without limits, a plan records WebGPU's defaults and every kernel fits them (it runs on any adapter)", () => {
    for (const [name, program] of EXAMPLES) {
      it(name, () => {
        const plan = compile(program());
        expect(plan.limits).to.deep.equal(DEFAULT_LIMITS);
        expect(plan.kernels.filter((k) => k.kind === 'init')).to.not.be.empty;
        for (const kernel of plan.kernels) expect(kernelLimitProblems(kernel, DEFAULT_LIMITS), kernel.name).to.deep.equal([]);
        expect(() => checkPlanFitsDevice(plan, DEFAULT_LIMITS)).not.to.throw();
      });
    }
  });

  it("records the limits given (WebGPU's default for each one left out), through a JSON round trip", () => {
    const plan = compile(seedMlp({ batch: 4 }), { limits: { maxStorageBuffersPerShaderStage: 12, maxComputeWorkgroupStorageSize: 32768 } });
    expect(plan.limits).to.deep.equal({ ...DEFAULT_LIMITS, maxStorageBuffersPerShaderStage: 12, maxComputeWorkgroupStorageSize: 32768 });
    const shipped: unknown = JSON.parse(JSON.stringify(plan));
    validatePlan(shipped);
    expect(shipped.limits).to.deep.equal(plan.limits);
  });

  it("refuses a plan compiled for 12 storage buffers on a device with the defaults, naming the limits it assumed, the device's, and both fixes", () => {
    const plan = compile(seedMlp({ batch: 4 }), { limits: TWELVE_STORAGE_BUFFERS });
    expect(() => checkPlanFitsDevice(plan, { ...DEFAULT_LIMITS, maxStorageBuffersPerShaderStage: 10 })).to.throw(
      DeviceLimitError,
      "plan 'seed_mlp': kernel init_2_and_11_more binds 12 storage buffers, over this device's maxStorageBuffersPerShaderStage of 10. " +
        `This plan was compiled for limits maxStorageBuffersPerShaderStage 12, and this device has maxStorageBuffersPerShaderStage 10: ${FIX}`,
    );
  });

  it('opens a plan compiled for a larger device on a smaller one when every kernel fits: the check is of kernels, not of the record', () => {
    const g = new Graph('small');
    g.output('y', g.input('x', [4]).relu());
    const plan = compile(g, { limits: TWELVE_STORAGE_BUFFERS });
    expect(plan.limits.maxStorageBuffersPerShaderStage).to.equal(12);
    expect(() => checkPlanFitsDevice(plan, DEFAULT_LIMITS)).not.to.throw();
  });
});
