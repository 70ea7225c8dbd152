import { expect } from 'chai';
import { ArgumentError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import {
  broadcastTo,
  broadcastToOp,
  expand,
  permute,
  reshape,
  reshapeOp,
  squeeze,
  transpose,
  transposeOp,
  unsqueeze,
} from '../../../compiler/ops/shape.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { run, values } from '../../helpers.js';

const iota = (g: Graph, shape: number[]): Tensor =>
  g.constant(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    { shape },
  );

describe('reshape', () => {
  it('keeps the elements in row-major order under the new shape', () => {
    const g = new Graph('t');
    const y = reshape(g.constant([[1, 2, 3], [4, 5, 6]]), [3, 2]);
    expect(y.shape).to.deep.equal([3, 2]);
    expect(y.node.attrs).to.deep.equal({ shape: [3, 2] });
    expect(values(y)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('infers one -1 dimension and stores the resolved shape', () => {
    const g = new Graph('t');
    const x = iota(g, [2, 3, 4]);
    expect(reshape(x, [-1]).shape).to.deep.equal([24]);
    expect(reshape(x, [4, -1]).node.attrs).to.deep.equal({ shape: [4, 6] });
    expect(reshape(x, [2, -1, 3]).shape).to.deep.equal([2, 4, 3]);
  });

  it('turns a scalar into size-1 axes and back', () => {
    const g = new Graph('t');
    const s = g.constant(7);
    const up = reshape(s, [1, 1]);
    expect(up.shape).to.deep.equal([1, 1]);
    expect(reshape(s, [-1]).shape).to.deep.equal([1]);
    const down = reshape(up, []);
    expect(down.shape).to.deep.equal([]);
    expect(values(down)).to.deep.equal([7]);
  });

  it('reshapes empty tensors, inferring -1 when the other dimensions are non-zero', () => {
    const g = new Graph('t');
    const x = g.input('x', [0, 3]);
    expect(reshape(x, [3, 0]).shape).to.deep.equal([3, 0]);
    expect(reshape(x, [-1, 3]).shape).to.deep.equal([0, 3]);
    expect(values(reshape(x, [3, 0]), { feeds: { x: [] } })).to.deep.equal([]);
  });

  it('keeps i32 and bool data and their dtype', () => {
    const g = new Graph('t');
    const i = reshape(g.constant([[1, -2], [3, 4]], { dtype: 'i32' }), [4]);
    const b = reshape(g.constant([1, 0, 1, 1], { dtype: 'bool' }), [2, 2]);
    expect(run(i).data).to.be.instanceOf(Int32Array);
    expect(values(i)).to.deep.equal([1, -2, 3, 4]);
    expect(b.dtype).to.equal('bool');
    expect(values(b)).to.deep.equal([1, 0, 1, 1]);
  });

  it('copies floats exactly in f64 precision', () => {
    const g = new Graph('t');
    const y = reshape(g.input('x', [2, 2]), [4]);
    const out = run(y, { feeds: { x: [0.1, 0.2, 0.3, 1e-300] }, precision: 'f64' });
    expect(out.data).to.be.instanceOf(Float64Array);
    expect(Array.from(out.data)).to.deep.equal([0.1, 0.2, 0.3, 1e-300]);
  });

  it('rejects a shape with a different element count, naming both shapes and counts', () => {
    const g = new Graph('t');
    const x = iota(g, [2, 3]);
    expect(() => reshape(x, [4, 2])).to.throw(
      ShapeError,
      /^reshape\(f32\[2,3\]\): shape \[2,3\] \(6 elements\) cannot be reshaped to \[4,2\] \(8 elements\)\. Fix: give a shape with the same number of elements/,
    );
  });

  it('rejects a -1 that does not divide the element count', () => {
    const g = new Graph('t');
    expect(() => reshape(iota(g, [2, 3]), [4, -1])).to.throw(
      ShapeError,
      /shape \[2,3\] \(6 elements\) cannot be reshaped to \[4,-1\]: 6 is not a multiple of 4/,
    );
  });

  it('rejects a -1 that is ambiguous because the other dimensions are 0', () => {
    const g = new Graph('t');
    expect(() => reshape(g.input('x', [0, 3]), [-1, 0])).to.throw(ShapeError, /the -1 in \[-1,0\] is ambiguous/);
  });

  it('rejects two -1s, sizes below -1, fractions and non-arrays as argument errors', () => {
    const g = new Graph('t');
    const x = iota(g, [2, 3]);
    expect(() => reshape(x, [-1, -1])).to.throw(ArgumentError, /has more than one -1; only one dimension can be inferred/);
    expect(() => reshape(x, [-2, -3])).to.throw(ArgumentError, /bad dimension -2; use non-negative sizes and at most one -1/);
    expect(() => reshape(x, [1.5, 4])).to.throw(ArgumentError, /reshape: each dimension of the shape must be an integer, got 1.5/);
    expect(() => reshape(x, 6 as unknown as number[])).to.throw(ArgumentError, /reshape: shape must be an array of integers and dim names, got number/);
    expect(() => reshape(6 as unknown as Tensor, [6])).to.throw(ArgumentError, /reshape: the operand must be a Tensor, got number/);
  });

  it('re-checks stored attributes in its shape rule', () => {
    const g = new Graph('t');
    const x = iota(g, [2, 3]);
    expect(() => g.addNode(reshapeOp, [x], { shape: [5] })).to.throw(ShapeError, /cannot be reshaped to \[5\]/);
    expect(() => g.addNode(reshapeOp, [x], { shape: [-1] })).to.throw(ArgumentError, /bad dimension -1/);
  });
});

describe('transpose', () => {
  it('reverses the axes by default', () => {
    const g = new Graph('t');
    const y = transpose(g.constant([[1, 2, 3], [4, 5, 6]]));
    expect(y.shape).to.deep.equal([3, 2]);
    expect(y.node.attrs).to.deep.equal({ perm: [1, 0] });
    expect(values(y)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    expect(transpose(iota(g, [2, 3, 4])).shape).to.deep.equal([4, 3, 2]);
  });

  it('moves output axis i from input axis perm[i]', () => {
    const g = new Graph('t');
    // out[i,j,k] = x[k,i,j] = 12k + 4i + j
    const y = transpose(iota(g, [2, 3, 4]), [1, 2, 0]);
    expect(y.shape).to.deep.equal([3, 4, 2]);
    expect(values(y)).to.deep.equal([
      0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23,
    ]);
  });

  it('normalizes negative axes in perm', () => {
    const g = new Graph('t');
    const y = transpose(iota(g, [2, 3, 4]), [-1, 0, -2]);
    expect(y.node.attrs).to.deep.equal({ perm: [2, 0, 1] });
    expect(y.shape).to.deep.equal([4, 2, 3]);
  });

  it('leaves scalars, vectors and empty tensors shaped as expected', () => {
    const g = new Graph('t');
    const s = transpose(g.constant(5));
    expect(s.shape).to.deep.equal([]);
    expect(values(s)).to.deep.equal([5]);
    expect(values(transpose(g.constant([1, 2, 3])))).to.deep.equal([1, 2, 3]);
    const e = transpose(g.input('e', [0, 2]));
    expect(e.shape).to.deep.equal([2, 0]);
    expect(values(e, { feeds: { e: [] } })).to.deep.equal([]);
  });

  it('permutes size-1 axes and i32 data in f64 precision', () => {
    const g = new Graph('t');
    const x = g.constant([[[1], [2], [3]]], { dtype: 'i32' });
    const y = transpose(x, [2, 1, 0]);
    expect(y.shape).to.deep.equal([1, 3, 1]);
    expect(values(y, { precision: 'f64' })).to.deep.equal([1, 2, 3]);
    const f = transpose(g.input('f', [2, 2]));
    expect(values(f, { feeds: { f: [0.1, 0.2, 0.3, 0.4] }, precision: 'f64' })).to.deep.equal([0.1, 0.3, 0.2, 0.4]);
  });

  it('rejects a perm that is not a permutation of the axes', () => {
    const g = new Graph('t');
    const x = iota(g, [2, 3]);
    const wrong = /^transpose\(f32\[2,3\]\): perm \[.*\] is not a permutation of the 2 axes\. Fix: list each axis of 0\.\.1 exactly once\.$/;
    expect(() => transpose(x, [0])).to.throw(ShapeError, wrong);
    expect(() => transpose(x, [0, 0])).to.throw(ShapeError, wrong);
    expect(() => transpose(x, [0, 2])).to.throw(ShapeError, wrong);
    expect(() => transpose(x, [1, -1])).to.throw(ShapeError, wrong);
    expect(() => transpose(x, [0, -3])).to.throw(ShapeError, wrong);
    expect(() => transpose(g.constant(1), [0])).to.throw(ShapeError, /a scalar has no axes to permute; pass perm \[\]/);
    expect(() => transpose(x, [0, 0.5])).to.throw(ArgumentError, /transpose: each axis of perm must be an integer, got 0.5/);
  });

  it('re-checks stored attributes in its shape rule', () => {
    const g = new Graph('t');
    expect(() => g.addNode(transposeOp, [iota(g, [2, 3])], { perm: [-1, 0] })).to.throw(ShapeError, /not a permutation/);
  });
});

describe('permute', () => {
  it('is transpose with a required perm', () => {
    const g = new Graph('t');
    const y = permute(iota(g, [2, 3, 4]), [0, 2, 1]);
    expect(y.node.op).to.equal('transpose');
    expect(y.shape).to.deep.equal([2, 4, 3]);
    expect(() => permute(iota(g, [2]), undefined as unknown as number[])).to.throw(ArgumentError, /permute: perm is required/);
  });
});

describe('broadcastTo', () => {
  it('repeats a vector along a new leading axis', () => {
    const g = new Graph('t');
    const y = broadcastTo(g.constant([1, 2, 3]), [2, 3]);
    expect(y.node.attrs).to.deep.equal({ shape: [2, 3] });
    expect(values(y)).to.deep.equal([1, 2, 3, 1, 2, 3]);
  });

  it('grows size-1 axes in the middle and at the end', () => {
    const g = new Graph('t');
    expect(values(broadcastTo(g.constant([[1], [2]]), [2, 3]))).to.deep.equal([1, 1, 1, 2, 2, 2]);
    expect(values(broadcastTo(g.constant([[1, 2]]), [2, 2, 2]))).to.deep.equal([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('splats a scalar, keeps an equal shape and can grow a size-1 axis to 0', () => {
    const g = new Graph('t');
    expect(values(broadcastTo(g.constant(4, { dtype: 'i32' }), [2, 2]))).to.deep.equal([4, 4, 4, 4]);
    expect(values(broadcastTo(g.constant([1, 2]), [2]))).to.deep.equal([1, 2]);
    const empty = broadcastTo(g.constant([1]), [0]);
    expect(empty.shape).to.deep.equal([0]);
    expect(values(empty)).to.deep.equal([]);
  });

  it('keeps f64 values exact', () => {
    const g = new Graph('t');
    const y = broadcastTo(g.input('x', [2, 1]), [2, 2]);
    expect(values(y, { feeds: { x: [0.1, 0.7] }, precision: 'f64' })).to.deep.equal([0.1, 0.1, 0.7, 0.7]);
  });

  it('rejects an axis that is neither 1 nor the target size, naming both shapes', () => {
    const g = new Graph('t');
    expect(() => broadcastTo(iota(g, [2, 3]), [4, 3])).to.throw(
      ShapeError,
      /^broadcastTo\(f32\[2,3\]\): shape \[2,3\] cannot be broadcast to \[4,3\]: operand axis 0 has size 2 but the target has 4 there\. Fix: only size-1 axes can grow/,
    );
  });

  it('rejects a target with fewer axes than the operand', () => {
    const g = new Graph('t');
    expect(() => broadcastTo(iota(g, [2, 3]), [3])).to.throw(
      ShapeError,
      /shape \[2,3\] cannot be broadcast to \[3\]: the target has fewer axes \(1\) than the operand \(2\)/,
    );
  });

  it('rejects a target shape with negative or fractional sizes', () => {
    const g = new Graph('t');
    expect(() => broadcastTo(iota(g, [3]), [-1, 3])).to.throw(ArgumentError, /broadcastTo: target shape \[-1,3\] has a bad dimension -1/);
    expect(() => broadcastTo(iota(g, [3]), [1.5, 3])).to.throw(ArgumentError, /bad dimension 1.5/);
    expect(() => g.addNode(broadcastToOp, [iota(g, [3])], { shape: [2, 4] })).to.throw(ShapeError, /cannot be broadcast to \[2,4\]/);
  });
});

describe('expand', () => {
  it('keeps the operand size where the target says -1', () => {
    const g = new Graph('t');
    const y = expand(g.constant([[1], [2], [3]]), [-1, 2]);
    expect(y.node.op).to.equal('broadcastTo');
    expect(y.node.attrs).to.deep.equal({ shape: [3, 2] });
    expect(values(y)).to.deep.equal([1, 1, 2, 2, 3, 3]);
    expect(expand(g.constant([1, 2, 3]), [2, -1]).shape).to.deep.equal([2, 3]);
  });

  it('rejects -1 on a new leading axis', () => {
    const g = new Graph('t');
    expect(() => expand(iota(g, [3]), [-1, 3])).to.throw(
      ShapeError,
      /^expand\(f32\[3\]\): the -1 at position 0 of \[-1,3\] is a new leading axis, which has no size to keep/,
    );
  });

  it('rejects sizes below -1 and fractions, and passes broadcast errors on', () => {
    const g = new Graph('t');
    expect(() => expand(iota(g, [3]), [-2])).to.throw(ArgumentError, /expand: shape \[-2\] has a bad dimension -2/);
    expect(() => expand(iota(g, [3]), [0.5])).to.throw(ArgumentError, /must be an integer, got 0.5/);
    expect(() => expand(iota(g, [3]), [2, 4])).to.throw(ShapeError, /cannot be broadcast to \[2,4\]/);
  });
});

describe('squeeze', () => {
  it('removes every size-1 axis by default, with a reshape', () => {
    const g = new Graph('t');
    const y = squeeze(g.constant([[[1], [2], [3]]]));
    expect(y.node.op).to.equal('reshape');
    expect(y.shape).to.deep.equal([3]);
    expect(values(y)).to.deep.equal([1, 2, 3]);
  });

  it('removes only the named axes, negative counting from the end', () => {
    const g = new Graph('t');
    const x = iota(g, [1, 3, 1]);
    expect(squeeze(x, 0).shape).to.deep.equal([3, 1]);
    expect(squeeze(x, -1).shape).to.deep.equal([1, 3]);
    expect(squeeze(x, [2, 0]).shape).to.deep.equal([3]);
  });

  it('handles scalars, shapes without size-1 axes and empty tensors', () => {
    const g = new Graph('t');
    expect(squeeze(g.constant(2)).shape).to.deep.equal([]);
    expect(squeeze(iota(g, [2, 3])).shape).to.deep.equal([2, 3]);
    expect(squeeze(g.input('e', [1, 0])).shape).to.deep.equal([0]);
    expect(squeeze(iota(g, [1, 1])).shape).to.deep.equal([]);
  });

  it('rejects naming an axis whose size is not 1', () => {
    const g = new Graph('t');
    expect(() => squeeze(iota(g, [1, 3]), 1)).to.throw(
      ShapeError,
      /^squeeze\(f32\[1,3\]\): axis 1 has size 3, not 1\. Fix: squeeze only size-1 axes/,
    );
  });

  it('rejects axes out of range or repeated', () => {
    const g = new Graph('t');
    expect(() => squeeze(iota(g, [1, 3, 1]), 3)).to.throw(ShapeError, /axis 3 is out of range for rank 3/);
    expect(() => squeeze(iota(g, [1, 3, 1]), [0, -3])).to.throw(ShapeError, /axes \[0,-3\] name the same axis twice/);
  });
});

describe('unsqueeze', () => {
  it('inserts size-1 axes at output positions, negative counting from the output end', () => {
    const g = new Graph('t');
    const x = g.constant([1, 2, 3]);
    expect(unsqueeze(x, 0).shape).to.deep.equal([1, 3]);
    expect(unsqueeze(x, -1).shape).to.deep.equal([3, 1]);
    expect(unsqueeze(x, [0, 2]).shape).to.deep.equal([1, 3, 1]);
    expect(unsqueeze(x, [-1, 0]).shape).to.deep.equal([1, 3, 1]);
    expect(unsqueeze(iota(g, [2, 3]), 1).shape).to.deep.equal([2, 1, 3]);
    const y = unsqueeze(x, 1);
    expect(y.node.op).to.equal('reshape');
    expect(values(y)).to.deep.equal([1, 2, 3]);
  });

  it('turns a scalar into a vector and keeps empty tensors empty', () => {
    const g = new Graph('t');
    expect(unsqueeze(g.constant(9), 0).shape).to.deep.equal([1]);
    expect(unsqueeze(g.constant(9), [0, 1]).shape).to.deep.equal([1, 1]);
    expect(unsqueeze(g.input('e', [0]), 0).shape).to.deep.equal([1, 0]);
  });

  it('rejects axes beyond the output rank, repeats and fractions', () => {
    const g = new Graph('t');
    const x = iota(g, [3]);
    expect(() => unsqueeze(x, 2)).to.throw(ShapeError, /^unsqueeze\(f32\[3\]\): axis 2 is out of range for rank 2/);
    expect(() => unsqueeze(x, [0, 0])).to.throw(ShapeError, /axes \[0,0\] name the same axis twice/);
    expect(() => unsqueeze(x, 0.5)).to.throw(ArgumentError, /unsqueeze: each axis must be an integer, got 0.5/);
  });
});

describe('shape ops in a graph', () => {
  it('store canonical attributes that verify and survive a JSON round trip', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3, 1]);
    const y = broadcastTo(transpose(squeeze(reshape(x, [3, -1, 1])), [-1, 0]), [4, 2, 3]);
    g.output('y', unsqueeze(y, -1));
    verify(g);
    const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    expect(copy.toString()).to.equal(g.toString());
  });
});
