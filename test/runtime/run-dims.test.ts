import { expect } from 'chai';
import { ArgumentError, DeviceLimitError, FeedError } from '../../compiler/errors.js';
import type { Plan, PlanBuffer, PlanKernel } from '../../compiler/plan-format.js';
import { bindRunDims, checkRunFits, entryDimNames, workgroupsAt } from '../../runtime/run-dims.js';
import { symbolicPlan } from '../symbolic-plan.js';

const buffer = (name: string, shape: PlanBuffer['shape'], dtype: PlanBuffer['dtype'] = 'f32'): PlanBuffer => ({ id: 0, name, role: 'input', dtype, shape, bytes: 0 });
const plan = { ...symbolicPlan(), dims: ['batch', 'seq'] } as Plan;
const bind = (inputs: readonly PlanBuffer[], feeds: Record<string, unknown>, given?: Record<string, number>, needed = ['batch'], maxDims = {}) =>
  bindRunDims('Session.forward', plan, inputs.map((b) => ({ name: b.name, buffer: b })), feeds as never, given, needed, maxDims);
const tensor = (shape: number[]) => ({ shape, dtype: 'f32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('runtime/run-dims: the dims of a run', () => {
  it('binds dims from a tensor’s shape, a flat array’s length (linear in one dim) and RunOptions.dims', () => {
    expect(bind([buffer('x', ['batch', 4])], { x: tensor([5, 4]) })).to.deep.equal({ batch: 5 });
    expect(bind([buffer('x', ['batch', 4])], { x: new Float32Array(24) })).to.deep.equal({ batch: 6 });
    expect(bind([buffer('x', ['2*batch + 1'])], { x: new Float32Array(9) })).to.deep.equal({ batch: 4 });
    expect(bind([buffer('x', ['batch', 'seq'])], { x: new Float32Array(12) }, { seq: 3 }, ['batch', 'seq'])).to.deep.equal({ batch: 4, seq: 3 });
    expect(bind([buffer('x', ['batch', 'seq']), buffer('y', ['seq'])], { x: new Float32Array(12), y: [1, 2] }, undefined, ['batch', 'seq'])).to.deep.equal({ batch: 6, seq: 2 });
  });

  it('refuses what the feeds cannot tell, or tell inconsistently, naming the inputs, shapes and sizes', () => {
    expect(() => bind([buffer('x', ['batch', 'seq'])], { x: new Float32Array(12) }, undefined, ['batch', 'seq'])).to.throw(FeedError, /cannot tell the size of dim 'batch', 'seq' from input 'x' \(12 values for f32\[batch,seq\]\)\. Feed a tensor \{shape, dtype, data\}, or pass the sizes as RunOptions\.dims/);
    expect(() => bind([buffer('x', ['batch', 4]), buffer('labels', ['batch'], 'i32')], { x: tensor([3, 4]), labels: [1, 2] })).to.throw(
      FeedError,
      /the inputs' sizes disagree: input 'labels' \(2 values for i32\[batch\]\) needs batch = 2, but input 'x' \(f32\[3,4\] for f32\[batch,4\]\): batch = 3 gives 3/,
    );
    expect(() => bind([buffer('x', ['batch', 4])], { x: tensor([0, 4]) })).to.throw(FeedError, /input 'x' \(f32\[0,4\] for f32\[batch,4\]\) makes dim 'batch' 0/);
    expect(() => bind([buffer('x', ['batch', 4])], { x: [1, 2, 3] })).to.throw(FeedError, /input 'x' \(3 values for f32\[batch,4\]\) is not a whole number of rows: 4\*batch = 3 gives batch = 0\.75/);
    expect(() => bind([buffer('x', ['batch', 4])], { x: tensor([2, 4]) }, { batch: 0 })).to.throw(FeedError, /RunOptions\.dims makes dim 'batch' 0/);
    expect(() => bind([buffer('x', ['batch', 4])], { x: tensor([2, 4]) }, { rows: 2 })).to.throw(ArgumentError, /names 'rows', which is not a dim of plan 'symbolic' \(batch, seq\)/);
    expect(() => bind([buffer('x', ['batch', 4])], { x: tensor([9, 4]) }, undefined, ['batch'], { batch: 8 })).to.throw(DeviceLimitError, /dim 'batch' is 9 \(from input 'x' .*\), over its limit of 8 \(maxDims\)/);
  });

  it('computes dispatches per run, folding x into y past the per-dimension limit only where the kernel allows it', () => {
    const kernel = (foldX: boolean): PlanKernel => ({ ...symbolicPlan().kernels[1]!, foldX });
    expect(workgroupsAt(kernel(true), { batch: 100 }, 65535)).to.deep.equal([7, 1, 1]);
    expect(workgroupsAt(kernel(true), { batch: 100 }, 4)).to.deep.equal([4, 2, 1]);
    expect(workgroupsAt(kernel(false), { batch: 100 }, 4)).to.deep.equal([7, 1, 1]);
  });

  it('names the dims each entry needs, and refuses a run over the device’s limits before anything is submitted', () => {
    const p = symbolicPlan();
    expect(entryDimNames(p, p.entries['init']!)).to.deep.equal([]);
    expect(entryDimNames(p, p.entries['forward']!)).to.deep.equal(['batch']);
    const limits = { maxComputeWorkgroupsPerDimension: 4, maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 1 << 30 };
    expect(() => checkRunFits('Session.score', p, p.entries['score']!, { batch: 256 }, limits)).not.to.throw();
    expect(() => checkRunFits('Session.score', p, p.entries['score']!, { batch: 257 }, limits)).to.throw(DeviceLimitError, /at batch = 257, kernel k6_pick \(pick\) would dispatch \[5, 1, 1\] workgroups, over this device's maxComputeWorkgroupsPerDimension of 4/);
    expect(() => checkRunFits('Session.forward', p, p.entries['forward']!, { batch: 65537 }, limits)).to.throw(DeviceLimitError, /at batch = 65537, buffer #0 \(x, f32\[batch,4\]\) needs 1048592 bytes, over this device's storage-buffer limit of 1048576/);
  });
});
