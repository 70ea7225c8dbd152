import { expect } from 'chai';
import { ArgumentError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import type { DimLike } from '../../compiler/shape.js';
import { trainingProgram } from '../../compiler/train.js';

function model(batch: DimLike) {
  const g = new Graph('m', { seed: 1 });
  const x = g.input('x', [batch, 8]);
  const y = g.input('y', [batch], 'i32');
  const w = g.param('w', [8, 4], { init: 'glorotUniform' });
  const logits = x.matmul(w);
  g.output('logits', logits);
  return { g, loss: logits.softmaxCrossEntropy(y) };
}

describe('compile options dims and maxDims', () => {
  it('dims binds the graph first: the plan is the static plan for those sizes', () => {
    const symbolic = model('batch');
    const fixed = model(16);
    const bound = compile(symbolic.g, { dims: { batch: 16 } });
    const want = compile(fixed.g);
    expect(bound.dims ?? []).to.deep.equal([]);
    expect(bound.kernels.map((k) => k.wgsl)).to.deep.equal(want.kernels.map((k) => k.wgsl));
    expect(bound.buffers.map((b) => b.shape)).to.deep.equal(want.buffers.map((b) => b.shape));
  });

  it('binds a training program, keeping its entries', () => {
    const symbolic = model('batch');
    const fixed = model(5);
    const options = { optimizer: sgd({ lr: 0.1 }) };
    const bound = compile(trainingProgram(symbolic.g, { loss: symbolic.loss, ...options }), { dims: { batch: 5 } });
    const want = compile(trainingProgram(fixed.g, { loss: fixed.loss, ...options }));
    expect(Object.keys(bound.entries)).to.deep.equal(Object.keys(want.entries));
    expect(bound.kernels.map((k) => k.wgsl)).to.deep.equal(want.kernels.map((k) => k.wgsl));
  });

  it('records maxDims on the plan', () => {
    const plan = compile(model('batch').g, { maxDims: { batch: 256 } });
    expect(plan.maxDims).to.deep.equal({ batch: 256 });
    expect(plan.dims).to.deep.equal(['batch']);
    expect(compile(model('batch').g).maxDims).to.equal(undefined);
  });

  it('refuses dims and maxDims that name no dim of the graph or are not positive integers', () => {
    const { g } = model('batch');
    expect(() => compile(g, { dims: { bach: 2 } })).to.throw(ArgumentError, /compile: dims names the dim 'bach', which the graph does not have \(its dims are batch\)/);
    expect(() => compile(g, { maxDims: { seq: 2 } })).to.throw(ArgumentError, /maxDims names the dim 'seq'/);
    expect(() => compile(g, { maxDims: { batch: 0 } })).to.throw(ArgumentError, /maxDims.batch must be a positive integer.*got 0/);
    expect(() => compile(g, { dims: { batch: 2.5 } })).to.throw(ArgumentError, /dims.batch must be a positive integer/);
    expect(() => compile(g, { dims: { batch: 2 }, maxDims: { batch: 4 } })).to.throw(ArgumentError, /maxDims names 'batch', which dims binds to 2/);
    expect(() => compile(model(3).g, { maxDims: { batch: 4 } })).to.throw(ArgumentError, /it has no symbolic dims/);
  });
});
