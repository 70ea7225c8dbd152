import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import type { FoldReducer } from '../../../compiler/codegen/reducer.js';
import { combineStatement, emptyValue } from '../../../compiler/codegen/reducer.js';
import { DEFAULT_LIMITS } from '../../../compiler/codegen/wgsl.js';
import { acceptsColumnSums, getOp, reductionOf, registeredOps, rowRuleOf, worksAlongRows } from '../../../compiler/ops/op.js';
import {
  isColumnSum,
  logsumexpReducer,
  max,
  maxReducer,
  meanReducer,
  minReducer,
  prodReducer,
  sumReducer,
} from '../../../compiler/ops/reduce.js';
import { compile } from '../../../compiler/plan.js';
import { reduceKernel } from '../../../shaders/reduce.js';
import '../../../compiler/ops/index.js';

const REDUCTIONS = ['sum', 'mean', 'max', 'min', 'prod', 'logsumexp', 'argmax', 'argmin'];

/** The kernel a reduction of [rows, length] along axis 1 gets with `reducer`, by the given strategy. */
function templateWgsl(reducer: FoldReducer, strategy: 'tree' | 'perOutput'): string {
  const [spec] = reduceKernel({ name: 'k', header: [], limits: DEFAULT_LIMITS, reducer, ids: [0, 1], shape: [4, 64], dtype: 'f32', axes: [1], strategy });
  return spec!.wgsl;
}

describe('reducers', () => {
  it('give every reduction op a reducer of its own name, and no other op one', () => {
    for (const name of registeredOps()) {
      const reduction = reductionOf({ op: name, attrs: {} });
      if (REDUCTIONS.includes(name)) expect(reduction?.reducer.op, name).to.equal(name);
      else expect(reduction, name).to.equal(undefined);
    }
  });

  it('reduce an empty group to the finalized identity, or refuse it', () => {
    expect(emptyValue(sumReducer)).to.equal(0);
    expect(emptyValue(prodReducer)).to.equal(1);
    expect(emptyValue(meanReducer)).to.be.NaN;
    expect(emptyValue(logsumexpReducer)).to.equal(-Infinity);
    expect(emptyValue(maxReducer)).to.equal(undefined);
    expect(emptyValue(minReducer)).to.equal(undefined);
  });

  it('are what the workgroup, tree and row emitters combine with', () => {
    const combine = maxReducer.combine.wgsl;
    expect(templateWgsl(maxReducer, 'perOutput')).to.contain(combineStatement(combine, 'acc', 'v', 'f32'));
    const tree = templateWgsl(maxReducer, 'tree');
    expect(tree).to.contain(combineStatement(combine, 'acc', 'v', 'f32'));
    expect(tree).to.contain(combineStatement(combine, 'partial[lid]', 'partial[other]', 'f32'));

    // x − max(x) walks each row again after reducing it: one row kernel computes both.
    const g = new Graph('rows');
    const x = g.input('x', [4, 16]);
    const m = max(x, 1, true);
    g.output('y', x.sub(m));
    const [kernel] = compile(g).kernels;
    expect(kernel!.name).to.match(/_rows$/);
    // The row kernel reads its operand from a buffer: compare up to where the value goes.
    // Its locals are named by position, and the max is the kernel's first value.
    const [upToValue] = combineStatement(combine, 'acc0', '\0', 'f32').split('\0');
    expect(kernel!.wgsl).to.contain(upToValue);
  });

  it('reach the templates as given, so a changed combine changes every kernel', () => {
    const probe: FoldReducer = { ...maxReducer, combine: { ...maxReducer.combine, wgsl: { expr: (acc, v) => `kiln_probe(${acc}, ${v})` } } };
    for (const strategy of ['perOutput', 'tree'] as const) expect(templateWgsl(probe, strategy)).to.contain('kiln_probe(');
  });
});

describe('op properties for fusion', () => {
  const node = (op: string, attrs: Record<string, unknown>, shape: number[] = []) => ({ op, attrs: attrs as never, shape });

  it('say which ops work along rows, by rule and attributes', () => {
    expect(worksAlongRows(node('sum', { axes: [1], keepdims: false }))).to.equal(true);
    expect(worksAlongRows(node('sum', { axes: [0], keepdims: false }))).to.equal(false);
    expect(worksAlongRows(node('softmax', { axis: 1 }))).to.equal(true);
    expect(worksAlongRows(node('logSoftmax', { axis: 0 }))).to.equal(false);
    expect(rowRuleOf(node('logsumexp', {}))?.kind).to.equal('reduce');
    expect(rowRuleOf(node('softmax', {}))?.kind).to.equal('normalize');
    // prod, argmax and non-row ops are never computed by a row kernel.
    for (const op of ['prod', 'argmax', 'matmul', 'add']) expect(rowRuleOf(node(op, {})), op).to.equal(undefined);
    expect(getOp('sum').row?.reducer).to.equal(sumReducer);
  });

  it('say which nodes are column sums and which matmuls can compute them', () => {
    expect(isColumnSum(node('sum', { axes: [0], keepdims: false }, [5]))).to.equal(true);
    expect(isColumnSum(node('sum', { axes: [1], keepdims: false }, [5]))).to.equal(false);
    expect(isColumnSum(node('mean', { axes: [0], keepdims: false }, [5]))).to.equal(false);
    expect(isColumnSum(node('sum', { axes: [0], keepdims: true }, [1, 5]))).to.equal(false);
    expect(acceptsColumnSums(node('matmul', { transposeA: true, transposeB: false }))).to.equal(true);
    expect(acceptsColumnSums(node('matmul', { transposeA: false, transposeB: false }))).to.equal(false);
    expect(acceptsColumnSums(node('sum', { axes: [0], keepdims: false }))).to.equal(false);
  });
});
