import { expect } from 'chai';
import { compileStages } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { requestDevice } from '../../runtime/device.js';
import type { KilnDevice } from '../../runtime/device.js';
import { profileEntry } from '../../runtime/profile.js';
import { timeKernels } from '../../playground/profile.js';
import { kernelCosts } from '../../playground/worker/costs.js';

describe('playground/profile (Dawn in Node)', () => {
  const stages = compileStages(seedMlp({ batch: 64 }));
  let withTimestamps: KilnDevice;
  let without: KilnDevice;
  before(async function () {
    this.timeout(60_000);
    withTimestamps = await requestDevice({ requiredFeatures: ['timestamp-query'] });
    without = await requestDevice();
  });
  after(() => {
    withTimestamps?.destroy();
    without?.destroy();
  });

  it('times each dispatch with GPU timestamps where the device has them, else by the wall clock, and says which', async function () {
    this.timeout(60_000);
    const dispatches = stages.plan.entries['trainStep']!.dispatches.length;
    const costs = kernelCosts(stages).entries['trainStep']!;
    for (const [device, clock] of [[withTimestamps, /^GPU µs per dispatch: timestamp queries around each kernel, median of 5 runs/], [without, /by the wall clock, submit to done, .*no timestamp-query/]] as const) {
      const times = await timeKernels(device.device, stages.plan, 'trainStep', {});
      expect(times.note).to.match(clock);
      expect(times.microseconds).to.have.length(dispatches);
      expect(times.microseconds.every((us) => Number.isFinite(us) && us >= 0)).to.equal(true);
      // The step's largest matmul (one of fc1's, 2·64·784·128 FLOPs) takes longer than its smallest kernel.
      const most = costs.reduce((best, cost, i) => (cost.flops > costs[best]!.flops ? i : best), 0);
      const least = costs.reduce((best, cost, i) => (cost.flops < costs[best]!.flops ? i : best), 0);
      expect(times.microseconds[most]).to.be.greaterThan(times.microseconds[least]!);
    }
  });

  it('refuses the timestamps clock on a device made without timestamp-query, naming the fix', async () => {
    let error: unknown;
    await profileEntry(without.device, stages.plan, 'forward', 1, {}, 'timestamps').catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/'timestamps' clock needs a device made with the 'timestamp-query' feature.*Use the 'wall' clock/);
  });

  it('costs each dispatch of every entry: a matmul’s 2·m·n·k FLOPs and the bytes it binds', () => {
    const costs = kernelCosts(stages);
    expect(costs.dims).to.deep.equal({});
    for (const [name, entry] of Object.entries(stages.plan.entries)) expect(costs.entries[name], name).to.have.length(entry.dispatches.length);
    const forward = costs.entries['forward']!;
    const matmuls = 2 * 64 * (784 * 128 + 128 * 64 + 64 * 10);
    const flops = forward.reduce((sum, cost) => sum + cost.flops, 0);
    // The matmuls, plus one per element of each bias add and ReLU fused into them.
    expect(flops).to.be.within(matmuls, matmuls + 4 * 64 * (128 + 64 + 10));
    const first = forward[0]!;
    expect(first.bytesRead).to.equal(4 * (64 * 784 + 784 * 128 + 128));
    expect(first.bytesWritten).to.equal(4 * 64 * 128);
  });

  it('costs a symbolic plan at its planning sizes, the sizes Time kernels uses', () => {
    const costs = kernelCosts(compileStages(seedMlp({ batch: 'batch' })));
    expect(costs.dims).to.deep.equal({ batch: 64 });
    expect(costs.entries['forward']![0]!.bytesWritten).to.equal(4 * 64 * 128);
  });
});
