import { expect } from 'chai';
import { FeedError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { add, mul } from '../../compiler/ops/binary.js';
import { exp } from '../../compiler/ops/unary.js';
import { evaluate, hostArray, initialParams, interpret } from '../../compiler/reference.js';

describe('reference interpreter', () => {
  function affine() {
    const g = new Graph('affine');
    const x = g.input('x', [2, 2]);
    const w = g.param('w', [2], { init: 'ones' });
    const y = add(mul(x, w), 1);
    g.output('y', y);
    return { g, x, w, y };
  }

  it('evaluates outputs from feeds and initial parameters', () => {
    const { g } = affine();
    expect(Array.from(interpret(g, { feeds: { x: [1, 2, 3, 4] } })['y']!.data)).to.deep.equal([2, 3, 4, 5]);
  });

  it('uses given parameter values instead of the initializer', () => {
    const { g } = affine();
    const out = interpret(g, { feeds: { x: [1, 2, 3, 4] }, params: { w: [10, 100] } });
    expect(Array.from(out['y']!.data)).to.deep.equal([11, 201, 31, 401]);
  });

  it('computes in f64 when asked, and in f32 by default', () => {
    const g = new Graph('p');
    const x = g.input('x', [1]);
    const y = add(x, 1e-10);
    expect(evaluate([y], { feeds: { x: [1] } })[0]!.data).to.be.instanceOf(Float32Array);
    const [precise] = evaluate([y], { feeds: { x: [1] }, precision: 'f64' });
    expect(precise!.data).to.be.instanceOf(Float64Array);
    expect(precise!.data[0]).to.equal(1 + 1e-10);
  });

  it('evaluates only what the requested tensors need', () => {
    const g = new Graph('lazy');
    const x = g.input('x', [1]);
    const unused = g.input('unused', [1]);
    g.output('y', exp(x));
    g.output('z', unused);
    expect(Array.from(evaluate([exp(x)], { feeds: { x: [0] } })[0]!.data)).to.deep.equal([1]);
  });

  it('names a missing feed with its type', () => {
    const { g } = affine();
    expect(() => interpret(g)).to.throw(FeedError, /input 'x' \(f32\[2,2\]\) was not fed/);
  });

  it('names a feed of the wrong length, the wrong type, or an unknown name', () => {
    const { g } = affine();
    expect(() => interpret(g, { feeds: { x: [1, 2, 3] } })).to.throw(FeedError, /input 'x': expected 4 values for f32\[2,2\], got 3/);
    expect(() => interpret(g, { feeds: { x: hostArray('f32', [4], [1, 2, 3, 4]) } })).to.throw(
      FeedError,
      /input 'x': expected f32\[2,2\], got f32\[4\]/,
    );
    expect(() => interpret(g, { feeds: { x: [1, 2, 3, 4], y: [1] } })).to.throw(FeedError, /feed 'y' matches no input of graph 'affine'. Inputs: x/);
    expect(() => interpret(g, { feeds: { x: [1, 2, 3, 4] }, params: { w: [1] } })).to.throw(FeedError, /param 'w': expected 2 values/);
  });

  it('refuses fractions and NaN fed to an integer input', () => {
    const g = new Graph('labels');
    g.output('y', g.input('y', [2], 'i32'));
    expect(() => interpret(g, { feeds: { y: [1, 0.5] } })).to.throw(FeedError, /i32 values must be integers; element 1 is 0.5/);
    expect(() => interpret(g, { feeds: { y: [NaN, 1] } })).to.throw(FeedError, /element 0 is NaN/);
  });

  it('lists initial parameter and state values by name', () => {
    const g = new Graph('s');
    g.param('w', [2], { init: 'ones' });
    g.state('step', [], { dtype: 'i32' });
    const params = initialParams(g);
    expect(Object.keys(params)).to.deep.equal(['w', 'step']);
    expect(params['step']!.data).to.be.instanceOf(Int32Array);
  });
});
