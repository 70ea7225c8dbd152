import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import type { AvgPoolOptions, PoolAttrs, PoolOptions } from '../../../compiler/ops/pool.js';
import {
  avgPool1d,
  avgPool2d,
  avgPoolGrad,
  avgPoolGradOp,
  globalAvgPool,
  globalMaxPool,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  maxPoolGather,
  maxPoolGrad,
  maxPoolOp,
} from '../../../compiler/ops/pool.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { verify } from '../../../compiler/verify.js';
import { values } from '../../helpers.js';

/** A constant [1, 1, ...spatial] holding `data` (one image, one channel). */
const image = (g: Graph, data: number[], spatial: number[]): Tensor => g.constant(data, { shape: [1, 1, ...spatial] });
const iota = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

describe('maxPool', () => {
  it('takes the maximum of each window: 2×2 windows tiling a 4×4 image', () => {
    const g = new Graph('t');
    const y = maxPool2d(image(g, iota(16), [4, 4]), { kernelSize: 2 });
    expect(y.shape).to.deep.equal([1, 1, 2, 2]);
    expect(y.node.attrs).to.deep.equal({ kernel: [2, 2], stride: [2, 2], padBefore: [0, 0], padAfter: [0, 0], ceilMode: false });
    expect(values(y)).to.deep.equal([5, 7, 13, 15]);
  });

  it('pools overlapping windows (stride < kernel) of each image and channel separately', () => {
    const g = new Graph('t');
    const x = g.constant([...[1, 5, 2, 0, 3, 4, 9, 1, 2], ...[-1, -2, -3, -4, -5, -6, -7, -8, -9]], { shape: [2, 1, 3, 3] });
    const y = maxPool2d(x, { kernelSize: 2, stride: 1 });
    expect(y.shape).to.deep.equal([2, 1, 2, 2]);
    expect(values(y)).to.deep.equal([5, 5, 9, 4, -1, -2, -4, -5]);
  });

  it('pads with −∞, so padding is never chosen, even over negative inputs', () => {
    const g = new Graph('t');
    const x = image(g, iota(16, -20), [4, 4]);
    // Windows start at −1 and 1 on both axes: rows and columns {0, 1} and {1, 2, 3}.
    const y = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    expect(y.shape).to.deep.equal([1, 1, 2, 2]);
    expect(values(y)).to.deep.equal([-15, -13, -7, -5]);
  });

  it('takes per-axis sizes, and explicit [before, after] pairs mixed with numbers', () => {
    const g = new Graph('t');
    const x = image(g, iota(12), [3, 4]);
    const y = maxPool2d(x, { kernelSize: [1, 2], stride: [2, 1], padding: [0, [1, 0]] });
    expect(y.node.attrs).to.deep.include({ kernel: [1, 2], stride: [2, 1], padBefore: [0, 1], padAfter: [0, 0] });
    expect(y.shape).to.deep.equal([1, 1, 2, 4]);
    expect(values(y)).to.deep.equal([0, 1, 2, 3, 8, 9, 10, 11]);
  });

  it('rounds the window count up in ceil mode, dropping a window that would start in the right padding', () => {
    const g = new Graph('t');
    const x = image(g, [3, 1, 4, 1, 5], [5]);
    expect(values(maxPool1d(x, { kernelSize: 2 }))).to.deep.equal([3, 4]);
    expect(values(maxPool1d(x, { kernelSize: 2, ceilMode: true }))).to.deep.equal([3, 4, 5]);
    // span 5 + 1 + 1 − 3 = 4: ⌈4/3⌉ + 1 = 3 windows, but the third would start at 6 − 1 = 5, past the input.
    const dropped = maxPool1d(x, { kernelSize: 3, stride: 3, padding: 1, ceilMode: true });
    expect(dropped.shape).to.deep.equal([1, 1, 2]);
    expect(values(dropped)).to.deep.equal([3, 5]);
    const kept = maxPool1d(image(g, iota(6), [6]), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    expect(values(kept)).to.deep.equal([1, 3, 5, 5]);
  });

  it('pools 3-D volumes', () => {
    const g = new Graph('t');
    const y = maxPool3d(image(g, iota(27), [3, 3, 3]), { kernelSize: 2, stride: [1, 2, 2] });
    expect(y.shape).to.deep.equal([1, 1, 2, 1, 1]);
    expect(values(y)).to.deep.equal([13, 22]);
  });

  it('propagates NaN (the first NaN of a window) and keeps −∞ inputs', () => {
    const g = new Graph('t');
    const x = image(g, [1, NaN, 3, -Infinity, -Infinity, 2], [6]);
    expect(values(maxPool1d(x, { kernelSize: 2 }))).to.deep.equal([NaN, 3, 2]);
    expect(values(maxPool1d(x, { kernelSize: 2, stride: 1 })).slice(3)).to.deep.equal([-Infinity, 2]);
  });

  it('pools an empty batch to an empty result', () => {
    const g = new Graph('t');
    const y = maxPool2d(g.input('x', [0, 3, 4, 4]), { kernelSize: 2 });
    expect(y.shape).to.deep.equal([0, 3, 2, 2]);
    expect(values(y, { feeds: { x: [] } })).to.deep.equal([]);
  });

  it('is a method of Tensor building the same node', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3, 7, 5]);
    const y = x.maxPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    expect(y.node.op).to.equal('maxPool');
    expect(y.node.attrs).to.deep.equal(maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }).node.attrs);
    expect(y.shape).to.deep.equal([2, 3, 4, 3]);
    expect(x.reshape([2, 3, 35]).maxPool1d({ kernelSize: 4 }).shape).to.deep.equal([2, 3, 8]);
  });
});

