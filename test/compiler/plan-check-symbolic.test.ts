import { expect } from 'chai';
import { PlanError } from '../../compiler/errors.js';
import { checkPlanFitsDevice, validatePlan } from '../../compiler/plan-check.js';
import { memoryReport, planMemory } from '../../compiler/memory.js';
import { checkMemoryPlan } from '../../compiler/liveness.js';
import { DEFAULT_LIMITS } from '../../compiler/limits.js';
import { printPlan } from '../../compiler/plan-print.js';
import { symbolicPlan } from '../symbolic-plan.js';

const DELETE = Symbol('delete');

/** symbolicPlan (a JSON copy) with the field at a dotted path set to `value` (a function: of the old value), or deleted. */
function edited(path: string, value: unknown): unknown {
  const plan = JSON.parse(JSON.stringify(symbolicPlan())) as Record<string, unknown>;
  const keys = path.split('.');
  let parent = plan;
  for (const key of keys.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === DELETE) delete parent[last];
  else parent[last] = typeof value === 'function' ? (value as (old: unknown) => unknown)(parent[last]) : value;
  return plan;
}

const withSizeBlock = (members: string) => (wgsl: unknown) => String(wgsl).replace('batch: u32', members);

const rejected: readonly (readonly [string, string, unknown, RegExp])[] = [
  ['dims that are not names', 'dims', ['batch', 'two words'], /dims: must be an array of dim names/],
  ['a dim named twice', 'dims', ['batch', 'batch'], /dims: names 'batch' twice/],
  ['a size naming a dim the plan lacks', 'buffers.0.shape', ['seq', 4], /buffers\[0\]\.shape\[0\]: size 'seq' names dim 'seq', which is not one of the plan's dims \(batch\)/],
  ['a malformed size', 'buffers.0.shape', ['batch**2', 4], /buffers\[0\]\.shape\[0\]: plan size 'batch\*\*2' is malformed/],
  ['symbolic bytes too small for the shape', 'buffers.0.bytes', '4*batch', /buffers\[0\]\.bytes: '4\*batch' cannot hold the 4 elements of \[batch,4\]/],
  ['a static byte count for a symbolic shape', 'buffers.0.bytes', 64, /buffers\[0\]\.bytes: '64' cannot hold the 28 elements of \[batch,4\] at \{"batch":7\}/],
  ['a symbolic param', 'buffers.1.shape', ['batch'], /buffers\[1\]\.shape: a param buffer's shape must be static, got \[batch\]/],
  ['a workgroup count of an unknown dim', 'kernels.1.workgroups.0', { size: 'rows', per: 64 }, /kernels\[1\] \(k2_scale\)\.workgroups\[0\]\.size: size 'rows' names dim 'rows'/],
  ['a workgroup count without per', 'kernels.1.workgroups.0', { size: 'batch' }, /kernels\[1\] \(k2_scale\)\.workgroups\[0\]: must be a non-negative integer or \{size, per\}/],
  ['foldX with y other than 1', 'kernels.1.workgroups.1', 2, /kernels\[1\] \(k2_scale\)\.foldX: folds x into y, so y must be 1, got 2/],
  ['foldX that is not a boolean', 'kernels.1.foldX', 'yes', /kernels\[1\] \(k2_scale\)\.foldX: must be a boolean/],
  ['readsDims without the size block in the WGSL', 'kernels.0.readsDims', true, /kernels\[0\] \(init_1_w\)\.readsDims: is true but the WGSL does not declare the size block/],
  ['the size block without readsDims', 'kernels.1.readsDims', DELETE, /kernels\[1\] \(k2_scale\)\.readsDims: is false but the WGSL declares the size block/],
  ['a size block that does not match plan.dims', 'kernels.1.wgsl', withSizeBlock('batch: u32, seq: u32'), /kernels\[1\] \(k2_scale\)\.wgsl: its struct KilnDims must hold one u32 per plan dim in order \(batch\), got \{batch: u32, seq: u32\}/],
  ['sizes in a plan without dims', 'dims', DELETE, /buffers\[0\]\.shape\[0\]: size 'batch' names dim 'batch', which is not one of the plan's dims \(none\)/],
  ['another group-1 binding', 'kernels.1.wgsl', (wgsl: unknown) => String(wgsl).replace('var<uniform> kiln_dims', 'var<uniform> sizes'), /declares @group\(1\) @binding\(0\) var sizes; kernels use group 0, and group 1 only for the size block/],
  ['maxDims naming a dim the plan lacks', 'maxDims', { seq: 4 }, /maxDims\.seq: is not one of the plan's dims \(batch\)/],
  ['a maxDims of 0', 'maxDims', { batch: 0 }, /maxDims\.batch: must be a positive integer, got 0/],
  ['an output view with other elements', 'entries.forward.outputShapes.flat', ['2*batch'], /entries\.forward\.outputShapes\.flat: \[2\*batch\] does not have the elements of buffer #4 \(%4, \[batch,4\]\)/],
];

describe('compiler/plan-check: plan v3, symbolic sizes', () => {
  it('accepts a symbolic plan, planned or not, and after a JSON round trip', () => {
    const plan = symbolicPlan();
    expect(() => validatePlan(plan)).not.to.throw();
    expect(() => validatePlan(planMemory(plan))).not.to.throw();
    expect(() => validatePlan(JSON.parse(JSON.stringify(planMemory(plan))))).not.to.throw();
    expect(() => validatePlan({ ...plan, maxDims: { batch: 256 } })).not.to.throw();
  });

  for (const [what, path, value, message] of rejected) {
    it(`rejects ${what}`, () => {
      const plan = edited(path, value);
      expect(() => validatePlan(plan)).to.throw(PlanError, message);
    });
  }

  it('refuses a version-2 plan with the fix: recompile', () => {
    expect(() => validatePlan({ ...symbolicPlan(), version: 2 })).to.throw(PlanError, /^plan version 2 was written by an older kiln \(this one reads version 3: sizes may be symbolic.*Recompile it with compile\(\)\.$/);
  });

  it('leaves symbolic sizes to the run when checking a device’s limits (static ones are checked as before)', () => {
    expect(() => checkPlanFitsDevice(symbolicPlan(), { ...DEFAULT_LIMITS, maxComputeWorkgroupsPerDimension: 1 })).not.to.throw();
  });
});

describe('planMemory on a symbolic plan', () => {
  it('shares transients by liveness (valid at every size), recording only static bytes for the runtime to grow', () => {
    const plan = planMemory(symbolicPlan());
    checkMemoryPlan(plan);
    // %2 (dead after k3) holds %4 (written by k4), and score's %6: one allocation, its static part 4 bytes.
    const allocationOf = (name: string): number => plan.buffers.find((b) => b.name === name)!.allocation!;
    expect(allocationOf('%4')).to.equal(allocationOf('%2'));
    expect(allocationOf('%6')).to.equal(allocationOf('%2'));
    expect(allocationOf('%3')).not.to.equal(allocationOf('%2'));
    expect(plan.allocations!.map((a) => a.bytes)).to.deep.equal([4, 16, 4, 4, 4]);
  });

  it('orders best fit by sizes at maxDims or 64 per dim, and reports memory at those dims or the ones given', () => {
    const plan = planMemory(symbolicPlan());
    expect(memoryReport(plan)).to.deep.equal({ naiveTransientBytes: 3328, peakTransientBytes: 2048, allocationBytes: 2048, atDims: { batch: 64 } });
    expect(memoryReport(plan, { batch: 1 })).to.deep.equal({ naiveTransientBytes: 52, peakTransientBytes: 32, allocationBytes: 32, atDims: { batch: 1 } });
    expect(memoryReport({ ...plan, maxDims: { batch: 2 } }).atDims).to.deep.equal({ batch: 2 });
  });

  it('prints symbolic shapes, sizes and counts as written', () => {
    const text = printPlan(planMemory(symbolicPlan()));
    expect(text).to.include('dims batch (size block: one u32 each)');
    expect(text).to.match(/#0 +x +input +f32\[batch,4\] +16\*batch B/);
    expect(text).to.include('workgroups ⌈4*batch/64⌉×1×1 (x folds into y)');
    expect(text).to.include('transient bytes at batch=64: naive 3328, peak 2048, allocated 2048');
    expect(text).to.match(/bytes +input 20\*batch, param 16, state 0, const 0, transient 52\*batch, total 72\*batch \+ 16/);
  });
});
