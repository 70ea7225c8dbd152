import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SoakResult } from '../../scripts/soak.js';

const STEPS = 2000;
/**
 * The heap after a full collection may move by some tens of KiB between two measurements
 * (measured: 42 KiB over 2,400 steps); a leak of even 400 bytes a step would pass this.
 */
const HEAP_GROWTH_BOUND = 512 * 1024;

describe('a long training run (scripts/soak.ts, in a child process with --expose-gc)', function () {
  this.timeout(180000);
  let result: SoakResult;

  before(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--steps', String(STEPS), '--json'], {
      maxBuffer: 1 << 20,
    });
    result = JSON.parse(stdout.trim().split('\n').at(-1)!) as SoakResult;
  });

  it(`keeps its GPU buffers and their bytes constant over ${STEPS} steps after the warmup`, () => {
    expect(result.steps).to.equal(STEPS);
    expect(result.warm.buffers.count).to.be.greaterThan(0);
    expect(result.end.buffers).to.deep.equal(result.warm.buffers);
  });

  it('keeps the JS heap (after a full collection) stable', () => {
    expect(result.gc).to.equal(true);
    expect(result.end.heapUsed - result.warm.heapUsed).to.be.below(HEAP_GROWTH_BOUND);
  });

  it('ends with a finite loss (every 500th step was also checked for NaN/Infinity on the GPU)', () => {
    expect(Number.isFinite(result.end.loss)).to.equal(true);
  });

  it('releases every buffer on destroy()', () => {
    expect(result.afterDestroy).to.deep.equal(result.beforeCreate);
  });
});
