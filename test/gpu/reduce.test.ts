import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { argmax, argmin, logsumexp, max, mean, min, prod, sum } from '../../compiler/ops/reduce.js';
import { compile } from '../../compiler/plan.js';
import type { Tensor } from '../../compiler/tensor.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference, expectPlanMatchesReference, gpu } from './harness.js';
import { interpret } from '../../compiler/reference.js';
import { Session } from '../../runtime/session.js';
import { expectClose } from '../helpers.js';
import { runPlanAt } from './symbolic-plan-runner.js';

type Reduce = (x: Tensor, axes?: number | readonly number[], keepdims?: boolean) => Tensor;
const FLOAT_REDUCTIONS: Record<string, Reduce> = { sum, mean, max, min, prod, logsumexp };

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Tolerance: the GPU accumulates in f32, the reference in double rounded once. Inputs in
 * [0.5, 1.5) keep every result away from 0, so a relative bound fits: measured max
 * relative error 2.7e-7 (sum, mean, prod, logsumexp over groups of up to 129); max and
 * min are exact.
 */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

/** One graph with every float reduction of an input of `shape` over `axes`, checked against the reference. */
async function checkAll(shape: number[], axes: number | number[] | undefined, keepdims = false) {
  const g = new Graph('reduce');
  const x = g.input('x', shape);
  for (const [name, reduce] of Object.entries(FLOAT_REDUCTIONS)) g.output(name, reduce(x, axes, keepdims));
  // Values in [0.5, 1.5) keep prod of a long group finite and away from 0.
  return expectGpuMatchesReference(g, { x: testData(size(shape), 7, 0.5, 1.5) }, TOLERANCE);
}

