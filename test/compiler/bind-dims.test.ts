import { expect } from 'chai';
import { dimMul, symbol } from '../../compiler/dims.js';
import { ArgumentError } from '../../compiler/errors.js';
import { Graph, graphDims } from '../../compiler/graph.js';
import { dimSize } from '../../compiler/ops/dim-size.js';
import { bindDims } from '../../compiler/passes/bind-dims.js';
import { verify } from '../../compiler/verify.js';

/** [batch, seq, 4] → rows of 2 (a reshape whose -1 is symbolic) → a sum over rows divided by their count. */
function rows(g: Graph): void {
  const x = g.input('x', ['batch', 'seq', 4]);
  const w = g.param('w', [2, 3], { init: 'ones' });
  const r = x.reshape([-1, 2]);
  const count = dimSize(g, r.shape[0]!);
  g.output('y', r.matmul(w).sum(0).div(count));
  g.declareRange(x, -1, 1, 'a test range');
}

describe('bindDims', () => {
  it('substitutes sizes in every shape and in attributes that hold sizes', () => {
    const g = new Graph('rows', { outputs: ['y'] });
    rows(g);
    const reshape = g.nodes.find((n) => n.op === 'reshape')!;
    expect(reshape.attrs['shape']).to.deep.equal([dimMul(dimMul(2, symbol('batch')), symbol('seq')), 2]);
    const bound = bindDims(g, { batch: 3, seq: 5 });
    verify(bound);
    expect(graphDims(bound)).to.deep.equal([]);
    expect(bound.get('x').shape).to.deep.equal([3, 5, 4]);
    expect(bound.nodes.find((n) => n.op === 'reshape')!.attrs['shape']).to.deep.equal([30, 2]);
    expect(bound.nodes.find((n) => n.op === 'dimSize')!.attrs['size']).to.equal(30);
    // The same nodes, ids, names, outputs, ranges and listed outputs.
    expect(bound.nodes.map((n) => n.op)).to.deep.equal(g.nodes.map((n) => n.op));
    expect([...bound.outputs]).to.deep.equal([...g.outputs]);
    expect([...bound.ranges]).to.deep.equal([...g.ranges]);
    expect(bound.listedOutputs).to.deep.equal(['y']);
    expect(bound.seed).to.equal(g.seed);
    // The symbolic graph is untouched.
    expect(g.get('x').shape[0]).to.equal(symbol('batch'));
  });

  it('gives the graph built with those sizes', () => {
    const symbolic = new Graph('rows');
    rows(symbolic);
    const bound = bindDims(symbolic, { batch: 3, seq: 5 });
    const fixed = new Graph('rows');
    const x = fixed.input('x', [3, 5, 4]);
    const w = fixed.param('w', [2, 3], { init: 'ones' });
    const r = x.reshape([-1, 2]);
    const count = dimSize(fixed, 30);
    fixed.output('y', r.matmul(w).sum(0).div(count));
    fixed.declareRange(x, -1, 1, 'a test range');
    expect(bound.toString()).to.equal(fixed.toString());
  });

  it('leaves dims it is not given symbolic', () => {
    const g = new Graph('rows');
    rows(g);
    const bound = bindDims(g, { seq: 5 });
    expect(graphDims(bound)).to.deep.equal(['batch']);
    expect(bound.get('x').shape).to.deep.equal([symbol('batch'), 5, 4]);
    expect(bound.toString()).to.contain('reshape[shape=[10*batch,2]]');
    expect(bindDims(g, {}).toString()).to.equal(g.toString());
  });

  it('keeps params and assignments', () => {
    const g = new Graph('step');
    const x = g.input('x', ['batch', 2]);
    const w = g.param('w', [2], { init: { kind: 'constant', value: 0.5 } });
    g.assign(w, w.sub(x.mean(0)));
    const bound = bindDims(g, { batch: 4 });
    expect([...bound.assignments]).to.deep.equal([...g.assignments]);
    expect(bound.get('w').node.attrs).to.deep.equal(w.node.attrs);
  });

  it('re-runs shape rules on the bound sizes', () => {
    const g = new Graph('m');
    const a = g.input('a', ['n', 4]);
    const b = g.input('b', [4, 'n']);
    g.output('c', a.matmul(b));
    expect(bindDims(g, { n: 4 }).toString()).to.contain('c = %2').and.to.contain('f32[4,4] = matmul a b');
  });

  it('names a dim the graph does not have, and a bad size', () => {
    const g = new Graph('rows');
    rows(g);
    expect(() => bindDims(g, { bach: 3 })).to.throw(ArgumentError, /dim 'bach', which the graph does not have \(its dims are batch, seq\)/);
    for (const bad of [0, -2, 1.5, NaN]) {
      expect(() => bindDims(g, { batch: bad })).to.throw(ArgumentError, new RegExp(`sizes.batch must be a positive integer.*got ${bad}`));
    }
    expect(() => bindDims(g, [] as unknown as Record<string, number>)).to.throw(ArgumentError, /an object of dim name → size/);
    expect(() => bindDims(new Graph('static'), { batch: 2 })).to.throw(ArgumentError, /it has no symbolic dims/);
  });
});
