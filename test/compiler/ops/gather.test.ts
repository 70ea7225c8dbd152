import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { gather, gatherOp } from '../../../compiler/ops/gather.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { run, values } from '../../helpers.js';

const table = (g: Graph): Tensor =>
  g.constant([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
const ids = (g: Graph, value: number | number[] | number[][]): Tensor => g.constant(value, { dtype: 'i32' });

describe('gather', () => {
  it('looks up rows of an embedding table', () => {
    const g = new Graph('t');
    const y = gather(table(g), ids(g, [2, 0, 2]));
    expect(y.shape).to.deep.equal([3, 2]);
    expect(y.node.attrs).to.deep.equal({ axis: 0 });
    expect(values(y)).to.deep.equal([5, 6, 1, 2, 5, 6]);
  });

  it('gives x.shape[:axis] + indices.shape + x.shape[axis+1:]', () => {
    const g = new Graph('t');
    const y = gather(table(g), ids(g, [
      [0, 1],
      [2, 0],
    ]));
    expect(y.shape).to.deep.equal([2, 2, 2]);
    expect(values(y)).to.deep.equal([1, 2, 3, 4, 5, 6, 1, 2]);
    const scalar = gather(table(g), ids(g, 1));
    expect(scalar.shape).to.deep.equal([2]);
    expect(values(scalar)).to.deep.equal([3, 4]);
  });

  it('gathers along an inner axis, negative counting from the end', () => {
    const g = new Graph('t');
    const x = g.constant([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = gather(x, ids(g, [2, 0]), -1);
    expect(y.node.attrs).to.deep.equal({ axis: 1 });
    expect(y.shape).to.deep.equal([2, 2]);
    expect(values(y)).to.deep.equal([3, 1, 6, 4]);
    const middle = gather(g.constant([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 2, 2] }), ids(g, [[1], [0]]), 1);
    expect(middle.shape).to.deep.equal([2, 2, 1, 2]);
    expect(values(middle)).to.deep.equal([3, 4, 1, 2, 7, 8, 5, 6]);
  });

  it('counts negative indices from the end', () => {
    const g = new Graph('t');
    expect(values(gather(table(g), ids(g, [-1, -3])))).to.deep.equal([5, 6, 1, 2]);
  });

  it('gives 0 for indices out of range, in every dtype', () => {
    const g = new Graph('t');
    expect(values(gather(table(g), ids(g, [3, 1, -4])))).to.deep.equal([0, 0, 3, 4, 0, 0]);
    expect(values(gather(g.constant([7, 8], { dtype: 'i32' }), ids(g, [5, 0])))).to.deep.equal([0, 7]);
    expect(values(gather(g.constant([1, 1], { dtype: 'bool' }), ids(g, [-3, 1])))).to.deep.equal([0, 1]);
  });

  it('handles empty indices and an empty gathered axis', () => {
    const g = new Graph('t');
    const none = gather(table(g), g.input('i', [0], 'i32'));
    expect(none.shape).to.deep.equal([0, 2]);
    expect(values(none, { feeds: { i: [] } })).to.deep.equal([]);
    const fromEmpty = gather(g.input('e', [0, 2]), ids(g, [0]));
    expect(fromEmpty.shape).to.deep.equal([1, 2]);
    expect(values(fromEmpty, { feeds: { e: [] } })).to.deep.equal([0, 0]);
  });

  it('reads from a size-1 axis and keeps f64 values exact', () => {
    const g = new Graph('t');
    expect(values(gather(g.constant([[9]]), ids(g, [0, 0, -1]), 1))).to.deep.equal([9, 9, 9]);
    const y = gather(g.input('x', [2, 1]), ids(g, [1, 0]));
    const out = run(y, { feeds: { x: [0.1, 0.7] }, precision: 'f64' });
    expect(out.data).to.be.instanceOf(Float64Array);
    expect(Array.from(out.data)).to.deep.equal([0.7, 0.1]);
  });

  it('rejects indices that are not i32', () => {
    const g = new Graph('t');
    expect(() => gather(table(g), g.constant([0, 1]))).to.throw(
      DTypeError,
      /^gather\(f32\[3,2\], f32\[2\]\): indices must be i32, got f32\. Fix: cast them with indices\.cast\('i32'\)\.$/,
    );
  });

  it('rejects an axis out of range, a scalar operand and non-tensors', () => {
    const g = new Graph('t');
    expect(() => gather(table(g), ids(g, [0]), 2)).to.throw(ShapeError, /^gather\(f32\[3,2\], i32\[1\]\): axis 2 is out of range for rank 2/);
    expect(() => gather(g.constant(1), ids(g, [0]))).to.throw(ShapeError, /a scalar has no axes/);
    expect(() => gather(table(g), ids(g, [0]), 0.5)).to.throw(ArgumentError, /gather: axis must be an integer, got 0.5/);
    expect(() => gather(table(g), [0] as unknown as Tensor)).to.throw(ArgumentError, /gather: the indices must be a Tensor, got an array/);
  });

  it('re-checks stored attributes and verifies in a graph', () => {
    const g = new Graph('t');
    expect(() => g.addNode(gatherOp, [table(g), ids(g, [0])], { axis: 5 })).to.throw(ShapeError, /axis 5 is out of range/);
    expect(() => g.addNode(gatherOp, [table(g), ids(g, [0])], { axis: -1 })).to.throw(
      ShapeError,
      /^gather\(f32\[3,2\], i32\[1\]\): the stored axis -1 is not canonical\. Fix: build with gather\(x, indices, axis\)\.$/,
    );
    g.output('y', gather(table(g), g.input('i', [4], 'i32')));
    verify(g);
  });
});
