import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { gather, scatterAdd, scatterAddOp } from '../../../compiler/ops/gather.js';
import { sum } from '../../../compiler/ops/reduce.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { checkGradients } from '../../gradcheck.js';
import { run, values } from '../../helpers.js';
import { gradientOf } from './second-order.js';
import { sizeOf, staticShape } from '../../../compiler/shape.js';

const ids = (g: Graph, value: number | number[] | number[][]): Tensor => g.constant(value, { dtype: 'i32' });

describe('scatterAdd', () => {
  it('adds each update slice into the row its index names, starting from zeros', () => {
    const g = new Graph('t');
    const updates = g.constant([
      [1, 2],
      [3, 4],
    ]);
    const y = scatterAdd(updates, ids(g, [2, 0]), 0, 4);
    expect(y.shape).to.deep.equal([4, 2]);
    expect(y.node.attrs).to.deep.equal({ axis: 0, size: 4 });
    expect(values(y)).to.deep.equal([3, 4, 0, 0, 1, 2, 0, 0]);
  });

  it('accumulates repeated indices, as an embedding gradient must', () => {
    const g = new Graph('t');
    const y = scatterAdd(g.constant([[1], [10], [100], [1000]]), ids(g, [1, 0, 1, 1]), 0, 3);
    expect(values(y)).to.deep.equal([10, 1101, 0]);
  });

  it('takes updates shaped as gather gives them: 2-D indices, an inner axis, a scalar index', () => {
    const g = new Graph('t');
    const twoD = scatterAdd(g.constant([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 2, 2] }), ids(g, [[0, 1], [1, 1]]), 0, 2);
    expect(twoD.shape).to.deep.equal([2, 2]);
    expect(values(twoD)).to.deep.equal([1, 2, 3 + 5 + 7, 4 + 6 + 8]);
    const inner = scatterAdd(g.constant([[1, 2, 3], [4, 5, 6]]), ids(g, [2, 0, 2]), -1, 3);
    expect(inner.node.attrs).to.deep.equal({ axis: 1, size: 3 });
    expect(values(inner)).to.deep.equal([2, 0, 4, 5, 0, 10]);
    const scalar = scatterAdd(g.constant([7, 8]), ids(g, 1), 1, 3);
    expect(scalar.shape).to.deep.equal([2, 3]);
    expect(values(scalar)).to.deep.equal([0, 7, 0, 0, 8, 0]);
  });

  it('counts negative indices from the end and skips out-of-range ones, as gather reads 0 there', () => {
    const g = new Graph('t');
    expect(values(scatterAdd(g.constant([1, 2, 4, 8]), ids(g, [-1, 3, -4, 1]), 0, 3))).to.deep.equal([0, 8, 1]);
  });

  it('adds i32 updates, wrapping on overflow, and keeps f64 sums exact', () => {
    const g = new Graph('t');
    const wrapped = scatterAdd(g.constant([2 ** 31 - 1, 1, 5], { dtype: 'i32' }), ids(g, [0, 0, 1]), 0, 2);
    expect(values(wrapped)).to.deep.equal([-(2 ** 31), 5]);
    const y = scatterAdd(g.input('u', [2]), ids(g, [0, 0]), 0, 1);
    expect(Array.from(run(y, { feeds: { u: [0.1, 0.2] }, precision: 'f64' }).data)).to.deep.equal([0.1 + 0.2]);
  });

  it('handles empty indices and an empty result axis', () => {
    const g = new Graph('t');
    const none = scatterAdd(g.input('u', [0, 2]), g.input('i', [0], 'i32'), 0, 3);
    expect(values(none, { feeds: { u: [], i: [] } })).to.deep.equal([0, 0, 0, 0, 0, 0]);
    const empty = scatterAdd(g.constant([1, 2]), ids(g, [0, 0]), 0, 0);
    expect(empty.shape).to.deep.equal([0]);
    expect(values(empty)).to.deep.equal([]);
  });

  it('refuses non-i32 indices, bool updates and a bad size', () => {
    const g = new Graph('t');
    expect(() => scatterAdd(g.constant([1, 2]), g.constant([0, 1]), 0, 2)).to.throw(
      DTypeError,
      /^scatterAdd\(f32\[2\], f32\[2\]\): indices must be i32, got f32\. Fix: cast them with indices\.cast\('i32'\)\.$/,
    );
    expect(() => scatterAdd(g.constant([1, 0], { dtype: 'bool' }), ids(g, [0, 1]), 0, 2)).to.throw(
      DTypeError,
      /^scatterAdd\(bool\[2\], i32\[2\]\): updates must be f32 or i32, got bool\. Fix: cast them with \.cast\('f32'\)\.$/,
    );
    expect(() => g.addNode(scatterAddOp, [g.constant([1]), ids(g, [0])], { axis: 0, size: -1 })).to.throw(
      ArgumentError,
      /^scatterAdd\(f32\[1\], i32\[1\]\): size must be a non-negative integer, got -1\. Fix: pass the length of the axis scattered into\.$/,
    );
    expect(() => scatterAdd(g.constant([1]), ids(g, [0]), 0, 1.5)).to.throw(ArgumentError, /^scatterAdd: size must be an integer, got 1.5\.$/);
    expect(() => scatterAdd(g.constant([1]), ids(g, [0]), 0.5, 1)).to.throw(ArgumentError, /^scatterAdd: axis must be an integer, got 0.5\.$/);
    expect(() => scatterAdd([1] as unknown as Tensor, ids(g, [0]), 0, 1)).to.throw(ArgumentError, /scatterAdd: the updates must be a Tensor, got an array/);
  });

  it('refuses updates that are not shaped as a gather result', () => {
    const g = new Graph('t');
    expect(() => scatterAdd(g.constant([1, 2]), ids(g, [[0, 1]]), 0, 2)).to.throw(
      ShapeError,
      /^scatterAdd\(f32\[2\], i32\[1,2\]\): updates of rank 1 cannot hold indices of rank 2\. Fix: shape updates as gather's result: x\.shape\[:axis\] \+ indices\.shape \+ x\.shape\[axis\+1:\]\.$/,
    );
    expect(() => scatterAdd(g.constant([[1, 2, 3]]), ids(g, [0, 1]), 0, 2)).to.throw(
      ShapeError,
      /^scatterAdd\(f32\[1,3\], i32\[2\]\): updates have \[1\] at axis 0 where the indices' shape \[2\] belongs\. Fix: shape updates as gather's result/,
    );
    expect(() => scatterAdd(g.constant([[1, 2]]), ids(g, [0, 1]), 2, 2)).to.throw(
      ShapeError,
      /^scatterAdd\(f32\[1,2\], i32\[2\]\): axis 2 is out of range for rank 2/,
    );
    expect(() => g.addNode(scatterAddOp, [g.constant([[1, 2]]), ids(g, [0, 1])], { axis: -1, size: 2 })).to.throw(
      ShapeError,
      /^scatterAdd\(f32\[1,2\], i32\[2\]\): the axis attribute -1 is not in \[0, 1\]\. Fix: build the node with the functional scatterAdd, which normalizes axis\.$/,
    );
  });

  it('verifies in a graph and survives a JSON round trip', () => {
    const g = new Graph('t');
    g.output('y', scatterAdd(g.input('u', [3, 2]), g.input('i', [3], 'i32'), 0, 5));
    verify(g);
    const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    expect(copy.toString()).to.equal(g.toString());
  });
});

