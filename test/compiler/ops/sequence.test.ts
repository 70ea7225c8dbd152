import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { gelu } from '../../../compiler/ops/unary.js';
import { embedding, sinusoidalPositions } from '../../../compiler/ops/layers.js';
import { causalMask, cumsum, cumsumOp, tril, triu } from '../../../compiler/ops/sequence.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, run, values } from '../../helpers.js';

describe('cumsum', () => {
  const g = new Graph('cumsum');
  const x = g.constant([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it('sums along the last axis, and along the first', () => {
    expect(values(cumsum(x, -1))).to.deep.equal([1, 3, 6, 4, 9, 15]);
    expect(values(x.cumsum(0))).to.deep.equal([1, 2, 3, 5, 7, 9]);
  });

  it('leaves each element out with exclusive, and runs from the end with reverse', () => {
    expect(values(cumsum(x, 1, { exclusive: true }))).to.deep.equal([0, 1, 3, 0, 4, 9]);
    expect(values(cumsum(x, 1, { reverse: true }))).to.deep.equal([6, 5, 3, 15, 11, 6]);
    expect(values(cumsum(x, 1, { exclusive: true, reverse: true }))).to.deep.equal([5, 3, 0, 11, 6, 0]);
  });

  it('scans a middle axis of a rank-3 tensor', () => {
    const y = new Graph('t').constant([
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    ]);
    expect(values(cumsum(y, 1))).to.deep.equal([1, 2, 4, 6, 9, 12]);
  });

  it('sums i32 with wrap-around, as the GPU does', () => {
    const y = new Graph('t').constant([2147483647, 1, 5], { dtype: 'i32' });
    const result = run(cumsum(y, 0));
    expect(result.dtype).to.equal('i32');
    expect([...result.data]).to.deep.equal([2147483647, -2147483648, -2147483643]);
  });

  it('rejects bool operands, axes out of range and non-boolean flags, naming the fix', () => {
    const mask = x.greater(2);
    expect(() => cumsum(mask, 0)).to.throw(DTypeError, "cumsum(bool[2,3]): the operand must be f32 or i32, got bool. Fix: cast a bool mask with .cast('i32') to count it.");
    expect(() => cumsum(x, 2)).to.throw(ShapeError, 'cumsum(f32[2,3]): axis 2 is out of range for rank 2. Fix: use an integer axis in [-2, 1].');
    expect(() => cumsum(x, 0.5)).to.throw(ArgumentError, 'cumsum: axis must be an integer, got 0.5.');
    expect(() => cumsum(x, 0, { reverse: 'yes' as never })).to.throw(ArgumentError, 'cumsum: reverse must be a boolean, got yes.');
    expect(() => g.addNode(cumsumOp, [x], { axis: -1, exclusive: false, reverse: false })).to.throw(ShapeError, /the axis attribute -1 is not an axis of a rank-2 tensor/);
  });

  for (const options of [{}, { exclusive: true }, { reverse: true }, { exclusive: true, reverse: true }]) {
    it(`has gradients matching finite differences (${JSON.stringify(options)})`, () => {
      checkGradients({ inputs: [{ shape: [3, 4] }], build: ([y]) => cumsum(y!, 1, options) });
      checkGradients({ inputs: [{ shape: [5, 2] }], build: ([y]) => cumsum(y!, 0, options) });
    });
  }
});

describe('tril, triu and causalMask', () => {
  const g = new Graph('triangles');
  const x = g.constant([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);

  it('keep the lower triangle from diagonal k, as NumPy', () => {
    expect(values(tril(x))).to.deep.equal([1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0]);
    expect(values(x.tril(-1))).to.deep.equal([0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0]);
    expect(values(tril(x, 1))).to.deep.equal([1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12]);
  });

  it('keep the upper triangle from diagonal k, as NumPy', () => {
    expect(values(triu(x))).to.deep.equal([1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12]);
    expect(values(x.triu(2))).to.deep.equal([0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0]);
  });

  it('apply to every matrix of a batch, and to bool and i32 tensors', () => {
    const batch = g.constant([1, 1, 1, 1, 1, 1, 1, 1], { shape: [2, 2, 2], dtype: 'i32' });
    expect(values(tril(batch))).to.deep.equal([1, 0, 1, 1, 1, 0, 1, 1]);
    const mask = run(triu(batch.greater(0)));
    expect(mask.dtype).to.equal('bool');
    expect([...mask.data]).to.deep.equal([1, 1, 0, 1, 1, 1, 0, 1]);
  });

  it('reject vectors and fractional diagonals, naming the fix', () => {
    const vector = g.constant([1, 2, 3]);
    expect(() => tril(vector)).to.throw(
      ShapeError,
      'tril(f32[3]): tril works on the last two axes, but the operand has rank 1. Fix: pass a tensor of rank ≥ 2 (unsqueeze a vector into a [1,n] row or [n,1] column).',
    );
    expect(() => triu(x, 0.5)).to.throw(ArgumentError, 'triu: k (the diagonal offset) must be an integer, got 0.5.');
  });

  it('pass gradients only through the kept triangle', () => {
    checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: ([y]) => tril(y!, 1) });
    checkGradients({ inputs: [{ shape: [4, 3] }], build: ([y]) => triu(y!, -1) });
  });

  it('build a causal mask, square or with more keys than queries', () => {
    expect(values(causalMask(g, 3))).to.deep.equal([1, 0, 0, 1, 1, 0, 1, 1, 1]);
    const wide = run(causalMask(g, 2, 3));
    expect(wide.shape).to.deep.equal([2, 3]);
    expect([...wide.data]).to.deep.equal([1, 0, 0, 1, 1, 0]);
    expect(() => causalMask(g, -1)).to.throw(ArgumentError, 'causalMask: queries and keys must be non-negative, got -1 and -1.');
  });
});

describe('transformer layer helpers', () => {
  it('embedding looks up rows, and its gradient adds cotangents into the rows read', () => {
    const g = new Graph('embedding');
    const table = g.input('table', [4, 2]);
    const ids = g.constant([[3, 0, 3]], { dtype: 'i32' });
    const rows = embedding(table, ids);
    expect(rows.shape).to.deep.equal([1, 3, 2]);
    const feeds = { table: [0, 1, 10, 11, 20, 21, 30, 31] };
    expect(values(rows, { feeds })).to.deep.equal([30, 31, 0, 1, 30, 31]);
    const [dtable] = grad(rows.sum(), [table]);
    expect(values(dtable!, { feeds })).to.deep.equal([1, 1, 0, 0, 0, 0, 2, 2]);
    checkGradients({ inputs: [{ shape: [5, 3] }], build: ([t]) => embedding(t!, t!.graph.constant([4, 1, 1, -1], { dtype: 'i32' })) });
  });

  it('embedding rejects float ids and scalar tables, naming the fix', () => {
    const g = new Graph('embedding-errors');
    const table = g.input('table', [4, 2]);
    expect(() => embedding(table, g.constant([1, 2]))).to.throw(
      DTypeError,
      "embedding(f32[4,2], f32[2]): ids must be i32 token indices, got f32. Fix: declare the ids input with dtype 'i32', or .cast('i32').",
    );
    expect(() => embedding(g.constant(1), g.constant([1], { dtype: 'i32' }))).to.throw(ShapeError, /embedding\(f32\[\], i32\[1\]\): the table is a scalar/);
  });

  it('sinusoidalPositions gives sin and cos pairs at geometric frequencies', () => {
    const g = new Graph('positions');
    const table = run(sinusoidalPositions(g, 3, 5), { precision: 'f64' });
    expect(table.shape).to.deep.equal([3, 5]);
    const expected = [0, 1, 2].flatMap((p) => [
      Math.sin(p),
      Math.cos(p),
      Math.sin(p / 10000 ** (2 / 5)),
      Math.cos(p / 10000 ** (2 / 5)),
      Math.sin(p / 10000 ** (4 / 5)),
    ]);
    expectClose(table.data, expected, 1e-7, 1e-7);
    expect(() => sinusoidalPositions(g, 3, -2)).to.throw(ArgumentError, 'sinusoidalPositions: length and dim must be non-negative, got 3 and -2.');
  });

  it('gelu (both forms) differentiates inside a transformer-style block', () => {
    for (const approximate of ['none', 'tanh'] as const) {
      checkGradients({ inputs: [{ shape: [2, 3] }, { shape: [3, 4] }], build: ([h, w]) => gelu(h!.matmul(w!), { approximate }) });
    }
  });
});
