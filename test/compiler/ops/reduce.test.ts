import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { argmax, argmin, logsumexp, max, mean, min, prod, sum, sumOp } from '../../../compiler/ops/reduce.js';
import { verify } from '../../../compiler/verify.js';
import { expectClose, run, values } from '../../helpers.js';

describe('reductions', () => {
  // x = [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]]: shape [2,2,3], x[i,j,k] = 6i + 3j + k.
  const cube = Array.from({ length: 12 }, (_, i) => i);
  function input(shape: number[], dtype: 'f32' | 'i32' | 'bool' = 'f32') {
    const g = new Graph('t');
    return { g, x: g.input('x', shape, dtype) };
  }

  describe('shape rules and attributes', () => {
    it('reduces every axis by default to a scalar', () => {
      const { x } = input([2, 2, 3]);
      const s = sum(x);
      expect(s.shape).to.deep.equal([]);
      expect(s.node.attrs).to.deep.equal({ axes: [0, 1, 2], keepdims: false });
      expect(s.node.op).to.equal('sum');
    });

    it('stores axes normalized (negative axes resolved) and sorted', () => {
      const { x } = input([2, 2, 3]);
      const s = max(x, [-1, 0]);
      expect(s.node.attrs).to.deep.equal({ axes: [0, 2], keepdims: false });
      expect(s.shape).to.deep.equal([2]);
      expect(mean(x, -2).node.attrs).to.deep.equal({ axes: [1], keepdims: false });
    });

    it('keeps reduced axes as size 1 with keepdims', () => {
      const { x } = input([2, 2, 3]);
      expect(prod(x, [0, 2], true).shape).to.deep.equal([1, 2, 1]);
      expect(sum(x, undefined, true).shape).to.deep.equal([1, 1, 1]);
      expect(logsumexp(x, 1, true).node.attrs).to.deep.equal({ axes: [1], keepdims: true });
    });

    it('names every node type after its op', () => {
      const { x } = input([2, 3]);
      const ops = [sum, mean, max, min, prod, logsumexp].map((f) => f(x, 0).node.op);
      expect(ops).to.deep.equal(['sum', 'mean', 'max', 'min', 'prod', 'logsumexp']);
      expect([argmax(x).node.op, argmin(x).node.op]).to.deep.equal(['argmax', 'argmin']);
    });

    it('returns the operand itself, adding no node, when reducing over no axes', () => {
      const { g, x } = input([2, 3]);
      const before = g.nodes.length;
      expect(sum(x, [])).to.equal(x);
      expect(mean(x, [], true)).to.equal(x);
      expect(g.nodes.length).to.equal(before);
    });

    it('passes a rank-0 input with no axes through unchanged', () => {
      const { x } = input([]);
      const s = sum(x);
      expect(s).to.equal(x);
      expect(values(logsumexp(x), { feeds: { x: [2.5] } })).to.deep.equal([2.5]);
    });

    it('builds graphs that verify', () => {
      const { g, x } = input([2, 3]);
      sum(x, 1);
      argmax(x, 0, true);
      argmin(x);
      verify(g);
    });
  });

  describe('reference values', () => {
    const feeds = { x: cube };

    it('sums over one axis, several axes and negative axes', () => {
      const { x } = input([2, 2, 3]);
      expect(values(sum(x, 0), { feeds })).to.deep.equal([6, 8, 10, 12, 14, 16]);
      expect(values(sum(x, -1), { feeds })).to.deep.equal([3, 12, 21, 30]);
      expect(values(sum(x, [0, 2]), { feeds })).to.deep.equal([24, 42]);
      expect(values(sum(x, [1, -1], true), { feeds })).to.deep.equal([15, 51]);
      expect(values(sum(x), { feeds })).to.deep.equal([66]);
    });

    it('takes the mean, max, min and product of each group', () => {
      const { x } = input([2, 2, 3]);
      expect(values(mean(x, [0, 1]), { feeds })).to.deep.equal([4.5, 5.5, 6.5]);
      expect(values(max(x, 1), { feeds })).to.deep.equal([3, 4, 5, 9, 10, 11]);
      expect(values(min(x, [0, 2]), { feeds })).to.deep.equal([0, 3]);
      expect(values(prod(x, 2), { feeds })).to.deep.equal([0, 60, 336, 990]);
    });

    it('computes logsumexp by hand for a small case', () => {
      const { x } = input([2, 2]);
      const out = values(logsumexp(x, 1), { feeds: { x: [0, 0, 1, 2] }, precision: 'f64' });
      expectClose(out, [Math.log(2), Math.log(Math.E + Math.E ** 2)], 1e-15, 0);
    });

    it('keeps logsumexp finite and exact at ±1e4', () => {
      const { x } = input([3, 2]);
      const out = values(logsumexp(x, -1), { feeds: { x: [1e4, 1e4, -1e4, -1e4, 1e4, -1e4] }, precision: 'f64' });
      expectClose(out, [1e4 + Math.LN2, -1e4 + Math.LN2, 1e4], 1e-15, 0);
    });

    it('gives −∞ for an all −∞ group and +∞ for a group holding +∞, never NaN', () => {
      const { x } = input([3, 2]);
      const out = values(logsumexp(x, 1), { feeds: { x: [-Infinity, -Infinity, Infinity, 0, Infinity, Infinity] } });
      expect(out).to.deep.equal([-Infinity, Infinity, Infinity]);
    });

    it('propagates NaN through max, min and logsumexp', () => {
      const { x } = input([2, 2]);
      const feedsNaN = { x: [1, NaN, 2, 3] };
      expectClose(values(max(x, 1), { feeds: feedsNaN }), [NaN, 3]);
      expectClose(values(min(x, 1), { feeds: feedsNaN }), [NaN, 2]);
      expectClose(values(logsumexp(x, 1), { feeds: feedsNaN }), [NaN, 3 + Math.log1p(Math.exp(-1))]);
    });

    it('reduces i32 tensors in i32, wrapping on overflow as the GPU does', () => {
      const { x } = input([2, 3], 'i32');
      const s = sum(x, 1);
      expect(s.dtype).to.equal('i32');
      expect(run(s, { feeds: { x: [1, 2, 3, 4, 5, 6] } }).data).to.be.instanceOf(Int32Array);
      expect(values(s, { feeds: { x: [1, 2, 3, 4, 5, 6] } })).to.deep.equal([6, 15]);
      expect(values(max(x, 0), { feeds: { x: [1, -2, 3, -4, 5, -6] } })).to.deep.equal([1, 5, 3]);
      expect(values(prod(x, 1), { feeds: { x: [-1, 2, 3, 65536, 65536, 1] } })).to.deep.equal([-6, 0]);
      expect(values(sum(x, 1), { feeds: { x: [2147483647, 1, 0, 0, 0, 0] } })).to.deep.equal([-2147483648, 0]);
    });

    it('accumulates in double and rounds once in f32', () => {
      const { x } = input([6]);
      // f32 spacing at 1e8 is 8: in f32 steps each +1 rounds back to 1e8; in double 1e8 + 5 rounds to 1e8 + 8.
      const out = values(sum(x), { feeds: { x: [1e8, 1, 1, 1, 1, 1] } });
      expect(out).to.deep.equal([1e8 + 8]);
    });

    it('computes in f64 when asked', () => {
      const { x } = input([3]);
      const result = run(mean(x), { feeds: { x: [0.1, 0.2, 0.4] }, precision: 'f64' });
      expect(result.data).to.be.instanceOf(Float64Array);
      expect(result.data[0]).to.equal((0.1 + 0.2 + 0.4) / 3);
    });
  });

  describe('empty axes', () => {
    it('sums a size-0 axis to 0, multiplies it to 1, and takes its mean as NaN', () => {
      const { x } = input([2, 0]);
      const feeds = { x: [] };
      expect(values(sum(x, 1), { feeds })).to.deep.equal([0, 0]);
      expect(values(prod(x, 1), { feeds })).to.deep.equal([1, 1]);
      expectClose(values(mean(x, 1), { feeds }), [NaN, NaN]);
      expect(values(logsumexp(x, 1), { feeds })).to.deep.equal([-Infinity, -Infinity]);
      expect(sum(x, 0).shape).to.deep.equal([0]);
      expect(values(max(x, 0), { feeds })).to.deep.equal([]);
    });

    it('refuses max, min, argmax and argmin over a size-0 axis', () => {
      const { x } = input([2, 0]);
      expect(() => max(x, 1)).to.throw(
        ShapeError,
        /^max\(f32\[2,0\]\): axis 1 has size 0 and max of an empty set has no identity. Fix: reduce only over non-empty axes, or use sum \(identity 0\) or prod \(identity 1\)\.$/,
      );
      expect(() => min(x)).to.throw(ShapeError, /^min\(f32\[2,0\]\): axis 1 has size 0/);
      expect(() => argmax(x, -1)).to.throw(ShapeError, /^argmax\(f32\[2,0\]\): axis 1 has size 0 and argmax of an empty set/);
      expect(() => argmin(x)).to.throw(ShapeError, /^argmin\(f32\[2,0\]\): axis 1 has size 0/);
    });
  });

  describe('argmax and argmin', () => {
    it('finds the index along an axis, as i32', () => {
      const { x } = input([2, 3]);
      const feeds = { x: [1, 5, 2, 7, 0, 3] };
      const am = argmax(x, 1);
      expect(am.dtype).to.equal('i32');
      expect(am.node.attrs).to.deep.equal({ axis: 1, keepdims: false });
      expect(run(am, { feeds }).data).to.be.instanceOf(Int32Array);
      expect(values(am, { feeds })).to.deep.equal([1, 0]);
      expect(values(argmax(x, 0), { feeds })).to.deep.equal([1, 0, 1]);
      expect(values(argmin(x, -1), { feeds })).to.deep.equal([0, 1]);
      expect(argmin(x, -1).node.attrs).to.deep.equal({ axis: 1, keepdims: false });
    });

    it('indexes the flattened tensor when no axis is given', () => {
      const { x } = input([2, 3]);
      const feeds = { x: [1, 5, 2, 7, 0, 3] };
      const am = argmax(x);
      expect(am.shape).to.deep.equal([]);
      expect(am.node.attrs).to.deep.equal({ axis: null, keepdims: false });
      expect(values(am, { feeds })).to.deep.equal([3]);
      expect(values(argmin(x), { feeds })).to.deep.equal([4]);
      expect(argmax(x, undefined, true).shape).to.deep.equal([1, 1]);
    });

    it('keeps the reduced axis with keepdims', () => {
      const { x } = input([2, 3, 2]);
      const am = argmax(x, 1, true);
      expect(am.shape).to.deep.equal([2, 1, 2]);
      // x[i,j,k] = i*6 + j*2 + k except the pokes below.
      const data = Array.from({ length: 12 }, (_, i) => i);
      data[0] = 100;
      expect(values(am, { feeds: { x: data } })).to.deep.equal([0, 2, 2, 2]);
      expect(values(argmin(x, 1, true), { feeds: { x: data } })).to.deep.equal([1, 0, 0, 0]);
    });

    it('picks the first of tied values', () => {
      const { x } = input([5]);
      const feeds = { x: [1, 3, 3, 0, 0] };
      expect(values(argmax(x), { feeds })).to.deep.equal([1]);
      expect(values(argmin(x), { feeds })).to.deep.equal([3]);
    });

    it('counts NaN as the answer for both, as NumPy does (first NaN wins)', () => {
      const { x } = input([5]);
      const feeds = { x: [1, NaN, 9, NaN, -9] };
      expect(values(argmax(x), { feeds })).to.deep.equal([1]);
      expect(values(argmin(x), { feeds })).to.deep.equal([1]);
    });

    it('works on i32 and on a rank-0 input', () => {
      const { x } = input([3], 'i32');
      expect(values(argmax(x, 0), { feeds: { x: [-5, -1, -3] } })).to.deep.equal([1]);
      const s = input([]);
      expect(values(argmax(s.x), { feeds: { x: [4] } })).to.deep.equal([0]);
    });
  });

  describe('errors', () => {
    it('refuses bool operands with the cast that fixes it', () => {
      const { x } = input([3], 'bool');
      expect(() => sum(x)).to.throw(
        DTypeError,
        /^sum\(bool\[3\]\): needs a numeric dtype \(f32 or i32\), got bool. Fix: cast bool masks to f32 or i32 with .cast\('f32'\)\.$/,
      );
      expect(() => argmax(x)).to.throw(DTypeError, /^argmax\(bool\[3\]\): needs a numeric dtype/);
    });

    it('takes mean and logsumexp of floats only', () => {
      const { x } = input([3], 'i32');
      expect(() => mean(x)).to.throw(DTypeError, /^mean\(i32\[3\]\): needs a float dtype, got i32. Fix: cast the operand to f32 with .cast\('f32'\)\.$/);
      expect(() => logsumexp(x, 0)).to.throw(DTypeError, /^logsumexp\(i32\[3\]\): needs a float dtype, got i32/);
      expect(() => mean(x, [])).to.throw(DTypeError, /^mean\(i32\[3\]\): needs a float dtype/);
    });

    it('names an out-of-range axis and the valid range', () => {
      const { x } = input([2, 3]);
      expect(() => sum(x, 2)).to.throw(ShapeError, /^sum\(f32\[2,3\]\): axis 2 is out of range for rank 2. Fix: use an integer axis in \[-2, 1\]\.$/);
      expect(() => argmax(x, -3)).to.throw(ShapeError, /^argmax\(f32\[2,3\]\): axis -3 is out of range for rank 2/);
      const s = input([]);
      expect(() => sum(s.x, 0)).to.throw(ShapeError, /a scalar has no axes; pass no axis/);
    });

    it('refuses an axis named twice', () => {
      const { x } = input([2, 3]);
      expect(() => max(x, [1, -1])).to.throw(ShapeError, /^max\(f32\[2,3\]\): axes \[1,-1\] name the same axis twice. Fix: list each axis once\.$/);
    });

    it('refuses non-integer axes and a non-boolean keepdims', () => {
      const { x } = input([2, 3]);
      expect(() => sum(x, 0.5)).to.throw(ArgumentError, /^sum: axes must be integers \(or a list of them\), got 0.5\.$/);
      expect(() => argmin(x, 1.5)).to.throw(ArgumentError, /^argmin: axis must be an integer or undefined, got 1.5\.$/);
      const keep = 1 as unknown as boolean;
      expect(() => sum(x, 0, keep)).to.throw(ArgumentError, /^sum\(f32\[2,3\]\): keepdims must be a boolean, got 1. Fix: pass true or false\.$/);
      expect(() => sum(x, [], keep)).to.throw(ArgumentError, /keepdims must be a boolean/);
      expect(() => argmax(x, 0, keep)).to.throw(ArgumentError, /^argmax\(f32\[2,3\]\): keepdims must be a boolean/);
    });

    it('refuses a node whose stored axes are not canonical', () => {
      const { g, x } = input([2, 3]);
      expect(() => g.addNode(sumOp, [x], { axes: [-1], keepdims: false })).to.throw(
        ArgumentError,
        /^sum\(f32\[2,3\]\): the axes attribute \[-1\] is not canonical \(distinct, sorted, in \[0, 1\]\). Fix: build the node with the functional sum\(x, \.\.\.\), which normalizes axes\.$/,
      );
      expect(() => g.addNode(sumOp, [x], { axes: [1, 0], keepdims: false })).to.throw(ArgumentError, /not canonical/);
    });

    it('refuses a non-tensor operand', () => {
      expect(() => sum([1, 2] as never)).to.throw(ArgumentError, /^sum: the operand must be a Tensor, got an array/);
    });
  });
});
