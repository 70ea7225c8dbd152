import { expect } from 'chai';
import { dimMul, symbol } from '../../compiler/dims.js';
import { ArgumentError, GraphError, ShapeError } from '../../compiler/errors.js';
import { Graph, graphDims } from '../../compiler/graph.js';
import { dimSize } from '../../compiler/ops/dim-size.js';
import { evaluate } from '../../compiler/reference.js';
import { foldConstants } from '../../compiler/passes/fold-constants.js';
import { programOf } from '../../compiler/passes/program.js';
import { formatType } from '../../compiler/shape.js';
import { verify } from '../../compiler/verify.js';

/** An MLP over a symbolic batch: [batch, 6] → 5 → 3, with a loss over the batch. */
function symbolicMlp(): Graph {
  const g = new Graph('mlp', { seed: 3 });
  const x = g.input('x', ['batch', 6]);
  const labels = g.input('labels', [g.dim('batch')], 'i32');
  const w1 = g.param('w1', [6, 5], { init: 'glorotUniform' });
  const b1 = g.param('b1', [5], { init: 'ones' });
  const w2 = g.param('w2', [5, 3], { init: 'glorotUniform' });
  const logits = x.matmul(w1).add(b1).relu().matmul(w2);
  g.output('logits', logits);
  g.output('loss', logits.softmaxCrossEntropy(labels));
  return g;
}

describe('symbolic graphs', () => {
  it('declares inputs with sizes, dim names and dims, and prints them', () => {
    const g = new Graph('s');
    const batch = g.dim('batch');
    expect(batch).to.equal(symbol('batch'));
    const x = g.input('x', ['batch', 784]);
    const y = g.input('y', [batch, dimMul(2, g.dim('seq'))]);
    expect(x.shape).to.deep.equal([batch, 784]);
    expect(x.shape[0]).to.equal(batch);
    expect(x.size).to.equal(dimMul(784, batch));
    expect(formatType(x.node)).to.equal('f32[batch,784]');
    expect(x.toString()).to.equal('x:f32[batch,784]');
    expect(y.toString()).to.equal('y:f32[batch,2*seq]');
    expect(g.toString()).to.contain('in    x:f32[batch,784]  y:f32[batch,2*seq]');
    expect(graphDims(g)).to.deep.equal(['batch', 'seq']);
  });

  it('refuses bad dim names and non-string names', () => {
    const g = new Graph('s');
    expect(() => g.input('x', ['2b', 3])).to.throw(ArgumentError, /bad dim name '2b'/);
    expect(() => g.dim(3 as unknown as string)).to.throw(ArgumentError, /dim: the name must be a string/);
    expect(() => g.input('x', ['batch', -1])).to.throw(ArgumentError, /bad dimension -1/);
  });

  it('refuses a symbolic dim in a param, state or constant, naming it and the fix', () => {
    const g = new Graph('s');
    expect(() => g.param('w', ['batch', 3])).to.throw(ShapeError, /param 'w': shape \[batch,3\] has the symbolic dim 'batch'.*Fix: give it a static size/);
    expect(() => g.state('m', [g.dim('n')])).to.throw(ShapeError, /state 'm'.*'n'/);
    expect(() => g.constant(0, { shape: ['batch'] })).to.throw(ShapeError, /const: shape \[batch\]/);
    // The refused name is still free.
    expect(g.param('w', [4, 3]).shape).to.deep.equal([4, 3]);
  });

  it('runs shape rules on symbolic sizes', () => {
    const g = symbolicMlp();
    expect(g.get('x').matmul(g.get('w1')).toString()).to.match(/f32\[batch,5\]/);
    expect(g.toString()).to.contain('f32[batch,3] = matmul');
    verify(g);
  });

  it('round-trips through JSON, tagging symbolic sizes in attributes', () => {
    const g = symbolicMlp();
    dimSize(g, dimMul(6, g.dim('batch')));
    const json = JSON.parse(JSON.stringify(g.toJSON()));
    expect(json.nodes[0].shape).to.deep.equal(['batch', 6]);
    expect(json.nodes[0].attrs.shape).to.deep.equal([{ dim: 'batch' }, 6]);
    expect(json.nodes.at(-1).attrs.size).to.deep.equal({ dim: '6*batch' });
    const back = Graph.fromJSON(json);
    expect(back.toString()).to.equal(g.toString());
    expect(back.get('x').shape[0]).to.equal(g.dim('batch'));
    expect(back.nodes.at(-1)!.attrs['size']).to.equal(dimMul(6, symbol('batch')));
    // A string attribute that looks like a size stays a string.
    expect(JSON.stringify(back.toJSON())).to.equal(JSON.stringify(g.toJSON()));
  });

  it('re-runs shape rules on JSON and names a bad tagged size', () => {
    const json = JSON.parse(JSON.stringify(symbolicMlp().toJSON()));
    json.nodes[0].attrs.shape = [{ dim: 'batch' }, 7];
    expect(() => Graph.fromJSON(json)).to.throw(ShapeError, /matmul/);
    json.nodes[0].attrs.shape = [{ dim: '2x' }, 6];
    expect(() => Graph.fromJSON(json)).to.throw(GraphError, /node %0's attribute 'shape' has a bad symbolic size/);
    const param = JSON.parse(JSON.stringify(symbolicMlp().toJSON()));
    param.nodes[2].attrs.shape = [{ dim: 'batch' }, 5];
    expect(() => Graph.fromJSON(param)).to.throw(ShapeError, /param 'w1'.*symbolic dim 'batch'/);
  });

  it('dimSize: a scalar holding a size, evaluated when static, refused until bound when symbolic', () => {
    const g = new Graph('d');
    const n = dimSize(g, g.dim('batch'));
    const k = dimSize(g, 12, 'i32');
    expect(n.toString()).to.equal('%0:f32[]');
    expect(k.dtype).to.equal('i32');
    expect(g.toString()).to.contain('dimSize[size=batch, dtype=f32]');
    expect(Array.from(evaluate([k])[0]!.data)).to.deep.equal([12]);
    expect(() => evaluate([n])).to.throw(GraphError, /dimSize: the size 'batch' is symbolic.*bind the dims first/);
    expect(() => dimSize(g, 2.5)).to.throw(ArgumentError, /non-negative integer/);
    expect(() => dimSize(g, 3, 'bool')).to.throw(ArgumentError, /f32 or i32/);
  });

  it('dimSize: no gradient flows through it, and only a static one folds', () => {
    const g = new Graph('d');
    const x = g.input('x', ['batch']);
    const scaled = x.sum().div(dimSize(g, g.dim('batch')));
    g.output('mean', scaled);
    g.output('twelve', dimSize(g, 12));
    const folded = foldConstants(programOf(g)).graph;
    expect(folded.nodes.map((n) => n.op)).to.include('dimSize');
    expect(folded.node(folded.outputs.get('twelve')!).op).to.equal('const');
  });
});
