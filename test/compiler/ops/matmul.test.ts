import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { matmul, matmulOp } from '../../../compiler/ops/matmul.js';
import type { DType } from '../../../compiler/dtype.js';
import { verify } from '../../../compiler/verify.js';
import { expectClose, run, testData, values } from '../../helpers.js';

/** Plain row-major [m,k]·[k,n], written independently of the op's batched loop. */
function naive(a: readonly number[], b: readonly number[], m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * k + p]! * b[p * n + j]!;
      out.push(acc);
    }
  }
  return out;
}

/** Row-major transpose of an [r,c] matrix. */
function transposed(x: readonly number[], r: number, c: number): number[] {
  return Array.from({ length: r * c }, (_, i) => x[(i % r) * c + Math.floor(i / r)]!);
}

describe('matmul', () => {
  function operands(shapeA: number[], shapeB: number[], dtypeA: DType = 'f32', dtypeB: DType = dtypeA) {
    const g = new Graph('t');
    return { g, a: g.input('a', shapeA, dtypeA), b: g.input('b', shapeB, dtypeB) };
  }

  it('multiplies a 2x3 by a 3x2 matrix (hand-computed)', () => {
    const { a, b } = operands([2, 3], [3, 2]);
    const c = matmul(a, b);
    expect(c.shape).to.deep.equal([2, 2]);
    expect(c.node.op).to.equal('matmul');
    expect(c.node.attrs).to.deep.equal({ transposeA: false, transposeB: false });
    // [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    expect(values(c, { feeds: { a: [1, 2, 3, 4, 5, 6], b: [7, 8, 9, 10, 11, 12] } })).to.deep.equal([58, 64, 139, 154]);
  });

  it('handles [1,1]x[1,1] and [3,17]x[17,5]', () => {
    const one = operands([1, 1], [1, 1]);
    expect(values(matmul(one.a, one.b), { feeds: { a: [3], b: [-4] } })).to.deep.equal([-12]);
    const { a, b } = operands([3, 17], [17, 5]);
    const da = testData(51, 1);
    const db = testData(85, 2);
    const out = values(matmul(a, b), { feeds: { a: da, b: db }, precision: 'f64' });
    expectClose(out, naive(da, db, 3, 17, 5), 1e-12, 1e-12);
  });

  it('reads transposed operands through the flags', () => {
    const { a, b } = operands([3, 2], [2, 3]);
    const da = [1, 4, 2, 5, 3, 6]; // [[1,2,3],[4,5,6]] stored transposed
    const db = [7, 9, 11, 8, 10, 12]; // [[7,8],[9,10],[11,12]] stored transposed
    const feeds = { a: da, b: db };
    const both = matmul(a, b, { transposeA: true, transposeB: true });
    expect(both.shape).to.deep.equal([2, 2]);
    expect(both.node.attrs).to.deep.equal({ transposeA: true, transposeB: true });
    expect(values(both, { feeds })).to.deep.equal([58, 64, 139, 154]);
    const onlyB = operands([2, 3], [2, 3]);
    expect(values(matmul(onlyB.a, onlyB.b, { transposeB: true }), { feeds: { a: [1, 2, 3, 4, 5, 6], b: db } })).to.deep.equal(
      naive([1, 2, 3, 4, 5, 6], transposed(db, 2, 3), 2, 3, 2),
    );
    const onlyA = operands([3, 2], [3, 2]);
    expect(values(matmul(onlyA.a, onlyA.b, { transposeA: true }), { feeds: { a: da, b: [7, 8, 9, 10, 11, 12] } })).to.deep.equal([
      58, 64, 139, 154,
    ]);
  });

  it('broadcasts batch dims NumPy-style: [2,1,3,4]·[5,4,6] → [2,5,3,6]', () => {
    const { a, b } = operands([2, 1, 3, 4], [5, 4, 6]);
    const c = matmul(a, b);
    expect(c.shape).to.deep.equal([2, 5, 3, 6]);
    const da = testData(24, 3);
    const db = testData(120, 4);
    const out = values(c, { feeds: { a: da, b: db }, precision: 'f64' });
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 5; j++) {
        const expected = naive(da.slice(i * 12, i * 12 + 12), db.slice(j * 24, j * 24 + 24), 3, 4, 6);
        const offset = (i * 5 + j) * 18;
        expectClose(out.slice(offset, offset + 18), expected, 1e-12, 1e-12);
      }
    }
  });

  it('broadcasts a batch against a plain matrix, with transposes', () => {
    const { a, b } = operands([2, 2, 3], [4, 3]);
    const c = matmul(a, b, { transposeB: true });
    expect(c.shape).to.deep.equal([2, 2, 4]);
    const da = testData(12, 5);
    const db = testData(12, 6);
    const out = values(c, { feeds: { a: da, b: db }, precision: 'f64' });
    const bt = transposed(db, 4, 3);
    expectClose(out, [...naive(da.slice(0, 6), bt, 2, 3, 4), ...naive(da.slice(6), bt, 2, 3, 4)], 1e-12, 1e-12);
  });

  it('reads a 1-D a as a row and a 1-D b as a column, dropping the added dim', () => {
    const vm = operands([3], [3, 2]);
    const row = matmul(vm.a, vm.b);
    expect(row.shape).to.deep.equal([2]);
    expect(values(row, { feeds: { a: [1, 2, 3], b: [7, 8, 9, 10, 11, 12] } })).to.deep.equal([58, 64]);
    const mv = operands([2, 3], [3]);
    const col = matmul(mv.a, mv.b);
    expect(col.shape).to.deep.equal([2]);
    expect(values(col, { feeds: { a: [1, 2, 3, 4, 5, 6], b: [1, 0, -1] } })).to.deep.equal([-2, -2]);
    const vv = operands([3], [3]);
    const dot = matmul(vv.a, vv.b);
    expect(dot.shape).to.deep.equal([]);
    expect(values(dot, { feeds: { a: [1, 2, 3], b: [4, 5, 6] } })).to.deep.equal([32]);
  });

  it('handles 1-D operands against batches and a transposed matrix', () => {
    const bv = operands([2, 2, 3], [3]);
    const out = matmul(bv.a, bv.b);
    expect(out.shape).to.deep.equal([2, 2]);
    expect(values(out, { feeds: { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], b: [1, 1, 1] } })).to.deep.equal([6, 15, 24, 33]);
    const vb = operands([2], [4, 2, 3]);
    expect(matmul(vb.a, vb.b).shape).to.deep.equal([4, 3]);
    const vt = operands([3], [2, 3]);
    const c = matmul(vt.a, vt.b, { transposeB: true });
    expect(c.shape).to.deep.equal([2]);
    expect(values(c, { feeds: { a: [1, 2, 3], b: [1, 2, 3, 4, 5, 6] } })).to.deep.equal([14, 32]);
  });

  it('multiplies i32 matrices in i32, wrapping as the GPU does', () => {
    const { a, b } = operands([1, 2], [2, 1], 'i32');
    const c = matmul(a, b);
    expect(c.dtype).to.equal('i32');
    expect(run(c, { feeds: { a: [2, 3], b: [4, 5] } }).data).to.be.instanceOf(Int32Array);
    expect(values(c, { feeds: { a: [2, 3], b: [4, 5] } })).to.deep.equal([23]);
    // 65536·32768 = 2³¹ wraps to −2³¹; adding 1·(−1) wraps again to 2³¹ − 1.
    expect(values(c, { feeds: { a: [65536, 1], b: [32768, -1] } })).to.deep.equal([2147483647]);
  });

  it('accumulates in double and rounds once in f32', () => {
    const { a, b } = operands([1, 6], [6, 1]);
    // f32 spacing at 1e8 is 8: f32 steps would drop every +1; double gives 1e8 + 5, which rounds to 1e8 + 8.
    expect(values(matmul(a, b), { feeds: { a: [1e8, 1, 1, 1, 1, 1], b: [1, 1, 1, 1, 1, 1] } })).to.deep.equal([1e8 + 8]);
  });

  it('gives zeros for an empty inner dim and an empty result for an empty outer dim', () => {
    const inner = operands([2, 0], [0, 3]);
    expect(values(matmul(inner.a, inner.b), { feeds: { a: [], b: [] } })).to.deep.equal([0, 0, 0, 0, 0, 0]);
    const outer = operands([0, 2], [2, 3]);
    const c = matmul(outer.a, outer.b);
    expect(c.shape).to.deep.equal([0, 3]);
    expect(values(c, { feeds: { a: [], b: [1, 2, 3, 4, 5, 6] } })).to.deep.equal([]);
  });

  it('computes in f64 when asked', () => {
    const { a, b } = operands([1, 2], [2, 1]);
    const result = run(matmul(a, b), { feeds: { a: [0.1, 0.2], b: [0.3, 0.4] }, precision: 'f64' });
    expect(result.data).to.be.instanceOf(Float64Array);
    expect(result.data[0]).to.equal(0.1 * 0.3 + 0.2 * 0.4);
  });

  it('builds graphs that verify, including the reshapes around 1-D operands', () => {
    const { g, a, b } = operands([3], [3]);
    matmul(a, b);
    const m = g.input('m', [2, 3]);
    matmul(m, a);
    verify(g);
    expect(g.nodes.map((n) => n.op).filter((op) => op !== 'input')).to.deep.equal([
      'reshape',
      'reshape',
      'matmul',
      'reshape',
      'reshape',
      'matmul',
      'reshape',
    ]);
  });

  describe('errors', () => {
    it('names both shapes, the flags and the fix when inner dims differ', () => {
      const { a, b } = operands([2, 3], [4, 5]);
      expect(() => matmul(a, b)).to.throw(
        ShapeError,
        /^matmul\(f32\[2,3\], f32\[4,5\]\): inner dimensions differ: a gives \[2,3\] and b gives \[4,5\] with transposeA=false, transposeB=false, so 3 ≠ 4. Fix: check the layout: a's columns must match b's rows; if b is stored as \[n,k\] \(a PyTorch-style weight\), pass transposeB: true\.$/,
      );
      const t = operands([2, 3], [3, 5]);
      expect(() => matmul(t.a, t.b, { transposeB: true })).to.throw(
        ShapeError,
        /^matmul\(f32\[2,3\], f32\[3,5\]\): inner dimensions differ: a gives \[2,3\] and b gives \[5,3\] with transposeA=false, transposeB=true, so 3 ≠ 5\. Fix: .*pass transposeB: false\.$/,
      );
    });

    it('names the user shapes, and adds no nodes, when a 1-D operand does not fit', () => {
      const { g, a, b } = operands([3], [4]);
      const before = g.nodes.length;
      expect(() => matmul(a, b)).to.throw(ShapeError, /^matmul\(f32\[3\], f32\[4\]\): inner dimensions differ: a gives \[1,3\] and b gives \[4,1\]/);
      expect(g.nodes.length).to.equal(before);
    });

    it('names batch dims that cannot broadcast', () => {
      const { a, b } = operands([2, 3, 4], [3, 4, 5]);
      expect(() => matmul(a, b)).to.throw(
        ShapeError,
        /^matmul\(f32\[2,3,4\], f32\[3,4,5\]\): batch dims \[2\] and \[3\] cannot be broadcast \(2 vs 3\)\. Fix: make the batch sizes equal, or 1 where a matrix should be reused across the batch\.$/,
      );
    });

    it('refuses mixed dtypes and bool', () => {
      const mixed = operands([2, 2], [2, 2], 'f32', 'i32');
      expect(() => matmul(mixed.a, mixed.b)).to.throw(DTypeError, /^matmul\(f32\[2,2\], i32\[2,2\]\): operands have different dtypes; kiln does not promote implicitly/);
      const bools = operands([2, 2], [2, 2], 'bool');
      expect(() => matmul(bools.a, bools.b)).to.throw(DTypeError, /^matmul\(bool\[2,2\], bool\[2,2\]\): needs a numeric dtype \(f32 or i32\), got bool/);
    });

    it('refuses scalars, pointing to mul', () => {
      const { a, b } = operands([], [2, 2]);
      expect(() => matmul(a, b)).to.throw(ShapeError, /^matmul\(f32\[\], f32\[2,2\]\): a is a scalar, which has no rows or columns. Fix: multiply by a scalar with mul\.$/);
      expect(() => matmul(b, a)).to.throw(ShapeError, /^matmul\(f32\[2,2\], f32\[\]\): b is a scalar/);
    });

    it('refuses a transpose flag on a 1-D operand', () => {
      const { a, b } = operands([3], [3, 2]);
      expect(() => matmul(a, b, { transposeA: true })).to.throw(
        ArgumentError,
        /^matmul\(f32\[3\], f32\[3,2\]\): transposeA has no meaning for a 1-D a. Fix: drop transposeA; a 1-D operand is read as a vector either way\.$/,
      );
      expect(() => matmul(b, a, { transposeB: true })).to.throw(ArgumentError, /transposeB has no meaning for a 1-D b/);
    });

    it('refuses non-boolean flags and non-tensor operands', () => {
      const { a, b } = operands([2, 2], [2, 2]);
      expect(() => matmul(a, b, { transposeA: 1 as unknown as boolean })).to.throw(ArgumentError, /^matmul: transposeA must be a boolean, got 1\.$/);
      expect(() => matmul(a, [[1]] as never)).to.throw(ArgumentError, /^matmul: the second operand must be a Tensor, got an array/);
    });

    it('refuses rank-1 operands and non-boolean flags at the node itself', () => {
      const { g, a, b } = operands([3], [3, 2]);
      expect(() => g.addNode(matmulOp, [a, b], { transposeA: false, transposeB: false })).to.throw(
        ShapeError,
        /^matmul\(f32\[3\], f32\[3,2\]\): the matmul node needs operands of rank ≥ 2. Fix: use the functional matmul\(a, b\), which takes 1-D operands, or reshape to \[m,k\] and \[k,n\]\.$/,
      );
      const flags = { transposeA: 'no', transposeB: false } as unknown as { transposeA: boolean; transposeB: boolean };
      expect(() => g.addNode(matmulOp, [b, b], flags)).to.throw(ArgumentError, /transposeA and transposeB must be booleans/);
    });
  });
});