describe('gather gradients', () => {
  /** The gradient of sum(gather(table, indices)·c) with respect to the table, c = 1, 2, … */
  function tableGradient(shape: number[], indices: number[] | number[][], axis = 0): number[] {
    const g = new Graph('t');
    const table = g.input('table', shape);
    const y = gather(table, ids(g, indices), axis);
    const weights = g.constant(Array.from({ length: sizeOf(staticShape('test', y.shape)) }, (_, i) => i + 1), { shape: y.shape });
    const [dtable] = grad(sum(mul(y, weights)), [table]);
    return values(dtable!, { feeds: { table: new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0) } });
  }

  it('sum the cotangents of repeated rows, as an embedding gradient does', () => {
    expect(tableGradient([3, 2], [2, 0, 2])).to.deep.equal([3, 4, 0, 0, 1 + 5, 2 + 6]);
    expect(tableGradient([3, 2], [[1, 1], [0, 1]])).to.deep.equal([5, 6, 1 + 3 + 7, 2 + 4 + 8, 0, 0]);
  });

  it('give rows read through negative indices their cotangent, and nothing for out-of-range reads', () => {
    expect(tableGradient([3, 1], [-1, 5, -3, -4])).to.deep.equal([3, 0, 1]);
  });

  it('build a scatterAdd of the cotangent into the table shape, with no gradient for the indices', () => {
    const g = new Graph('t');
    const table = g.input('table', [5, 3]);
    const indices = g.input('ids', [2, 4], 'i32');
    const loss = sum(gather(table, indices, 0));
    const forward = g.nodes.length;
    grad(loss, [table]);
    const scatters = g.nodes.slice(forward).filter((n) => n.op === 'scatterAdd');
    expect(scatters.map((n) => [n.attrs, n.inputs[1], n.shape])).to.deep.equal([[{ axis: 0, size: 5 }, indices.id, [5, 3]]]);
  });

  const cases: [number[], number[] | number[][], number][] = [
    [[4, 3], [3, 0, 3, 1, 0], 0],
    [[4, 3], [[2, 2], [1, -1]], 0],
    [[2, 5, 3], [4, 0, 4], 1],
    [[2, 5, 3], [[1, 2], [2, 1], [0, 0]], -1],
    [[3], [0, 0, 2, 7], 0],
  ];
  for (const [shape, indices, axis] of cases) {
    it(`match finite differences for [${shape}] at ${JSON.stringify(indices)} on axis ${axis}`, () => {
      checkGradients({ inputs: [{ shape }], build: ([x], g) => gather(x!, ids(g, indices), axis) });
    });
  }

  it('of scatterAdd, with respect to the updates, is a gather', () => {
    checkGradients({ inputs: [{ shape: [2, 4, 3] }], build: ([u], g) => scatterAdd(u!, ids(g, [1, -1, 1, 9]), 1, 3) });
    checkGradients({ inputs: [{ shape: [2, 2, 3] }], build: ([u], g) => scatterAdd(u!, ids(g, [[0, 2], [2, 2]]), 0, 4) });
  });

  it('of second order, gather to scatterAdd and back', () => {
    checkGradients({
      inputs: [{ shape: [4, 2] }],
      build: gradientOf(([x], g) => {
        const rows = gather(x!, ids(g, [3, 1, 3]));
        return mul(rows, rows);
      }),
    });
    checkGradients({
      inputs: [{ shape: [3, 2] }],
      build: gradientOf(([u], g) => {
        const table = scatterAdd(u!, ids(g, [1, 1, 0]), 0, 2);
        return mul(table, table);
      }),
    });
  });
});
