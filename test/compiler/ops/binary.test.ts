import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import * as b from '../../../compiler/ops/binary.js';
import { values } from '../../helpers.js';

describe('binary ops', () => {
  function pair(shapeA: number[], shapeB: number[], dtype: 'f32' | 'i32' | 'bool' = 'f32') {
    const g = new Graph('b');
    return { g, x: g.input('x', shapeA, dtype), y: g.input('y', shapeB, dtype) };
  }

  it('computes arithmetic elementwise', () => {
    const { x, y } = pair([4], [4]);
    const feeds = { x: [1, -2, 3, 8], y: [2, 4, -1, 2] };
    expect(values(b.add(x, y), { feeds })).to.deep.equal([3, 2, 2, 10]);
    expect(values(b.sub(x, y), { feeds })).to.deep.equal([-1, -6, 4, 6]);
    expect(values(b.mul(x, y), { feeds })).to.deep.equal([2, -8, -3, 16]);
    expect(values(b.div(x, y), { feeds })).to.deep.equal([0.5, -0.5, -3, 4]);
    expect(values(b.pow(x, y), { feeds })).to.deep.equal([1, 16, 1 / 3, 64].map(Math.fround));
    expect(values(b.maximum(x, y), { feeds })).to.deep.equal([2, 4, 3, 8]);
    expect(values(b.minimum(x, y), { feeds })).to.deep.equal([1, -2, -1, 2]);
  });

  it('broadcasts NumPy-style across size-1 dims, rank mismatch and scalars', () => {
    const { x, y } = pair([2, 1, 3], [4, 1]);
    const sum = b.add(x, y);
    expect(sum.shape).to.deep.equal([2, 4, 3]);
    const out = values(sum, { feeds: { x: [0, 1, 2, 10, 20, 30], y: [100, 200, 300, 400] } });
    expect(out.slice(0, 6)).to.deep.equal([100, 101, 102, 200, 201, 202]);
    expect(out.slice(21)).to.deep.equal([410, 420, 430]);
    const s = pair([], [3]);
    expect(values(b.mul(s.x, s.y), { feeds: { x: [2], y: [1, 2, 3] } })).to.deep.equal([2, 4, 6]);
    const e = pair([0, 3], [1, 3]);
    expect(b.add(e.x, e.y).shape).to.deep.equal([0, 3]);
  });

  it('names both shapes and the axis when shapes cannot broadcast', () => {
    const { x, y } = pair([2, 3], [4]);
    expect(() => b.add(x, y)).to.throw(
      ShapeError,
      /add\(f32\[2,3\], f32\[4\]\): shapes cannot be broadcast: axis -1 \(counted from the right\) is 3 in one operand and 4 in another. Fix: make the sizes equal, or 1/,
    );
  });

  it('lifts numbers to the dtype of the tensor they meet', () => {
    const g = new Graph('b');
    const n = g.input('n', [3], 'i32');
    const scaled = b.mul(n, 3);
    expect(scaled.dtype).to.equal('i32');
    expect(values(scaled, { feeds: { n: [1, 2, 3] } })).to.deep.equal([3, 6, 9]);
    expect(values(b.sub(10, n), { feeds: { n: [1, 2, 3] } })).to.deep.equal([9, 8, 7]);
    expect(() => b.mul(n, 0.5)).to.throw(DTypeError, /the fraction 0.5 cannot meet an i32 tensor. Fix: cast the tensor with .cast\('f32'\)/);
  });

  it('refuses mixed dtypes instead of promoting, and says which cast fixes it', () => {
    const g = new Graph('b');
    const x = g.input('x', [3]);
    const n = g.input('n', [3], 'i32');
    expect(() => b.add(x, n)).to.throw(DTypeError, /add\(f32\[3\], i32\[3\]\): operands have different dtypes; kiln does not promote implicitly. Fix: cast one operand/);
  });

  it('refuses two numbers, since there is no graph to put them in', () => {
    expect(() => b.add(1, 2)).to.throw(ArgumentError, /add: at least one operand must be a Tensor/);
  });

  it('divides i32 toward zero, x / 0 giving x as in WGSL, and wraps on overflow', () => {
    const { x, y } = pair([4], [4], 'i32');
    expect(values(b.div(x, y), { feeds: { x: [7, -7, 7, 5], y: [2, 2, -2, 0] } })).to.deep.equal([3, -3, -3, 5]);
    expect(values(b.add(x, y), { feeds: { x: [2147483647, 0, 0, 0], y: [1, 0, 0, 0] } })[0]).to.equal(-2147483648);
    expect(values(b.mul(x, y), { feeds: { x: [65536, 0, 0, 0], y: [65536, 0, 0, 0] } })[0]).to.equal(0);
  });

  it('propagates NaN through maximum and minimum', () => {
    const { x, y } = pair([2], [2]);
    const out = values(b.maximum(x, y), { feeds: { x: [NaN, 1], y: [0, NaN] } });
    expect(out.every(Number.isNaN)).to.equal(true);
  });

  it('compares into bool masks', () => {
    const { x, y } = pair([3], [3]);
    const feeds = { x: [1, 2, 3], y: [2, 2, 2] };
    const cmp = b.less(x, y);
    expect(cmp.dtype).to.equal('bool');
    expect(values(cmp, { feeds })).to.deep.equal([1, 0, 0]);
    expect(values(b.lessEqual(x, y), { feeds })).to.deep.equal([1, 1, 0]);
    expect(values(b.greater(x, y), { feeds })).to.deep.equal([0, 0, 1]);
    expect(values(b.greaterEqual(x, y), { feeds })).to.deep.equal([0, 1, 1]);
    expect(values(b.equal(x, y), { feeds })).to.deep.equal([0, 1, 0]);
    expect(values(b.notEqual(x, y), { feeds })).to.deep.equal([1, 0, 1]);
  });

  it('combines bool masks and refuses logic on numbers', () => {
    const { x, y } = pair([4], [4], 'bool');
    const feeds = { x: [0, 0, 1, 1], y: [0, 1, 0, 1] };
    expect(values(b.logicalAnd(x, y), { feeds })).to.deep.equal([0, 0, 0, 1]);
    expect(values(b.logicalOr(x, y), { feeds })).to.deep.equal([0, 1, 1, 1]);
    expect(values(b.logicalXor(x, y), { feeds })).to.deep.equal([0, 1, 1, 0]);
    expect(values(b.logicalNot(x), { feeds })).to.deep.equal([1, 1, 0, 0]);
    const f = pair([2], [2]);
    expect(() => b.logicalAnd(f.x, f.y)).to.throw(DTypeError, /logicalAnd\(f32\[2\], f32\[2\]\): needs bool, got f32/);
    expect(() => b.less(x, y)).to.throw(DTypeError, /less\(bool\[4\], bool\[4\]\): needs a numeric dtype/);
  });

  it('selects with where, broadcasting condition and branches', () => {
    const g = new Graph('w');
    const c = g.input('c', [2, 1], 'bool');
    const x = g.input('x', [3]);
    const picked = b.where(c, x, 0);
    expect(picked.shape).to.deep.equal([2, 3]);
    expect(values(picked, { feeds: { c: [1, 0], x: [1, 2, 3] } })).to.deep.equal([1, 2, 3, 0, 0, 0]);
    expect(values(b.where(c, 1, -1), { feeds: { c: [1, 0] } })).to.deep.equal([1, -1]);
    expect(() => b.where(x, x, x)).to.throw(DTypeError, /where\(f32\[3\], f32\[3\], f32\[3\]\): the condition must be bool, got f32/);
  });
});
