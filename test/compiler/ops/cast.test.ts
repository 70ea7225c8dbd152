import { expect } from 'chai';
import type { DType } from '../../../compiler/dtype.js';
import { ArgumentError, GraphError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { cast, castOp } from '../../../compiler/ops/cast.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { run, values } from '../../helpers.js';

const I32_MAX = 2147483647;
const I32_MIN = -2147483648;

describe('cast', () => {
  it('truncates f32 toward zero when casting to i32', () => {
    const g = new Graph('t');
    const y = cast(g.constant([1.9, -1.9, 0.5, -0.5, 2, -0]), 'i32');
    expect(y.dtype).to.equal('i32');
    expect(y.node.attrs).to.deep.equal({ dtype: 'i32' });
    expect(run(y).data).to.be.instanceOf(Int32Array);
    expect(values(y)).to.deep.equal([1, -1, 0, 0, 2, 0]);
  });

  it('saturates at the i32 range and maps NaN to 0, as WGSL does', () => {
    const g = new Graph('t');
    const y = cast(g.input('x', [5]), 'i32');
    expect(values(y, { feeds: { x: [NaN, Infinity, -Infinity, 3e9, -3e9] } })).to.deep.equal([0, I32_MAX, I32_MIN, I32_MAX, I32_MIN]);
    // In f64 the range ends are exact, and anything just past them saturates.
    expect(values(y, { feeds: { x: [2147483647, -2147483648, 2147483647.9, -2147483648.9, 1] }, precision: 'f64' })).to.deep.equal([
      I32_MAX,
      I32_MIN,
      I32_MAX,
      I32_MIN,
      1,
    ]);
  });

  it('casts to bool as x != 0, so NaN is true', () => {
    const g = new Graph('t');
    const y = cast(g.input('x', [5]), 'bool');
    expect(run(y, { feeds: { x: [0, -0, 2, NaN, -0.5] } }).data).to.be.instanceOf(Uint8Array);
    expect(values(y, { feeds: { x: [0, -0, 2, NaN, -0.5] } })).to.deep.equal([0, 0, 1, 1, 1]);
    expect(values(cast(g.constant([0, -3, 7], { dtype: 'i32' }), 'bool'))).to.deep.equal([0, 1, 1]);
  });

  it('casts bool to 0 and 1', () => {
    const g = new Graph('t');
    const b = g.constant([1, 0, 1], { dtype: 'bool' });
    expect(values(cast(b, 'f32'))).to.deep.equal([1, 0, 1]);
    expect(values(cast(b, 'i32'))).to.deep.equal([1, 0, 1]);
  });

  it('casts i32 to the nearest f32, and exactly in f64 precision', () => {
    const g = new Graph('t');
    const y = cast(g.constant([16777217, -5, I32_MAX], { dtype: 'i32' }), 'f32');
    expect(values(y)).to.deep.equal([16777216, -5, 2147483648]);
    const exact = run(y, { precision: 'f64' });
    expect(exact.data).to.be.instanceOf(Float64Array);
    expect(Array.from(exact.data)).to.deep.equal([16777217, -5, I32_MAX]);
  });

  it('returns the operand itself when it already has the dtype', () => {
    const g = new Graph('t');
    const x = g.constant([1, 2]);
    const before = g.nodes.length;
    expect(cast(x, 'f32')).to.equal(x);
    expect(g.nodes.length).to.equal(before);
  });

  it('keeps the shape, including rank 0, size-1 and size-0 axes', () => {
    const g = new Graph('t');
    const s = cast(g.constant(2.5), 'i32');
    expect(s.shape).to.deep.equal([]);
    expect(values(s)).to.deep.equal([2]);
    expect(cast(g.constant([[1.5]]), 'bool').shape).to.deep.equal([1, 1]);
    const e = cast(g.input('e', [2, 0]), 'i32');
    expect(e.shape).to.deep.equal([2, 0]);
    expect(values(e, { feeds: { e: [] } })).to.deep.equal([]);
  });

  it('rejects unknown dtypes and non-tensors', () => {
    const g = new Graph('t');
    expect(() => cast(g.constant([1]), 'f16' as DType)).to.throw(
      ArgumentError,
      /^cast\(%0:f32\[1\]\): unknown dtype 'f16'\. Use f32, i32 or bool\.$/,
    );
    expect(() => cast(1 as unknown as Tensor, 'i32')).to.throw(ArgumentError, /cast: the operand must be a Tensor, got number/);
  });

  it('re-checks stored attributes and verifies in a graph', () => {
    const g = new Graph('t');
    const x = g.input('x', [2]);
    expect(() => g.addNode(castOp, [x], { dtype: 'f64' as DType })).to.throw(GraphError, /cast: unknown target dtype 'f64'/);
    g.output('y', cast(cast(x, 'i32'), 'bool'));
    verify(g);
  });
});
