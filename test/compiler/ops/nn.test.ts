import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { logSoftmax, mse, oneHot, oneHotOp, softmax, softmaxCrossEntropy } from '../../../compiler/ops/nn.js';
import { verify } from '../../../compiler/verify.js';
import { expectClose, run, values } from '../../helpers.js';

/** log softmax of one row, by hand in double. */
function logSoftmaxRow(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

describe('nn ops', () => {
  function input(shape: number[], dtype: 'f32' | 'i32' | 'bool' = 'f32') {
    const g = new Graph('t');
    return { g, x: g.input('x', shape, dtype) };
  }

  describe('softmax and logSoftmax', () => {
    it('compute hand-computed values along the last axis by default', () => {
      const { x } = input([2, 3]);
      const feeds = { x: [0, 0, 0, 1, 2, 3] };
      const third = 1 / 3;
      const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
      const z = e[0]! + e[1]! + e[2]!;
      expectClose(values(softmax(x), { feeds, precision: 'f64' }), [third, third, third, e[0]! / z, e[1]! / z, e[2]! / z], 1e-14, 0);
      expectClose(values(logSoftmax(x), { feeds, precision: 'f64' }), [-Math.log(3), -Math.log(3), -Math.log(3), ...logSoftmaxRow([1, 2, 3])], 1e-14, 0);
    });

    it('normalize along another axis, negative or not', () => {
      const { x } = input([2, 2]);
      const feeds = { x: [0, 5, 0, 5] };
      expectClose(values(softmax(x, 0), { feeds }), [0.5, 0.5, 0.5, 0.5]);
      expectClose(values(logSoftmax(x, -2), { feeds }), [-Math.LN2, -Math.LN2, -Math.LN2, -Math.LN2]);
    });

    it('give rows that sum to 1', () => {
      const { x } = input([3, 5]);
      const data = [0.3, -2, 7, 1, 1, 100, 99, -100, 0, 50, -3, -3, -3, -3, -3];
      const out = values(softmax(x), { feeds: { x: data } });
      for (let r = 0; r < 3; r++) expectClose([out.slice(r * 5, r * 5 + 5).reduce((s, v) => s + v, 0)], [1], 1e-6, 1e-6);
    });

    it('stay finite and correct at inputs of ±1e4', () => {
      const { x } = input([2, 2]);
      const feeds = { x: [1e4, -1e4, 1e4, 1e4] };
      // Shifting by the max first keeps full accuracy: no ulp of 1e4 leaks into the result.
      expectClose(values(softmax(x), { feeds, precision: 'f64' }), [1, 0, 0.5, 0.5], 1e-15, 0);
      expectClose(values(logSoftmax(x), { feeds, precision: 'f64' }), [0, -2e4, -Math.LN2, -Math.LN2], 1e-15, 0);
      expectClose(values(softmax(x), { feeds }), [1, 0, 0.5, 0.5], 1e-7, 0);
      expectClose(values(logSoftmax(x), { feeds }), [0, -2e4, -Math.LN2, -Math.LN2], 1e-7, 0);
    });

    it('are single nodes storing a normalized axis', () => {
      const { g, x } = input([2, 3]);
      softmax(x);
      logSoftmax(x, -2);
      verify(g);
      expect(g.nodes.map((n) => n.op)).to.deep.equal(['input', 'softmax', 'logSoftmax']);
      expect(g.nodes[1]!.attrs).to.deep.equal({ axis: 1 });
      expect(g.nodes[2]!.attrs).to.deep.equal({ axis: 0 });
    });

    it('refuse non-float operands and bad axes under their own name', () => {
      const { x } = input([2, 3], 'i32');
      expect(() => softmax(x)).to.throw(DTypeError, /^softmax\(i32\[2,3\]\): the operand must be f32, got i32. Fix: cast with .cast\('f32'\)\.$/);
      expect(() => logSoftmax(x)).to.throw(DTypeError, /^logSoftmax\(i32\[2,3\]\): the operand must be f32/);
      const f = input([2, 3]);
      expect(() => softmax(f.x, 2)).to.throw(ShapeError, /^softmax\(f32\[2,3\]\): axis 2 is out of range for rank 2/);
      expect(() => logSoftmax(f.x, 0.5)).to.throw(ArgumentError, /^logSoftmax: axis must be an integer, got 0.5\.$/);
    });
  });

  describe('oneHot', () => {
    it('encodes i32 indices as f32 rows by default', () => {
      const { x } = input([3], 'i32');
      const h = oneHot(x, 4);
      expect(h.shape).to.deep.equal([3, 4]);
      expect(h.dtype).to.equal('f32');
      expect(h.node.op).to.equal('oneHot');
      expect(h.node.attrs).to.deep.equal({ depth: 4, dtype: 'f32', axis: 1 });
      expect(values(h, { feeds: { x: [2, 0, 3] } })).to.deep.equal([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    });

    it('gives an all-zero row for out-of-range and negative indices', () => {
      const { x } = input([3], 'i32');
      expect(values(oneHot(x, 2), { feeds: { x: [-1, 2, 1] } })).to.deep.equal([0, 0, 0, 0, 0, 1]);
    });

    it('makes i32 output and puts the new axis where asked', () => {
      const { x } = input([2, 2], 'i32');
      const feeds = { x: [0, 1, 2, 0] };
      const h = oneHot(x, 3, { dtype: 'i32', axis: 1 });
      expect(h.shape).to.deep.equal([2, 3, 2]);
      expect(h.dtype).to.equal('i32');
      expect(run(h, { feeds }).data).to.be.instanceOf(Int32Array);
      // h[i, c, j] = 1 where x[i, j] = c.
      expect(values(h, { feeds })).to.deep.equal([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0]);
      const first = oneHot(x, 3, { axis: 0 });
      expect(first.shape).to.deep.equal([3, 2, 2]);
      expect(values(first, { feeds })).to.deep.equal([1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0]);
      expect(oneHot(x, 3, { axis: -3 }).node.attrs).to.deep.equal({ depth: 3, dtype: 'f32', axis: 0 });
    });

    it('turns a scalar index into a vector, and empty indices into empty rows', () => {
      const { x } = input([], 'i32');
      expect(values(oneHot(x, 3), { feeds: { x: [1] } })).to.deep.equal([0, 1, 0]);
      const e = input([0], 'i32');
      expect(oneHot(e.x, 3).shape).to.deep.equal([0, 3]);
      expect(values(oneHot(e.x, 3), { feeds: { x: [] } })).to.deep.equal([]);
    });

    it('refuses non-i32 indices, bad depths, dtypes and axes', () => {
      const f = input([3]);
      expect(() => oneHot(f.x, 3)).to.throw(
        DTypeError,
        /^oneHot\(f32\[3\]\): indices must be i32, got f32. Fix: pass class indices as i32 \(declare the input with dtype 'i32', or .cast\('i32'\)\)\.$/,
      );
      const { g, x } = input([3], 'i32');
      expect(() => oneHot(x, 2.5)).to.throw(ArgumentError, /^oneHot\(i32\[3\]\): depth must be a positive integer, got 2.5. Fix: pass the number of classes\.$/);
      expect(() => oneHot(x, 0)).to.throw(ArgumentError, /depth must be a positive integer, got 0/);
      expect(() => oneHot(x, 3, { dtype: 'f16' as 'f32' })).to.throw(ArgumentError, /^oneHot\(i32\[3\]\): dtype must be 'f32', 'i32' or 'bool', got 'f16'/);
      expect(() => oneHot(x, 3, { axis: 2 })).to.throw(ShapeError, /^oneHot\(i32\[3\]\): axis 2 is out of range for rank 2/);
      expect(() => oneHot(x, 3, { axis: 0.5 })).to.throw(ArgumentError, /^oneHot: axis must be an integer, got 0.5\.$/);
      expect(() => g.addNode(oneHotOp, [x], { depth: 3, dtype: 'f32', axis: -1 })).to.throw(
        ArgumentError,
        /^oneHot\(i32\[3\]\): the axis attribute -1 is not in \[0, 1\]. Fix: build the node with the functional oneHot, which normalizes axis\.$/,
      );
    });
  });

  describe('softmaxCrossEntropy', () => {
    function problem(logitShape: number[], labelShape: number[]) {
      const g = new Graph('t');
      return { g, logits: g.input('logits', logitShape), labels: g.input('labels', labelShape, 'i32') };
    }

    it('equals −log softmax[label], computed by hand, averaged by default', () => {
      const { logits, labels } = problem([2, 3], [2]);
      const rows = [
        [1, 2, 3],
        [0.5, -1, 0],
      ];
      const feeds = { logits: rows.flat(), labels: [0, 2] };
      const perExample = [-logSoftmaxRow(rows[0]!)[0]!, -logSoftmaxRow(rows[1]!)[2]!];
      const none = softmaxCrossEntropy(logits, labels, { reduction: 'none' });
      expect(none.shape).to.deep.equal([2]);
      expectClose(values(none, { feeds, precision: 'f64' }), perExample, 1e-14, 0);
      const mean = softmaxCrossEntropy(logits, labels);
      expect(mean.shape).to.deep.equal([]);
      expectClose(values(mean, { feeds, precision: 'f64' }), [(perExample[0]! + perExample[1]!) / 2], 1e-14, 0);
      expectClose(values(softmaxCrossEntropy(logits, labels, { reduction: 'sum' }), { feeds, precision: 'f64' }), [perExample[0]! + perExample[1]!], 1e-14, 0);
    });

    it('stays finite and correct at logits of ±1e4', () => {
      const { logits, labels } = problem([3, 2], [3]);
      const feeds = { logits: [1e4, -1e4, 1e4, -1e4, 1e4, 1e4], labels: [0, 1, 1] };
      const loss = softmaxCrossEntropy(logits, labels, { reduction: 'none' });
      expectClose(values(loss, { feeds, precision: 'f64' }), [0, 2e4, Math.LN2], 1e-15, 0);
      expectClose(values(loss, { feeds }), [0, 2e4, Math.LN2], 1e-7, 0);
    });

    it('takes batch dims of any rank, and a single example', () => {
      const { logits, labels } = problem([2, 1, 2], [2, 1]);
      const none = softmaxCrossEntropy(logits, labels, { reduction: 'none' });
      expect(none.shape).to.deep.equal([2, 1]);
      expectClose(values(none, { feeds: { logits: [0, 0, 3, 3], labels: [1, 0] } }), [Math.LN2, Math.LN2]);
      const single = problem([3], []);
      const loss = softmaxCrossEntropy(single.logits, single.labels);
      expect(loss.shape).to.deep.equal([]);
      expectClose(values(loss, { feeds: { logits: [0, 0, 0], labels: [2] } }), [Math.log(3)]);
    });

    it('costs nothing for a label outside [0, C), which picks no class', () => {
      const { logits, labels } = problem([1, 2], [1]);
      expectClose(values(softmaxCrossEntropy(logits, labels), { feeds: { logits: [0, 0], labels: [5] } }), [0]);
    });

    it('ignores a masked class with logit −∞ unless it is the label', () => {
      const { logits, labels } = problem([2, 3], [2]);
      const loss = softmaxCrossEntropy(logits, labels, { reduction: 'none' });
      const out = values(loss, { feeds: { logits: [0, 0, -Infinity, 0, 0, -Infinity], labels: [1, 2] }, precision: 'f64' });
      expectClose(out, [Math.LN2, Infinity]);
    });

    it('is built from a bool one-hot mask, logSoftmax, where, sum, neg and mean', () => {
      const { g, logits, labels } = problem([2, 3], [2]);
      softmaxCrossEntropy(logits, labels);
      verify(g);
      expect(g.nodes.slice(2).map((n) => n.op)).to.deep.equal(['oneHot', 'logSoftmax', 'const', 'where', 'sum', 'neg', 'mean']);
    });

    it('says labels are class indices when their shape does not fit', () => {
      const { logits, labels } = problem([2, 3], [2, 3]);
      expect(() => softmaxCrossEntropy(logits, labels)).to.throw(
        ShapeError,
        /^softmaxCrossEntropy\(f32\[2,3\], i32\[2,3\]\): labels must have the logits' shape without the class axis, \[2\], got \[2,3\]. Fix: labels are class indices \(one i32 per example\), not one-hot rows; pass argmax of one-hot labels, or squeeze a trailing 1\.$/,
      );
      const scalar = problem([], []);
      expect(() => softmaxCrossEntropy(scalar.logits, scalar.labels)).to.throw(
        ShapeError,
        /^softmaxCrossEntropy\(f32\[\], i32\[\]\): logits must have a class axis \(the last\). Fix: pass logits of shape \[\.\.\., classes\]\.$/,
      );
    });

    it('refuses non-i32 labels and non-f32 logits with the fix', () => {
      const g = new Graph('t');
      const logits = g.input('logits', [2, 3]);
      const floatLabels = g.input('labels', [2]);
      expect(() => softmaxCrossEntropy(logits, floatLabels)).to.throw(
        DTypeError,
        /^softmaxCrossEntropy\(f32\[2,3\], f32\[2\]\): labels must be i32 class indices, got f32. Fix: declare the labels input with dtype 'i32', or .cast\('i32'\)\.$/,
      );
      const intLogits = g.input('z', [2, 3], 'i32');
      const labels = g.input('y', [2], 'i32');
      expect(() => softmaxCrossEntropy(intLogits, labels)).to.throw(
        DTypeError,
        /^softmaxCrossEntropy\(i32\[2,3\], i32\[2\]\): logits must be f32, got i32. Fix: cast with .cast\('f32'\)\.$/,
      );
    });

    it('refuses an unknown reduction before building any node', () => {
      const { g, logits, labels } = problem([2, 3], [2]);
      const before = g.nodes.length;
      expect(() => softmaxCrossEntropy(logits, labels, { reduction: 'avg' as 'mean' })).to.throw(
        ArgumentError,
        /^softmaxCrossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'\.$/,
      );
      expect(g.nodes.length).to.equal(before);
    });
  });

  describe('mse', () => {
    function pair(shapeP: number[], shapeT: number[]) {
      const g = new Graph('t');
      return { g, p: g.input('p', shapeP), t: g.input('t', shapeT) };
    }

    it('averages squared differences by default, or sums, or keeps them', () => {
      const { p, t } = pair([2, 2], [2, 2]);
      const feeds = { p: [1, 2, 3, 4], t: [0, 4, 3, 1] };
      expect(values(mse(p, t), { feeds })).to.deep.equal([(1 + 4 + 0 + 9) / 4]);
      expect(values(mse(p, t, { reduction: 'sum' }), { feeds })).to.deep.equal([14]);
      const none = mse(p, t, { reduction: 'none' });
      expect(none.shape).to.deep.equal([2, 2]);
      expect(values(none, { feeds })).to.deep.equal([1, 4, 0, 9]);
    });

    it('handles scalars', () => {
      const { p, t } = pair([], []);
      expect(values(mse(p, t), { feeds: { p: [3], t: [1] } })).to.deep.equal([4]);
    });

    it('refuses different shapes instead of broadcasting them', () => {
      const { p, t } = pair([4, 1], [4]);
      expect(() => mse(p, t)).to.throw(
        ShapeError,
        /^mse\(f32\[4,1\], f32\[4\]\): prediction and target have different shapes. Fix: reshape one to match the other \(e.g. squeeze a trailing 1\); mse does not broadcast, as that usually hides a bug\.$/,
      );
    });

    it('refuses non-f32 operands and an unknown reduction', () => {
      const g = new Graph('t');
      const p = g.input('p', [2]);
      const t = g.input('t', [2], 'i32');
      expect(() => mse(p, t)).to.throw(DTypeError, /^mse\(f32\[2\], i32\[2\]\): prediction and target must be f32, got f32 and i32. Fix: cast with .cast\('f32'\)\.$/);
      expect(() => mse(p, p, { reduction: 'max' as 'sum' })).to.throw(ArgumentError, /^mse: reduction must be 'mean', 'sum' or 'none', got 'max'\.$/);
    });
  });
});