describe('avgPool', () => {
  it('averages each window', () => {
    const g = new Graph('t');
    expect(values(avgPool2d(image(g, iota(16), [4, 4]), { kernelSize: 2 }))).to.deep.equal([2.5, 4.5, 10.5, 12.5]);
    expect(values(avgPool1d(image(g, [1, 2, 4, 8, 16], [5]), { kernelSize: 3, stride: 1 }))).to.deep.equal([7 / 3, 14 / 3, 28 / 3].map(Math.fround));
  });

  it('divides by the elements in the window (ONNX default), or by the padded window with countIncludePad (PyTorch default)', () => {
    const g = new Graph('t');
    const x = image(g, [1, 2, 3, 4, 5, 6], [6]);
    const options: AvgPoolOptions = { kernelSize: 3, stride: 2, padding: 1, ceilMode: true };
    expect(avgPool1d(x, options).node.attrs).to.deep.include({ countIncludePad: false });
    // Windows [−1,2) [1,4) [3,6) [5,8); the last hangs past the padding (to 7) by one.
    expect(values(avgPool1d(x, options))).to.deep.equal([1.5, 3, 5, 6]);
    expect(values(avgPool1d(x, { ...options, countIncludePad: true }))).to.deep.equal([1, 3, 5, 3]);
  });

  it('counts padding per axis in 2-D', () => {
    const g = new Graph('t');
    const x = image(g, [1, 2, 3, 4], [2, 2]);
    // One 3×3 window around the image: 4 elements, 9 with padding.
    expect(values(avgPool2d(x, { kernelSize: 3, padding: 1 }))).to.deep.equal([2.5]);
    expect(values(avgPool2d(x, { kernelSize: 3, padding: 1, countIncludePad: true }))).to.deep.equal([Math.fround(10 / 9)]);
    expect(values(avgPool2d(x, { kernelSize: 2, stride: 1, padding: [[1, 0], 0], countIncludePad: true }))).to.deep.equal([0.75, 2.5]);
  });

  it('is a method of Tensor', () => {
    const g = new Graph('t');
    const x = g.input('x', [1, 2, 5]);
    expect(x.avgPool1d({ kernelSize: 2, countIncludePad: true }).node.attrs).to.deep.include({ countIncludePad: true });
    expect(x.reshape([1, 2, 5, 1]).avgPool2d({ kernelSize: [2, 1] }).shape).to.deep.equal([1, 2, 2, 1]);
  });
});

