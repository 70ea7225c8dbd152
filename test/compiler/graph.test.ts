import { expect } from 'chai';
import { ArgumentError, GraphError } from '../../compiler/errors.js';
import { Graph, roleOf } from '../../compiler/graph.js';
import { add } from '../../compiler/ops/binary.js';
import { relu } from '../../compiler/ops/unary.js';
import { verify } from '../../compiler/verify.js';
import { interpret } from '../../compiler/reference.js';

describe('Graph', () => {
  it('records SSA nodes with inferred shapes and dtypes in topological order', () => {
    const g = new Graph('g');
    const x = g.input('x', [2, 3]);
    const b = g.param('b', [3], { init: 'zeros' });
    const y = relu(add(x, b));
    expect(y.shape).to.deep.equal([2, 3]);
    expect(y.dtype).to.equal('f32');
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['input', 'param', 'add', 'relu']);
    expect(g.node(y.id).inputs).to.deep.equal([2]);
    expect(g.nodes.map(roleOf)).to.deep.equal(['input', 'param', 'computed', 'computed']);
  });

  it('finds inputs, params and state by name, and lists the known names when one is missing', () => {
    const g = new Graph('g');
    g.input('x', [1]);
    g.state('step', [], { dtype: 'i32' });
    expect(g.get('step').dtype).to.equal('i32');
    expect(() => g.get('y')).to.throw(GraphError, /no input, param or state named 'y'. Known: x, step/);
  });

  it('refuses a name used twice, naming the earlier node', () => {
    const g = new Graph('g');
    g.input('x', [1]);
    expect(() => g.param('x', [2])).to.throw(GraphError, /param 'x': the name is already used by the input %0/);
  });

  it('refuses empty names, bad shapes and unknown dtypes with the fix', () => {
    const g = new Graph('g');
    expect(() => g.input('', [1])).to.throw(ArgumentError, /a name is required/);
    expect(() => g.input('x', [2, 1.5])).to.throw(ArgumentError, /bad dimension 1.5; dimensions must be non-negative integers/);
    expect(() => g.input('x', [-1])).to.throw(ArgumentError, /bad dimension -1/);
    expect(() => g.input('x', [2], 'f64' as never)).to.throw(ArgumentError, /unknown dtype 'f64'. Use f32, i32 or bool/);
  });

  it('refuses to mix tensors of two graphs', () => {
    const a = new Graph('a').input('x', [2]);
    const b = new Graph('b').input('y', [2]);
    expect(() => add(a, b)).to.throw(GraphError, /a tensor from graph 'b' was used in graph 'a'/);
  });

  it('refuses an array where a tensor is needed, and says to wrap it', () => {
    const g = new Graph('g');
    const x = g.input('x', [2]);
    expect(() => add(x, [1, 2] as never)).to.throw(ArgumentError, /operands must be Tensors or numbers/);
  });

  it('makes constants from numbers, nested arrays and flat arrays with a shape', () => {
    const g = new Graph('g');
    expect(g.constant(3).shape).to.deep.equal([]);
    expect(g.constant([[1, 2, 3], [4, 5, 6]]).shape).to.deep.equal([2, 3]);
    expect(g.constant([1, 2, 3, 4], { shape: [2, 2], dtype: 'i32' }).dtype).to.equal('i32');
    expect(g.constant(0.5, { shape: [4, 4] }).node.attrs['value']).to.deep.equal([0.5]);
    expect(() => g.constant([[1, 2], [3]])).to.throw(ArgumentError, /rectangular/);
    expect(() => g.constant(1.5, { dtype: 'i32' })).to.throw(ArgumentError, /must hold integers/);
    expect(() => g.constant([1, 2, 3], { shape: [2, 2] })).to.throw(GraphError, /3 values do not fill shape \[2,2\]/);
  });

  it('refuses two outputs with one name', () => {
    const g = new Graph('g');
    const x = g.input('x', [1]);
    g.output('y', x);
    expect(() => g.output('y', x)).to.throw(GraphError, /already has an output named 'y'/);
  });

  it('rejects a seed outside u32', () => {
    expect(() => new Graph('g', { seed: -1 })).to.throw(ArgumentError, /seed must be an integer in \[0, 2\^32\)/);
  });

  it('round-trips through JSON, re-checking every node', () => {
    const g = new Graph('g', { seed: 5 });
    const x = g.input('x', [2, 2]);
    const w = g.param('w', [2, 2], { init: 'glorotUniform' });
    g.output('y', relu(add(x, w)));
    const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g)));
    verify(copy);
    expect(copy.toString()).to.equal(g.toString());
    const feeds = { x: [1, -2, 3, -4] };
    expect(Array.from(interpret(copy, { feeds })['y']!.data)).to.deep.equal(Array.from(interpret(g, { feeds })['y']!.data));
  });

  it('rejects JSON whose nodes are out of order or wrongly typed', () => {
    const g = new Graph('g');
    const x = g.input('x', [2]);
    g.output('y', relu(x));
    const json = JSON.parse(JSON.stringify(g));
    json.nodes[1].inputs = [5];
    expect(() => Graph.fromJSON(json)).to.throw(GraphError, /node %1 reads %5, which is not defined before it/);
    const typed = JSON.parse(JSON.stringify(g));
    typed.nodes[1].op = 'nosuchop';
    expect(() => Graph.fromJSON(typed)).to.throw(GraphError, /unknown op 'nosuchop'/);
  });
});
