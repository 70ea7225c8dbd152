import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { argmax, argmin, logsumexp, max, mean, min, prod, sum } from '../../compiler/ops/reduce.js';
import { compile } from '../../compiler/plan.js';
import type { Tensor } from '../../compiler/tensor.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference } from './harness.js';

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
});
