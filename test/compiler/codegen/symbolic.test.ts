/**
 * Code generation for symbolic sizes (CPU): a kernel whose sizes depend on a dim reads
 * them from the size block (`kiln_dims` at @group(1) @binding(0)) and says so
 * (`readsDims`), its grid a per-run count; a plan records its dims and symbolic buffer
 * sizes; static graphs and static kernels read no size block.
 */

import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { compile } from '../../../compiler/plan.js';
import type { Plan, PlanKernel } from '../../../compiler/plan-format.js';
import { DEFAULT_LIMITS } from '../../../compiler/codegen/wgsl.js';
import { kernelLimitProblems } from '../../../compiler/kernel-fit.js';
import { symbol } from '../../../compiler/dims.js';
import { meanReducer, sumReducer } from '../../../compiler/ops/reduce.js';
import { reduceKernel } from '../../../shaders/reduce.js';
import '../../../compiler/ops/index.js';
import { symbolicForward, symbolicMovement } from './symbolic-graphs.js';

const reading = (plan: Plan): PlanKernel[] => plan.kernels.filter((k) => k.readsDims);

describe('symbolic sizes in code generation', () => {
  it('records the plan’s dims, symbolic buffer shapes and bytes, and static ones unchanged', () => {
    const plan = compile(symbolicForward('batch'));
    expect(plan.dims).to.deep.equal(['batch']);
    const byName = new Map(plan.buffers.map((b) => [b.name, b]));
    expect(byName.get('x')!.shape).to.deep.equal(['batch', 20]);
    expect(byName.get('x')!.bytes).to.equal('80*batch');
    expect(byName.get('w')!.shape).to.deep.equal([20, 12]);
    expect(byName.get('w')!.bytes).to.equal(960);
  });

  it('makes every kernel over the batch read the size block, with a per-run grid, and the init kernels not', () => {
    const plan = compile(symbolicForward('batch'));
    const kernels = reading(plan);
    expect(kernels.length).to.be.greaterThan(0);
    for (const k of kernels) {
      expect(k.wgsl, k.name).to.contain('struct KilnDims { batch: u32 }');
      expect(k.wgsl, k.name).to.contain('@group(1) @binding(0) var<uniform> kiln_dims: KilnDims;');
      expect(k.wgsl, k.name).to.contain('kiln_dims.batch');
    }
    const symbolicGrids = plan.kernels.filter((k) => k.workgroups.some((n) => typeof n !== 'number'));
    expect(symbolicGrids.length).to.be.greaterThan(0);
    for (const k of symbolicGrids) {
      expect(k.readsDims, k.name).to.equal(true);
      for (const n of k.workgroups) if (typeof n !== 'number') expect(n.size).to.match(/batch/);
    }
    for (const k of plan.kernels.filter((k) => k.kind === 'init')) {
      expect(k.readsDims, k.name).to.equal(undefined);
      expect(k.wgsl, k.name).not.to.contain('kiln_dims');
    }
  });

  it('folds a 1-D per-run grid (foldX) and indexes it with num_workgroups', () => {
    const plan = compile(symbolicForward('batch'));
    const folded = plan.kernels.filter((k) => k.foldX);
    expect(folded.length).to.be.greaterThan(0);
    for (const k of folded) {
      expect(k.workgroups[1], k.name).to.equal(1);
      expect(k.wgsl, k.name).to.contain('@builtin(num_workgroups) nwg: vec3u');
    }
  });

  it('divides a mean over the batch by the run’s batch size', () => {
    const g = new Graph('mean_over_batch');
    g.output('m', g.input('x', ['batch', 5]).mean(0));
    const plan = compile(g);
    const wgsl = plan.kernels.map((k) => k.wgsl).join('\n');
    expect(wgsl).to.contain('/ f32(kiln_dims.batch)');
  });

  it('leaves a static graph without dims, size block or per-run counts', () => {
    const plan = compile(symbolicForward(7));
    expect(plan.dims).to.equal(undefined);
    for (const k of plan.kernels) {
      expect(k.readsDims, k.name).to.equal(undefined);
      expect(k.foldX, k.name).to.equal(undefined);
      expect(k.wgsl, k.name).not.to.contain('kiln_dims');
      expect(k.workgroups.every((n) => typeof n === 'number'), k.name).to.equal(true);
    }
    for (const b of plan.buffers) expect(typeof b.bytes, b.name).to.equal('number');
  });

  it('compiles a graph with its dims bound (compile {dims}) to exactly the kernels of the static graph', () => {
    for (const build of [symbolicForward, symbolicMovement]) {
      const bound = compile(build('batch'), { dims: { batch: 7 } });
      expect(bound.dims).to.equal(undefined);
      expect(bound.kernels).to.deep.equal(compile(build(7)).kernels);
    }
  });

  it('reduces a symbolic group with the tree and a symbolic output count with a per-run grid', () => {
    const batch = symbol('batch');
    const common = { name: 'k', header: [], limits: DEFAULT_LIMITS, ids: [0, 1] as const, dtype: 'f32' as const, dims: ['batch'] };
    const [overBatch] = reduceKernel({ ...common, reducer: sumReducer, shape: [batch, 8], axes: [0] });
    expect(overBatch!.name).to.equal('k_tree');
    expect(overBatch!.wgsl).to.contain('position < kiln_dims.batch');
    expect(overBatch!.workgroups.every((n) => typeof n === 'number')).to.equal(true);
    const [alongRows] = reduceKernel({ ...common, reducer: meanReducer, shape: [batch, 8], axes: [1] });
    expect(alongRows!.workgroups[0]).to.deep.equal({ size: batch, per: 64 });
    expect(alongRows!.wgsl).to.contain('/ 8.0f');
    expect(alongRows!.readsDims).to.equal(true);
  });

  it('refuses a kernel that reads symbolic sizes without the plan’s dims', () => {
    expect(() => reduceKernel({ name: 'k', header: [], limits: DEFAULT_LIMITS, ids: [0, 1], dtype: 'f32', reducer: sumReducer, shape: [symbol('batch'), 8], axes: [1] })).to.throw(
      /without the plan's dims/,
    );
  });

  it('checks only static workgroup counts against the device (per-run counts are the runtime’s)', () => {
    const kernel = { bindings: [], workgroupSize: [64, 1, 1] as const, workgroupStorageBytes: 0 };
    expect(kernelLimitProblems({ ...kernel, workgroups: [{ size: 'batch', per: 64 }, 1, 1] }, DEFAULT_LIMITS)).to.deep.equal([]);
    const [problem] = kernelLimitProblems({ ...kernel, workgroups: [{ size: 'batch', per: 64 }, 70000, 1] }, DEFAULT_LIMITS);
    expect(problem!.problem).to.contain('ceil(batch / 64), 70000, 1');
  });
});