describe('global pooling', () => {
  it('averages or takes the maximum over every spatial axis, keeping them as size 1', () => {
    const g = new Graph('t');
    const x = g.constant([...iota(6), ...[-1, -2, -3, -4, -5, -6]], { shape: [1, 2, 2, 3] });
    const avg = globalAvgPool(x);
    expect(avg.shape).to.deep.equal([1, 2, 1, 1]);
    expect(values(avg)).to.deep.equal([2.5, -3.5]);
    const max = x.globalMaxPool();
    expect(max.shape).to.deep.equal([1, 2, 1, 1]);
    expect(values(max)).to.deep.equal([5, -1]);
    expect(g.input('s', [2, 3, 7]).globalAvgPool().shape).to.deep.equal([2, 3, 1]);
  });

  it('refuses inputs without spatial axes', () => {
    const g = new Graph('t');
    expect(() => globalAvgPool(g.input('x', [2, 3]))).to.throw(
      ShapeError,
      /^globalAvgPool\(f32\[2,3\]\): expects an input \[N, C, spatial…\] of rank ≥ 3, got rank 2\. Fix: reshape the input to \[N, C, H, W\] \(or \[N, C, L\]\)\.$/,
    );
    expect(() => globalMaxPool(g.input('i', [2, 3, 4], 'i32'))).to.throw(DTypeError, /^globalMaxPool\(i32\[2,3,4\]\): the input must be f32, got i32/);
  });
});

describe('the pooling gradient ops', () => {
  it('route each window cotangent to the first maximum of the window (row-major order)', () => {
    const g = new Graph('t');
    const x = image(g, [3, 3, 1, 3], [4]);
    const attrs = maxPool1d(x, { kernelSize: 2, stride: 1 }).node.attrs as PoolAttrs;
    expect(values(maxPoolGrad(x, image(g, [1, 10, 100], [3]), attrs))).to.deep.equal([1, 10, 0, 100]);
    const square = image(g, [5, 5, 5, 5], [2, 2]);
    const all = maxPool2d(square, { kernelSize: 2 }).node.attrs as PoolAttrs;
    expect(values(maxPoolGrad(square, image(g, [7], [1, 1]), all))).to.deep.equal([7, 0, 0, 0]);
    expect(values(maxPoolGather(x, image(g, [10, 20, 30, 40], [4]), attrs))).to.deep.equal([10, 20, 40]);
  });

  it('send a NaN window’s cotangent to its first NaN', () => {
    const g = new Graph('t');
    const x = image(g, [1, NaN, NaN, 0], [4]);
    const attrs = maxPool1d(x, { kernelSize: 4 }).node.attrs as PoolAttrs;
    expect(values(maxPoolGrad(x, image(g, [2], [1]), attrs))).to.deep.equal([0, 2, 0, 0]);
  });

  it('spread an average window’s cotangent evenly, divided by the forward pass’s count', () => {
    const g = new Graph('t');
    const attrs = { kernel: [3], stride: [2], padBefore: [1], padAfter: [1], ceilMode: true, countIncludePad: false, inputSize: [6] };
    const dy = image(g, [6, 6, 6, 6], [4]);
    // Divisors 2, 3, 3, 1 (the input elements of windows [−1,2) [1,4) [3,6) [5,8)).
    expect(values(avgPoolGrad(dy, attrs))).to.deep.equal([3, 5, 2, 4, 2, 8]);
    expect(values(avgPoolGrad(dy, { ...attrs, countIncludePad: true }))).to.deep.equal([2, 4, 2, 4, 2, 5]);
  });

  it('check that dy has the pooled shape', () => {
    const g = new Graph('t');
    const x = g.input('x', [1, 2, 5, 5]);
    const attrs = maxPool2d(x, { kernelSize: 2 }).node.attrs as PoolAttrs;
    expect(() => maxPoolGrad(x, g.input('dy', [1, 2, 3, 3]), attrs)).to.throw(
      ShapeError,
      /^maxPoolGrad\(f32\[1,2,5,5\], f32\[1,2,3,3\]\): dy must be f32\[1,2,2,2\], got f32\[1,2,3,3\]\. Fix: pass the cotangent of maxPool\(x\)'s output\.$/,
    );
    expect(() => maxPoolGather(x, g.input('v', [1, 2, 5, 4]), attrs)).to.throw(ShapeError, /^maxPoolGather\(f32\[1,2,5,5\], f32\[1,2,5,4\]\): the values must be f32\[1,2,5,5\]/);
    const avg = { ...attrs, countIncludePad: false, inputSize: [5, 5] };
    expect(() => avgPoolGrad(g.input('d', [1, 2, 2, 3]), avg)).to.throw(
      ShapeError,
      /^avgPoolGrad\(f32\[1,2,2,3\]\): dy must be f32\[1,2,2,2\], got f32\[1,2,2,3\]\. Fix: pass the cotangent of avgPool over inputs of shape \[1,2,5,5\]\.$/,
    );
    expect(() => g.addNode(avgPoolGradOp, [g.input('e', [1, 2, 2, 2])], { ...avg, inputSize: [5] })).to.throw(
      ArgumentError,
      /^avgPoolGrad\(f32\[1,2,2,2\]\): inputSize \[5\] must hold the pooled input's 2 spatial sizes\. Fix: build the node by differentiating avgPool\.$/,
    );
  });
});

