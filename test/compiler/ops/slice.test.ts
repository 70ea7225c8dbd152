import { expect } from 'chai';
import { ArgumentError, DTypeError, GraphError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import type { SliceAxis } from '../../../compiler/ops/slice.js';
import { concat, concatOp, pad, padOp, padWithInterior, slice, sliceOp, split } from '../../../compiler/ops/slice.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { run, values } from '../../helpers.js';

const iota = (g: Graph, shape: number[], dtype: 'f32' | 'i32' = 'f32'): Tensor =>
  g.constant(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    { shape, dtype },
  );

describe('slice', () => {
  /** x[spec] of 0..9, as Python would give it. */
  const sliced = (...spec: SliceAxis[]): number[] => values(slice(iota(new Graph('t'), [10]), spec));

  it('takes start:end:step like Python', () => {
    expect(sliced({ start: 1, end: 5, step: 2 })).to.deep.equal([1, 3]);
    expect(sliced({ start: 2, end: 7 })).to.deep.equal([2, 3, 4, 5, 6]);
    expect(sliced({ start: 1, end: 8, step: 3 })).to.deep.equal([1, 4, 7]);
    expect(sliced({ step: 4 })).to.deep.equal([0, 4, 8]);
  });

  it('counts negative bounds from the end and clamps out-of-range bounds', () => {
    expect(sliced({ start: -3 })).to.deep.equal([7, 8, 9]);
    expect(sliced({ end: -8 })).to.deep.equal([0, 1]);
    expect(sliced({ start: -100, end: 100 })).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sliced({ start: 12 })).to.deep.equal([]);
  });

  it('walks backward with negative steps', () => {
    expect(sliced({ step: -1 })).to.deep.equal([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(sliced({ start: 8, end: 2, step: -2 })).to.deep.equal([8, 6, 4]);
    expect(sliced({ start: -1, step: -3 })).to.deep.equal([9, 6, 3, 0]);
    expect(sliced({ start: 100, end: 6, step: -1 })).to.deep.equal([9, 8, 7]);
    // x[:-1:-1] and x[-100::-1] are empty in Python: -1 is the last element, not "before 0".
    expect(sliced({ end: -1, step: -1 })).to.deep.equal([]);
    expect(sliced({ start: -100, step: -1 })).to.deep.equal([]);
  });

  it('gives size 0 when the bounds cross', () => {
    const g = new Graph('t');
    const y = slice(iota(g, [10]), [{ start: 5, end: 2 }]);
    expect(y.shape).to.deep.equal([0]);
    expect(values(y)).to.deep.equal([]);
  });

  it('accepts the null and tuple shorthands', () => {
    const g = new Graph('t');
    const x = iota(g, [3, 4]);
    expect(values(slice(x, [null, [null, null, -2]]))).to.deep.equal([3, 1, 7, 5, 11, 9]);
    expect(values(slice(x, [[1, null], [1, 3]]))).to.deep.equal([5, 6, 9, 10]);
    expect(values(slice(x, [{}, { start: 3 }]))).to.deep.equal([3, 7, 11]);
  });

  it('slices several axes at once and takes omitted trailing axes whole', () => {
    const g = new Graph('t');
    const x = iota(g, [3, 4]);
    expect(slice(x, [{ start: 1 }]).shape).to.deep.equal([2, 4]);
    expect(values(slice(x, [{ start: 1 }]))).to.deep.equal([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(values(slice(x, [{ start: -1, step: -1 }, { start: 1, end: 3 }]))).to.deep.equal([9, 10, 5, 6, 1, 2]);
    expect(values(slice(iota(g, [2, 3, 2]), [null, { start: 1, step: 2 }]))).to.deep.equal([2, 3, 8, 9]);
  });

  it('stores canonical starts, steps and shape for every axis', () => {
    const g = new Graph('t');
    const x = iota(g, [10, 4]);
    expect(slice(x, [{ start: 1, end: 5, step: 2 }]).node.attrs).to.deep.equal({ starts: [1, 0], steps: [2, 1], shape: [2, 4] });
    expect(slice(x, [{ step: -1 }, { start: -1 }]).node.attrs).to.deep.equal({ starts: [9, 3], steps: [-1, 1], shape: [10, 1] });
    // An empty axis reads nothing and a one-element axis reads one place: start/step are canonical.
    expect(slice(x, [{ start: 7, end: 3 }]).node.attrs).to.deep.equal({ starts: [0, 0], steps: [1, 1], shape: [0, 4] });
    expect(slice(x, [{ start: 4, end: 5, step: 3 }]).node.attrs).to.deep.equal({ starts: [4, 0], steps: [1, 1], shape: [1, 4] });
  });

  it('slices a scalar with an empty spec and empty inputs to empty outputs', () => {
    const g = new Graph('t');
    const s = slice(g.constant(3), []);
    expect(s.shape).to.deep.equal([]);
    expect(values(s)).to.deep.equal([3]);
    const e = slice(g.input('e', [0, 2]), [{ start: 1 }, { step: -1 }]);
    expect(e.shape).to.deep.equal([0, 2]);
    expect(values(e, { feeds: { e: [] } })).to.deep.equal([]);
  });

  it('keeps i32 and bool data and f64 values exact', () => {
    const g = new Graph('t');
    expect(values(slice(g.constant([5, -6, 7], { dtype: 'i32' }), [{ step: -1 }]))).to.deep.equal([7, -6, 5]);
    expect(values(slice(g.constant([1, 0, 0], { dtype: 'bool' }), [{ start: 1 }]))).to.deep.equal([0, 0]);
    const y = slice(g.input('x', [3]), [{ step: 2 }]);
    const out = run(y, { feeds: { x: [0.1, 0.2, 0.3] }, precision: 'f64' });
    expect(out.data).to.be.instanceOf(Float64Array);
    expect(Array.from(out.data)).to.deep.equal([0.1, 0.3]);
  });

  it('rejects a step of 0', () => {
    const g = new Graph('t');
    expect(() => slice(iota(g, [4]), [{ step: 0 }])).to.throw(
      ArgumentError,
      /^slice: the step of axis 0 is 0; a step must be a non-zero integer\.$/,
    );
  });

  it('rejects more entries than axes', () => {
    const g = new Graph('t');
    expect(() => slice(iota(g, [4]), [null, null])).to.throw(
      ShapeError,
      /^slice\(f32\[4\]\): the spec has 2 entries but the operand has rank 1\. Fix: give at most one entry per axis\.$/,
    );
  });

  it('rejects fractional bounds, malformed entries and a spec that is not an array', () => {
    const g = new Graph('t');
    const x = iota(g, [4, 4]);
    expect(() => slice(x, [null, { start: 1.5 }])).to.throw(ArgumentError, /^slice: start of axis 1 must be an integer, got 1.5\.$/);
    expect(() => slice(x, [[0, 2, 0.5]])).to.throw(ArgumentError, /step of axis 0 must be an integer, got 0.5/);
    expect(() => slice(x, [3 as unknown as SliceAxis])).to.throw(ArgumentError, /axis 0 must be \{start, end, step\}, \[start, end, step\?\] or null, got 3/);
    expect(() => slice(x, 'a' as unknown as SliceAxis[])).to.throw(ArgumentError, /slice: spec must be an array with one entry per axis, got string/);
  });

  it('re-checks stored attributes in its shape rule', () => {
    const g = new Graph('t');
    const x = iota(g, [4]);
    expect(() => g.addNode(sliceOp, [x], { starts: [2], steps: [1], shape: [3] })).to.throw(
      ShapeError,
      /axis 0 \(size 4\) cannot give 3 elements from start 2 with step 1/,
    );
    expect(() => g.addNode(sliceOp, [x], { starts: [0], steps: [0], shape: [1] })).to.throw(ShapeError, /with step 0/);
    expect(() => g.addNode(sliceOp, [x], { starts: [0], steps: [1], shape: [] })).to.throw(ShapeError, /one entry per axis \(1\)/);
  });
});

describe('concat', () => {
  it('joins along axis 0', () => {
    const g = new Graph('t');
    const y = concat([g.constant([[1, 2], [3, 4]]), g.constant([[5, 6]])], 0);
    expect(y.shape).to.deep.equal([3, 2]);
    expect(values(y)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('joins along the last axis, negative counting from the end', () => {
    const g = new Graph('t');
    const y = concat([g.constant([[1], [2]]), g.constant([[3, 4], [5, 6]])], -1);
    expect(y.node.attrs).to.deep.equal({ axis: 1 });
    expect(y.shape).to.deep.equal([2, 3]);
    expect(values(y)).to.deep.equal([1, 3, 4, 2, 5, 6]);
  });

  it('joins three operands along a middle axis', () => {
    const g = new Graph('t');
    const a = g.constant([1, 2, 3, 4], { shape: [2, 1, 2] });
    const b = g.constant([5, 6, 7, 8, 9, 10, 11, 12], { shape: [2, 2, 2] });
    const y = concat([a, b, a], 1);
    expect(y.shape).to.deep.equal([2, 4, 2]);
    expect(values(y)).to.deep.equal([1, 2, 5, 6, 7, 8, 1, 2, 3, 4, 9, 10, 11, 12, 3, 4]);
  });

  it('accepts one operand and operands with a size-0 axis', () => {
    const g = new Graph('t');
    expect(values(concat([g.constant([1, 2])], 0))).to.deep.equal([1, 2]);
    const e = g.input('e', [0, 2]);
    const y = concat([e, g.constant([[1, 2]]), e], 0);
    expect(y.shape).to.deep.equal([1, 2]);
    expect(values(y, { feeds: { e: [] } })).to.deep.equal([1, 2]);
  });

  it('joins i32 and bool data, and f64 values exactly', () => {
    const g = new Graph('t');
    expect(values(concat([g.constant([1], { dtype: 'i32' }), g.constant([-2], { dtype: 'i32' })], 0))).to.deep.equal([1, -2]);
    expect(values(concat([g.constant([1], { dtype: 'bool' }), g.constant([0], { dtype: 'bool' })], 0))).to.deep.equal([1, 0]);
    const y = concat([g.input('a', [1]), g.input('b', [2])], 0);
    expect(values(y, { feeds: { a: [0.1], b: [0.2, 0.3] }, precision: 'f64' })).to.deep.equal([0.1, 0.2, 0.3]);
  });

  it('rejects an empty list and scalars', () => {
    const g = new Graph('t');
    expect(() => concat([], 0)).to.throw(ArgumentError, /^concat: needs at least one tensor; got an empty list\.$/);
    expect(() => concat([g.constant(1), g.constant(2)], 0)).to.throw(
      ShapeError,
      /^concat\(f32\[\], f32\[\]\): scalars have no axis to join along\. Fix: unsqueeze the scalars/,
    );
  });

  it('rejects mixed dtypes, naming the operand', () => {
    const g = new Graph('t');
    expect(() => concat([iota(g, [2]), iota(g, [2], 'i32')], 0)).to.throw(
      DTypeError,
      /^concat\(f32\[2\], i32\[2\]\): operand 1 is i32 but operand 0 is f32\. Fix: cast operand 1 with \.cast\('f32'\)\.$/,
    );
  });

  it('rejects a rank mismatch and a differing non-axis size, naming the operand and the axis', () => {
    const g = new Graph('t');
    expect(() => concat([iota(g, [2, 2]), iota(g, [2])], 0)).to.throw(ShapeError, /operand 1 has rank 1 but operand 0 has rank 2/);
    expect(() => concat([iota(g, [1, 2]), iota(g, [1, 2]), iota(g, [1, 3])], 0)).to.throw(
      ShapeError,
      /^concat\(f32\[1,2\], f32\[1,2\], f32\[1,3\]\): operand 2 has size 3 on axis 1 but operand 0 has 2; only the concat axis 0 may differ\./,
    );
  });

  it('rejects an axis out of range, non-tensors and tensors of another graph', () => {
    const g = new Graph('t');
    expect(() => concat([iota(g, [2])], 1)).to.throw(ShapeError, /axis 1 is out of range for rank 1/);
    expect(() => concat([iota(g, [2])], 0.5)).to.throw(ArgumentError, /concat: axis must be an integer, got 0.5/);
    expect(() => concat([iota(g, [2]), 3 as unknown as Tensor], 0)).to.throw(ArgumentError, /the operand 1 must be a Tensor, got number/);
    expect(() => concat([iota(g, [2]), iota(new Graph('other'), [2])], 0)).to.throw(GraphError, /from graph 'other'/);
  });

  it('re-checks stored attributes in its shape rule', () => {
    const g = new Graph('t');
    expect(() => g.addNode(concatOp, [iota(g, [2])], { axis: -1 })).to.throw(ShapeError, /stored axis -1 is not canonical/);
    expect(() => g.addNode(concatOp, [], { axis: 0 })).to.throw(ArgumentError, /needs at least one tensor/);
  });
});

describe('split', () => {
  it('splits into equal parts by count', () => {
    const g = new Graph('t');
    const parts = split(iota(g, [6]), 3);
    expect(parts.map((p) => p.node.op)).to.deep.equal(['slice', 'slice', 'slice']);
    expect(parts.map((p) => values(p))).to.deep.equal([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('splits into the given sizes, including size 0, along a negative axis', () => {
    const g = new Graph('t');
    const parts = split(iota(g, [2, 3]), [1, 0, 2], -1);
    expect(parts.map((p) => p.shape)).to.deep.equal([
      [2, 1],
      [2, 0],
      [2, 2],
    ]);
    expect(parts.map((p) => values(p))).to.deep.equal([[0, 3], [], [1, 2, 4, 5]]);
  });

  it('splits an empty axis into empty parts', () => {
    const g = new Graph('t');
    const parts = split(g.input('e', [0, 2]), 2, 0);
    expect(parts.map((p) => p.shape)).to.deep.equal([
      [0, 2],
      [0, 2],
    ]);
  });

  it('rejects a count that does not divide the axis', () => {
    const g = new Graph('t');
    expect(() => split(iota(g, [6]), 4)).to.throw(
      ShapeError,
      /^split\(f32\[6\]\): axis 0 has size 6, which 4 does not divide\. Fix: pass a count that divides it, or a list of sizes\.$/,
    );
  });

  it('rejects sizes that do not sum to the axis, negative sizes and bad counts', () => {
    const g = new Graph('t');
    const x = iota(g, [6]);
    expect(() => split(x, [1, 2])).to.throw(ShapeError, /sizes \[1,2\] sum to 3 but axis 0 has size 6/);
    expect(() => split(x, [7, -1])).to.throw(ArgumentError, /split: sizes must be non-negative, got -1/);
    expect(() => split(x, 0)).to.throw(ArgumentError, /split: the count must be a positive integer, got 0/);
    expect(() => split(x, 1.5)).to.throw(ArgumentError, /split: the count must be an integer, got 1.5/);
    expect(() => split(x, 2, 1)).to.throw(ShapeError, /axis 1 is out of range for rank 1/);
  });
});

describe('pad', () => {
  it('adds constant elements before and after each axis', () => {
    const g = new Graph('t');
    const y = pad(g.constant([1, 2, 3]), [[1, 2]]);
    expect(y.node.attrs).to.deep.equal({ before: [1], after: [2], interior: [0], value: 0 });
    expect(values(y)).to.deep.equal([0, 1, 2, 3, 0, 0]);
    expect(values(pad(g.constant([1, 2, 3]), [[0, 1]], 9))).to.deep.equal([1, 2, 3, 9]);
  });

  it('pads several axes of a matrix', () => {
    const g = new Graph('t');
    const y = pad(
      g.constant([
        [1, 2],
        [3, 4],
      ]),
      [
        [1, 0],
        [0, 1],
      ],
      -1,
    );
    expect(y.shape).to.deep.equal([3, 3]);
    expect(values(y)).to.deep.equal([-1, -1, -1, 1, 2, -1, 3, 4, -1]);
  });

  it('leaves a scalar as it is and fills a padded empty tensor with the value', () => {
    const g = new Graph('t');
    expect(values(pad(g.constant(4), []))).to.deep.equal([4]);
    const y = pad(g.input('e', [0, 2]), [
      [1, 1],
      [0, 0],
    ], 5);
    expect(y.shape).to.deep.equal([2, 2]);
    expect(values(y, { feeds: { e: [] } })).to.deep.equal([5, 5, 5, 5]);
  });

  it('pads i32 and bool with values of their dtype, and f64 exactly', () => {
    const g = new Graph('t');
    expect(values(pad(g.constant([1, 2], { dtype: 'i32' }), [[1, 0]], -7))).to.deep.equal([-7, 1, 2]);
    expect(values(pad(g.constant([0], { dtype: 'bool' }), [[0, 1]], 1))).to.deep.equal([0, 1]);
    const y = pad(g.input('x', [1]), [[1, 0]], 0.1);
    expect(values(y, { feeds: { x: [0.2] }, precision: 'f64' })).to.deep.equal([0.1, 0.2]);
  });

  it('rejects fewer or more pairs than the rank', () => {
    const g = new Graph('t');
    expect(() => pad(iota(g, [2, 2]), [[1, 1]])).to.throw(
      ShapeError,
      /^pad\(f32\[2,2\]\): got 1 \[before, after\] pairs for rank 2\. Fix: give one pair per axis, \[0, 0\] for an axis not padded\.$/,
    );
    expect(() => pad(iota(g, [2]), [
      [1, 1],
      [1, 1],
    ])).to.throw(ShapeError, /got 2 \[before, after\] pairs for rank 1/);
  });

  it('rejects negative widths, suggesting slice', () => {
    const g = new Graph('t');
    expect(() => pad(iota(g, [2]), [[0, -1]])).to.throw(
      ArgumentError,
      /^pad: pads\[0\] has a negative width -1; pad only adds\. Fix: use slice to remove elements\.$/,
    );
  });

  it('rejects fractional widths and malformed pairs', () => {
    const g = new Graph('t');
    expect(() => pad(iota(g, [2]), [[0.5, 0]])).to.throw(ArgumentError, /pad: pads\[0\] must be an integer, got 0.5/);
    expect(() => pad(iota(g, [2]), [[1] as unknown as [number, number]])).to.throw(ArgumentError, /pads\[0\] must be a \[before, after\] pair, got \[1\]/);
    expect(() => pad(iota(g, [2]), 1 as unknown as [number, number][])).to.throw(ArgumentError, /pads must be an array of \[before, after\] pairs/);
  });

  it('rejects pad values that are not finite or do not fit the dtype', () => {
    const g = new Graph('t');
    expect(() => pad(iota(g, [2]), [[1, 0]], -Infinity)).to.throw(ArgumentError, /the pad value must be a finite number, got -Infinity\. Fix: for max-pooling/);
    expect(() => pad(iota(g, [2], 'i32'), [[1, 0]], 0.5)).to.throw(DTypeError, /^pad\(i32\[2\]\): the pad value 0.5 is not a i32 value/);
    expect(() => pad(iota(g, [2], 'i32'), [[1, 0]], 2 ** 31)).to.throw(DTypeError, /the pad value 2147483648 is not a i32 value/);
    expect(() => pad(g.constant([1], { dtype: 'bool' }), [[1, 0]], 2)).to.throw(DTypeError, /Fix: pad bool with 0 or 1/);
  });

  it('spreads elements apart with interior padding, placing element i at before + i·(interior + 1)', () => {
    const g = new Graph('t');
    const y = padWithInterior(g.constant([1, 2, 3]), { before: [1], after: [2], interior: [2] }, 9);
    expect(y.node.attrs).to.deep.equal({ before: [1], after: [2], interior: [2], value: 9 });
    expect(y.shape).to.deep.equal([1 + 3 + 2 * 2 + 2]);
    expect(values(y)).to.deep.equal([9, 1, 9, 9, 2, 9, 9, 3, 9, 9]);
    const matrix = padWithInterior(iota(g, [2, 3]), { before: [0, 1], after: [1, 0], interior: [1, 1] }, -1);
    expect(matrix.shape).to.deep.equal([4, 6]);
    expect(values(matrix)).to.deep.equal([
      -1, 0, -1, 1, -1, 2,
      -1, -1, -1, -1, -1, -1,
      -1, 3, -1, 4, -1, 5,
      -1, -1, -1, -1, -1, -1,
    ]);
  });

  it('adds no interior padding to an axis of size 0 or 1', () => {
    const g = new Graph('t');
    const y = padWithInterior(g.input('e', [0, 1]), { before: [1, 0], after: [0, 1], interior: [3, 3] }, 2);
    expect(y.shape).to.deep.equal([1, 2]);
    expect(values(y, { feeds: { e: [] } })).to.deep.equal([2, 2]);
    expect(padWithInterior(g.constant([[7]]), { before: [0, 0], after: [0, 0], interior: [4, 4] }).shape).to.deep.equal([1, 1]);
  });

  it('prints its interior widths with the other attributes', () => {
    const g = new Graph('t');
    const y = padWithInterior(g.input('x', [2]), { before: [1], after: [0], interior: [1] });
    expect(g.toString()).to.contain(`%${y.id}:f32[4] = pad[before=[1], after=[0], interior=[1], value=0] x`);
  });

  it('re-checks stored attributes in its shape rule', () => {
    const g = new Graph('t');
    const x = iota(g, [2]);
    expect(() => g.addNode(padOp, [x], { before: [-1], after: [0], interior: [0], value: 0 })).to.throw(ArgumentError, /pad: before \[-1\] has a bad dimension -1/);
    expect(() => g.addNode(padOp, [x], { before: [0], after: [0], interior: [-2], value: 0 })).to.throw(ArgumentError, /pad: interior \[-2\] has a bad dimension -2/);
    expect(() => g.addNode(padOp, [x], { before: [], after: [], interior: [], value: 0 })).to.throw(
      ShapeError,
      /^pad\(f32\[2\]\): needs one \[before, after\] pair and one interior width per axis \(1\)\. Fix: build with pad\(x, pads\)\.$/,
    );
    expect(() => g.addNode(padOp, [x], { before: [0], after: [0], interior: [], value: 0 })).to.throw(ShapeError, /one interior width per axis/);
  });
});

describe('slicing ops in a graph', () => {
  it('store canonical attributes that verify and survive a JSON round trip', () => {
    const g = new Graph('t');
    const x = g.input('x', [4, 6]);
    const [a, b] = split(x, 2, 1) as [Tensor, Tensor];
    g.output('y', pad(concat([slice(a, [{ step: -1 }]), b], 0), [[1, 0], [0, 2]], 0.5));
    verify(g);
    const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    expect(copy.toString()).to.equal(g.toString());
  });
});
