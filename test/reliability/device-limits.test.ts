import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { DeviceLimitError } from '../../compiler/errors.js';
import { Session } from '../../runtime/session.js';
import type { Feed } from '../../runtime/session.js';
import { attention } from '../../index.js';
import { expectClose, testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from '../gpu/harness.js';
import { GRAPH_WORKLOADS, SPEC_MINIMUM, STARVED, TIGHT, TRAINING_WORKLOADS } from './device-limits-fixtures.js';
import type { SimulatedDevice, TrainingWorkload } from './device-limits-fixtures.js';

/**
 * Runs two training steps of `workload` compiled for `device` (a plan compiled for smaller
 * limits than the real device's runs on it) next to the reference interpreter from the
 * same weights: the loss of each step and every param and state after them must agree.
 */
async function expectTrainingMatchesReference(workload: TrainingWorkload, device: SimulatedDevice): Promise<void> {
  const program = workload.program();
  const reference = new ReferenceSession(program);
  const gpuDevice = (await gpu()).device;
  const session = await Session.create(gpuDevice, compile(program, { limits: device.limits }));
  try {
    await session.setParams(reference.params as Record<string, Feed>);
    for (let step = 0; step < 2; step++) {
      const expected = reference.trainStep(workload.feeds(step))['loss']!.data[0]!;
      const actual = (await session.trainStep(workload.feeds(step), { outputs: ['loss'] }))['loss']!.data[0]!;
      expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-4 * Math.abs(expected));
    }
    const params = await session.getParams();
    for (const [name, value] of Object.entries(reference.params)) expectClose(params[name]!.data, value.data, 1e-3, 1e-5);
  } finally {
    session.destroy();
  }
}

describe('device limits on the GPU: plans compiled for smaller devices run correctly', function () {
  this.timeout(120000);

  for (const device of [SPEC_MINIMUM, TIGHT]) {
    describe(`compiled for ${device.name}`, () => {
      for (const workload of TRAINING_WORKLOADS) {
        it(`${workload.name}: two training steps equal the reference`, async () => {
          await expectTrainingMatchesReference(workload, device);
        });
      }
    });
  }

  for (const device of [SPEC_MINIMUM, TIGHT, STARVED]) {
    describe(`compiled for ${device.name}`, () => {
      for (const workload of GRAPH_WORKLOADS) {
        it(`${workload.name} equals the reference`, async () => {
          await expectGpuMatchesReference(workload.graph(), workload.feeds, { compile: { limits: device.limits }, rtol: 1e-4, atol: 1e-5 });
        });
      }
    });
  }

  it('runs a dispatch folded into 2-D when one dimension allows only 40 workgroups', async () => {
    const g = new Graph('wide');
    g.output('y', g.input('x', [100000]).relu().mul(3));
    await expectGpuMatchesReference(g, { x: testData(100000, 71) }, { compile: { limits: { maxComputeWorkgroupsPerDimension: 40 } } });
  });

  it('Session.create rejects a plan whose workgroup storage exceeds the device, and the device still runs a plan that fits', async () => {
    const { device } = await gpu();
    const g = new Graph('wide_heads');
    g.output('out', attention(g.input('q', [3, 512]), g.input('k', [64, 512]), g.input('v', [64, 512])));
    // Key tiles of 64 keys × (512 + 512) floats: 256 KiB of workgroup storage, more than any device offers today.
    const tooBig = compile(g, { limits: { ...device.limits, maxComputeWorkgroupStorageSize: 1 << 20 } });
    const available = device.limits.maxComputeWorkgroupStorageSize;
    let error: unknown;
    await Session.create(device, tooBig).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(DeviceLimitError);
    expect((error as Error).message).to.equal(
      `plan 'wide_heads': kernel k3_attention uses 262144 bytes of workgroup storage, over this device's maxComputeWorkgroupStorageSize of ${available}. ` +
        `This plan was compiled for limits maxComputeWorkgroupStorageSize 1048576, and this device has maxComputeWorkgroupStorageSize ${available}: ` +
        "compile without `limits` for a portable plan that runs on any adapter, or with this device's limits: compile(graph, {limits: device.limits}).",
    );
    const small = new Graph('small_heads');
    small.output('out', attention(small.input('q', [3, 8]), small.input('k', [5, 8]), small.input('v', [5, 8])));
    await expectGpuMatchesReference(small, { q: testData(24, 81), k: testData(40, 82), v: testData(40, 83) });
  });
});