describe('pooling errors', () => {
  const input = (shape: number[], dtype: 'f32' | 'i32' = 'f32'): Tensor => new Graph('t').input('x', shape, dtype);
  const pool2d = (options: PoolOptions): (() => Tensor) => () => maxPool2d(input([2, 3, 5, 6]), options);

  it('name the op and the input when the rank or dtype is wrong', () => {
    expect(() => maxPool2d(input([3, 5, 6]), { kernelSize: 2 })).to.throw(
      ShapeError,
      /^maxPool2d\(f32\[3,5,6\]\): expects a rank-4 input \[N, C, H, W\], got rank 3\. Fix: reshape the input to \[N, C, H, W\] \(x\.unsqueeze\(0\) adds a batch axis of 1\)\.$/,
    );
    expect(() => avgPool1d(input([2, 3, 4, 5]), { kernelSize: 2 })).to.throw(ShapeError, /^avgPool1d\(f32\[2,3,4,5\]\): expects a rank-3 input \[N, C, L\], got rank 4/);
    expect(() => maxPool1d(input([2, 3, 4], 'i32'), { kernelSize: 2 })).to.throw(
      DTypeError,
      /^maxPool1d\(i32\[2,3,4\]\): the input must be f32, got i32\. Fix: cast it with \.cast\('f32'\)\.$/,
    );
  });

  it('refuse a kernel larger than the padded input', () => {
    expect(pool2d({ kernelSize: [3, 7] })).to.throw(
      ShapeError,
      /^maxPool2d\(f32\[2,3,5,6\]\): kernel size 7 on axis 3 \(W\) is larger than the padded input, 6 \+ 0 \+ 0 = 6\. Fix: use a smaller kernelSize, or more padding\.$/,
    );
    expect(pool2d({ kernelSize: [7, 2], padding: [[1, 0], 0] })).to.throw(ShapeError, /kernel size 7 on axis 2 \(H\) is larger than the padded input, 5 \+ 1 \+ 0 = 6/);
  });

  it('refuse padding over half the kernel, as PyTorch does', () => {
    expect(pool2d({ kernelSize: 3, padding: [1, 2] })).to.throw(
      ArgumentError,
      /^maxPool2d\(f32\[2,3,5,6\]\): padding \[2, 2\] on axis 3 \(W\) is more than half the kernel size 3, so a window could hold only padding\. Fix: pad at most 1 on each side of that axis\.$/,
    );
    expect(pool2d({ kernelSize: 2, padding: [[0, 2], 0] })).to.throw(ArgumentError, /padding \[0, 2\] on axis 2 \(H\) is more than half the kernel size 2/);
  });

  it('refuse non-positive sizes and negative or fractional padding', () => {
    expect(pool2d({ kernelSize: [2, 0] })).to.throw(
      ArgumentError,
      /^maxPool2d\(f32\[2,3,5,6\]\): kernelSize must be positive integers, one per spatial axis \(2\), got \[2,0\]\. Fix: pass positive integers\.$/,
    );
    expect(pool2d({ kernelSize: 2, stride: -1 })).to.throw(ArgumentError, /stride must be positive integers, one per spatial axis \(2\), got \[-1,-1\]/);
    expect(pool2d({ kernelSize: 2.5 })).to.throw(ArgumentError, /kernelSize must be positive integers, one per spatial axis \(2\), got \[2\.5,2\.5\]/);
    expect(pool2d({ kernelSize: 3, padding: [[-1, 0], 0] })).to.throw(
      ArgumentError,
      /^maxPool2d\(f32\[2,3,5,6\]\): padding must be non-negative integers, one per spatial axis \(2\), got before \[-1,0\] and after \[0,0\]\. Fix: pass non-negative integers\.$/,
    );
  });

  it('refuse options with the wrong number of entries, or of the wrong kind', () => {
    expect(pool2d({ kernelSize: [2, 2, 2] })).to.throw(
      ArgumentError,
      /^maxPool2d\(f32\[2,3,5,6\]\): kernelSize must be a number or one number per spatial axis, got \[2,2,2\]\. Fix: give 2 entries, one per spatial axis of \[N, C, H, W\]\.$/,
    );
    expect(() => maxPool1d(input([1, 1, 5]), { kernelSize: 3, padding: [1, 1] as unknown as [[number, number]] })).to.throw(
      ArgumentError,
      /^maxPool1d\(f32\[1,1,5\]\): padding must be a number, or one number or \[before, after\] pair per spatial axis, got \[1,1\]\. Fix: give 1 entry, one per spatial axis of \[N, C, L\]; a \[before, after\] pair is one entry, as in \[\[0, 1\]\]\.$/,
    );
    expect(pool2d({ kernelSize: 2, ceilMode: 'yes' as unknown as boolean })).to.throw(ArgumentError, /ceilMode must be a boolean, got yes\. Fix: pass true or false\./);
    expect(() => avgPool2d(input([1, 1, 4, 4]), { kernelSize: 2, countIncludePad: 1 as unknown as boolean })).to.throw(
      ArgumentError,
      /^avgPool2d\(f32\[1,1,4,4\]\): countIncludePad must be a boolean, got 1/,
    );
    expect(() => maxPool2d(input([1, 1, 4, 4]), undefined as unknown as PoolOptions)).to.throw(ArgumentError, /^maxPool2d\(f32\[1,1,4,4\]\): options must be an object/);
    expect(() => maxPool2d([1] as unknown as Tensor, { kernelSize: 2 })).to.throw(ArgumentError, /^maxPool2d: the operand must be a Tensor/);
  });

  it('refuse an empty spatial axis, and bad stored attributes', () => {
    expect(() => maxPool1d(input([1, 1, 0]), { kernelSize: 1 })).to.throw(ShapeError, /^maxPool1d\(f32\[1,1,0\]\): axis 2 \(L\) is empty/);
    const g = new Graph('t');
    const x = g.input('x', [1, 1, 4]);
    const attrs = { kernel: [2], stride: [2], padBefore: [0], padAfter: [0], ceilMode: false };
    expect(() => g.addNode(maxPoolOp, [x], { ...attrs, kernel: [] })).to.throw(
      ArgumentError,
      /^maxPool\(f32\[1,1,4\]\): the kernel attribute \[\] must have 1 to 3 entries \(one per spatial axis\)/,
    );
    expect(() => g.addNode(maxPoolOp, [x], { ...attrs, stride: [2, 2] })).to.throw(ArgumentError, /^maxPool\(f32\[1,1,4\]\): stride must be positive integers, one per spatial axis \(1\), got \[2,2\]/);
  });
});

describe('pooling graphs', () => {
  it('verify and survive a JSON round trip, gradient ops included', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3, 7, 6]);
    const pooled = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    const attrs = pooled.node.attrs as PoolAttrs;
    g.output('max', pooled);
    g.output('avg', avgPool2d(x, { kernelSize: [2, 3], countIncludePad: true }));
    g.output('dx', maxPoolGrad(x, pooled, attrs));
    g.output('picked', maxPoolGather(x, x, attrs));
    g.output('avgGrad', avgPoolGrad(pooled, { ...attrs, countIncludePad: false, inputSize: [7, 6] }));
    verify(g);
    const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    expect(copy.toString()).to.equal(g.toString());
  });
});