describe('reductions on the GPU', () => {
  it('reduce the last axis, walking contiguous memory', async () => {
    await checkAll([3, 17], -1);
  });

  it('reduce the leading axis of a tall matrix', async () => {
    await checkAll([129, 3], 0);
  });

  it('reduce several axes at once, adjacent or not, negative or not', async () => {
    await checkAll([2, 3, 4, 5], [1, 2]);
    await checkAll([2, 3, 4, 5], [-1, 0]);
    await checkAll([3, 1, 4], [0, 2]);
  });

  it('keep reduced dims as size 1 with keepdims', async () => {
    const out = await checkAll([2, 3, 5], [0, 2], true);
    expect(out['sum']!.shape).to.deep.equal([1, 3, 1]);
  });

  it('reduce everything to a rank-0 result', async () => {
    const out = await checkAll([129], undefined);
    expect(out['mean']!.shape).to.deep.equal([]);
    await checkAll([4, 1, 3], undefined);
  });

  it('reduce a size-1 axis to a copy', async () => {
    await checkAll([5, 1], 1);
  });

  it('give the identity of an empty group: sum 0, prod 1, mean NaN, logsumexp −∞', async () => {
    const g = new Graph('empty');
    const x = g.input('x', [3, 0]);
    for (const [name, reduce] of Object.entries({ sum, prod, mean, logsumexp })) g.output(name, reduce(x, 1));
    const out = await expectGpuMatchesReference(g, { x: [] });
    expect([...out['sum']!.data, ...out['prod']!.data]).to.deep.equal([0, 0, 0, 1, 1, 1]);
    expect([...out['mean']!.data].every(Number.isNaN)).to.equal(true);
    expect([...out['logsumexp']!.data]).to.deep.equal([-Infinity, -Infinity, -Infinity]);
    expect(compile(g).kernels.map((k) => k.name)).to.deep.equal(['k1_sum_fill', 'k2_prod_fill', 'k3_mean_fill', 'k4_logsumexp_fill']);
  });

  it('emit no kernel when the output is empty', async () => {
    const g = new Graph('empty-out');
    g.output('y', sum(g.input('x', [0, 4]), 1));
    expect(compile(g).kernels).to.deep.equal([]);
    await expectGpuMatchesReference(g, { x: [] });
  });

  it('sum and multiply i32 with wrapping, and take i32 max and min', async () => {
    const g = new Graph('ints');
    const x = g.input('x', [4, 9], 'i32');
    g.output('sum', sum(x, 1));
    g.output('prod', prod(x, 1));
    g.output('max', max(x, 0));
    g.output('min', min(x, 0));
    // Values near ±1e9 overflow every sum; products of nine values near ±1e3 overflow too.
    const big = testData(18, 3, -1e9, 1e9).map(Math.round);
    const small = testData(18, 4, -1e3, 1e3).map(Math.round);
    const out = await expectGpuMatchesReference(g, { x: Int32Array.from([...big, ...small]) }, { rtol: 0, atol: 0 });
    expect(out['sum']!.dtype).to.equal('i32');
  });

  it('keep logsumexp exact for inputs of ±1e4 and −∞ for a group of only −∞', async () => {
    const g = new Graph('lse');
    g.output('y', logsumexp(g.input('x', [3, 3]), 1));
    const x = Float32Array.from([1e4, 1e4, -1e4, -1e4, -1e4 + 1, -1e4, -Infinity, -Infinity, -Infinity]);
    const out = await expectGpuMatchesReference(g, { x }, { rtol: 1e-6, atol: 0 });
    expect(out['y']!.data[2]).to.equal(-Infinity);
  });

  it('keep logsumexp −∞ for a row of only −∞ inside a row kernel too', async () => {
    // x − logsumexp(x) walks each row again after reducing it: one row kernel computes both.
    const g = new Graph('lse rows');
    const x = g.input('x', [3, 3]);
    const lse = logsumexp(x, 1, true);
    g.output('lse', lse);
    g.output('shifted', x.sub(lse));
    const data = Float32Array.from([1e4, 1e4, -1e4, -1e4, -1e4 + 1, -1e4, -Infinity, -Infinity, -Infinity]);
    const { outputs, plan } = await expectPlanMatchesReference(g, { x: data }, { rtol: 1e-6, atol: 1e-3 });
    expect(plan.entries['forward']!.dispatches.map((k) => plan.kernels[k]!.name)).to.deep.equal(['k1_rows']);
    expect(outputs['lse']!.data[2]).to.equal(-Infinity);
  });

  it('give argmax and argmin the first index among ties, along an axis or over everything', async () => {
    const g = new Graph('args');
    const x = g.input('x', [3, 4]);
    g.output('argmaxRows', argmax(x, 1));
    g.output('argminRows', argmin(x, -1, true));
    g.output('argmaxColumns', argmax(x, 0));
    g.output('argmaxAll', argmax(x));
    g.output('argminAll', argmin(x, undefined, true));
    const values = [1, 3, 3, 0, 2, 2, 1, 1, 0, 5, 5, -1];
    const out = await expectGpuMatchesReference(g, { x: values }, { rtol: 0, atol: 0 });
    expect([...out['argmaxRows']!.data]).to.deep.equal([1, 0, 1]);
    expect([...out['argminRows']!.data]).to.deep.equal([3, 2, 3]);
    expect([...out['argmaxColumns']!.data]).to.deep.equal([1, 2, 2, 1]);
    expect(out['argmaxAll']!.data[0]).to.equal(9);
    expect(out['argminAll']!.shape).to.deep.equal([1, 1]);
  });

  it('take argmax of a rank-0 tensor and of i32 values', async () => {
    const g = new Graph('arg-scalar');
    g.output('scalar', argmax(g.input('s', [])));
    g.output('ints', argmax(g.input('n', [2, 129], 'i32'), 1));
    const ints = testData(258, 5, -50, 50).map(Math.round);
    const out = await expectGpuMatchesReference(g, { s: [4], n: Int32Array.from(ints) }, { rtol: 0, atol: 0 });
    expect(out['scalar']!.data[0]).to.equal(0);
  });

  it('declare a helper once when both the fused prologue and the epilogue need it, in either kernel', async () => {
    const g = new Graph('shared-helpers');
    const x = g.input('x', [3, 40]);
    const y = g.input('y', [2, 300]);
    g.output('short', sum(x.minimum(0.5), 1).minimum(3));
    g.output('long', sum(y.minimum(0.5), 1).minimum(3));
    const kernels = compile(g).kernels;
    expect(kernels.map((k) => k.name)).to.deep.equal(['k4_sum_prologue_epilogue', 'k8_sum_tree_prologue_epilogue']);
    for (const kernel of kernels) expect(kernel.wgsl.match(/fn kiln_minimum\(/g)).to.have.length(1);
    await expectGpuMatchesReference(g, { x: testData(120, 15), y: testData(600, 16) }, TOLERANCE);
  });

  describe('with a workgroup tree for long groups or few outputs', () => {
    const kernelNames = (g: Graph): string[] => compile(g).kernels.map((k) => k.name);

    it('keep one invocation per output for many short groups, and take the tree for long or few groups', () => {
      const names = (shape: number[], axis: number): string[] => {
        const g = new Graph('choice');
        g.output('y', sum(g.input('x', shape), axis));
        return kernelNames(g);
      };
      expect(names([4096, 100], 1)).to.deep.equal(['k1_sum']);
      expect(names([4096, 300], 1)).to.deep.equal(['k1_sum_tree']);
      expect(names([2, 100], 1)).to.deep.equal(['k1_sum_tree']);
      expect(names([2, 30], 1)).to.deep.equal(['k1_sum']);
    });

    it('reduce a row of 100000 elements to one value, with every reduction', async function () {
      this.timeout(20000);
      const g = new Graph('long-row');
      const x = g.input('x', [1, 100000]);
      for (const [name, reduce] of Object.entries({ sum, mean, max, min, logsumexp })) g.output(name, reduce(x, 1));
      g.output('argmax', argmax(x, 1));
      g.output('argmin', argmin(x, 1));
      expect(kernelNames(g).every((name) => name.endsWith('_tree'))).to.equal(true);
      await expectGpuMatchesReference(g, { x: testData(100000, 11, 0.5, 1.5) }, TOLERANCE);
    });

    it('sum a million elements through a fused prologue and epilogue', async function () {
      this.timeout(30000);
      const g = new Graph('million');
      const x = g.input('x', [1000, 1000]);
      g.output('y', sum(x.square()).mul(0.5).add(1));
      expect(kernelNames(g)).to.deep.equal(['k2_sum_tree_prologue_epilogue']);
      const out = await expectGpuMatchesReference(g, { x: testData(1e6, 12) }, TOLERANCE);
      expect(out['y']!.data[0]).to.be.greaterThan(1e5);
    });

    it('reduce the leading axis with neighbouring outputs in one workgroup, the last one partly idle', async () => {
      const g = new Graph('columns');
      g.output('y', sum(g.input('x', [300, 70]), 0));
      expect(compile(g).kernels[0]!.wgsl).to.contain('16 neighbouring outputs per workgroup');
      await checkAll([300, 70], 0);
    });

    it('reduce axes that are not neighbours in memory, walking both in one strided loop', async () => {
      await checkAll([16, 5, 20], [0, 2]);
    });

    it('give argmax the first of tied values even when the ties fall in different slices', async () => {
      const g = new Graph('tree-ties');
      const x = g.input('x', [3, 1000]);
      g.output('argmax', argmax(x, 1));
      g.output('argmin', argmin(x, 1));
      const values = new Float32Array(3000);
      values.fill(1, 1000, 2000);
      values[1000 + 700] = 5;
      values[1000 + 301] = 5;
      values[2000 + 999] = -2;
      values[2000 + 3] = -2;
      const out = await expectGpuMatchesReference(g, { x: values }, { rtol: 0, atol: 0 });
      expect([...out['argmax']!.data]).to.deep.equal([0, 301, 0]);
      expect([...out['argmin']!.data]).to.deep.equal([0, 0, 3]);
    });

    it('wrap i32 sums and keep logsumexp −∞ for a long group of only −∞', async () => {
      const g = new Graph('tree-edges');
      g.output('sum', sum(g.input('n', [2, 300], 'i32'), 1));
      g.output('lse', logsumexp(g.input('x', [2, 300]), 1));
      const ints = Int32Array.from(testData(600, 13, -2e9, 2e9).map(Math.round));
      const x = Float32Array.from({ length: 600 }, (_, i) => (i < 300 ? -Infinity : i === 450 ? 1e4 : -1e4));
      const out = await expectGpuMatchesReference(g, { n: ints, x }, { rtol: 1e-6, atol: 0 });
      expect([...out['lse']!.data]).to.deep.equal([-Infinity, 1e4]);
    });

    it('combine partial results up to 16 at a time: 16 to 256 invocations per output in one or two levels', async () => {
      for (const group of [64, 128, 256, 512, 1024]) await checkAll([3, group], 1);
      const g = new Graph('levels');
      const x = g.input('x', [3, 1024]);
      g.output('sum', sum(x, 1));
      g.output('argmax', argmax(x, 1));
      // 256 invocations: the partial results written, then 16 of 16 (a barrier), then 16 by the first.
      expect(compile(g).kernels.map((k) => k.wgsl.split('workgroupBarrier()').length - 1)).to.deep.equal([2, 2]);
      // A tie met in the last level, the later position in the earlier slot: 259 (slot 3) and 4 (slot 4).
      const values = new Float32Array(3072).fill(0);
      values[259] = 7;
      values[4] = 7;
      values[1024 + 1023] = 9;
      values[2048 + 16] = -1;
      const out = await expectGpuMatchesReference(g, { x: values }, { rtol: 0, atol: 0 });
      expect([...out['argmax']!.data]).to.deep.equal([4, 1023, 0]);
    });

    it('reduce a conv bias gradient (a sum over H, W, then the batch) as one reduction, for every reducer that merges', async () => {
      const g = new Graph('merged');
      const x = g.input('x', [5, 3, 24, 24]);
      for (const [name, reduce] of Object.entries(FLOAT_REDUCTIONS)) g.output(name, reduce(reduce(x, [2, 3], true), 0));
      const { plan } = await expectPlanMatchesReference(g, { x: testData(5 * 3 * 576, 15, 0.5, 1.5) }, TOLERANCE);
      expect(plan.kernels.map((k) => k.name.replace(/^k\d+_/, ''))).to.deep.equal(['sum_tree', 'mean_tree', 'max_tree', 'min_tree', 'prod_tree', 'logsumexp_tree']);
    });

    it('reduce the merged conv bias gradient at a symbolic batch as the reference does', async () => {
      const build = (batch: number | string): Graph => {
        const g = new Graph('merged-batch');
        g.output('y', sum(sum(g.input('x', [batch, 3, 7, 9]), [2, 3], true), 0));
        return g;
      };
      const symbolic = compile(build('batch'), { memory: false });
      expect(symbolic.kernels.map((k) => k.name)).to.deep.equal(['k2_sum_tree']);
      for (const n of [1, 3, 67]) {
        const feeds = { x: testData(n * 189, n, -2, 2) };
        const got = await runPlanAt(symbolic, 'forward', feeds, { batch: n });
        const want = interpret(build(n), { feeds });
        expectClose(got['y']!, want['y']!.data, 1e-5, 1e-5);
      }
    });

    it('fit the workgroup to a small workgroup-storage limit', async () => {
      const g = new Graph('small-storage');
      const x = g.input('x', [2, 5000]);
      g.output('argmax', argmax(x, 1));
      g.output('sum', sum(x, 1));
      const { device } = await gpu();
      const plan = compile(g, { limits: { maxComputeWorkgroupStorageSize: 512 } });
      // 8 bytes per slot (value and index) for argmax, 4 for sum.
      expect(plan.kernels.map((k) => /@workgroup_size\((\d+)\)/.exec(k.wgsl)![1])).to.deep.equal(['64', '128']);
      const feeds = { x: testData(10000, 14) };
      const session = await Session.create(device, plan);
      try {
        const actual = await session.forward(feeds);
        const expected = interpret(g, { feeds });
        for (const name of ['argmax', 'sum']) expectClose(actual[name]!.data, expected[name]!.data, 1e-5, 1e-5);
      } finally {
        session.destroy();
      }
    });
  });
});
