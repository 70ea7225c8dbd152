import { expect } from 'chai';
import { ArgumentError, DTypeError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { conv1d, conv2d, convTranspose1d, convTranspose2d, convWeightGrad1d, convWeightGrad2d } from '../../../compiler/ops/conv.js';
import type { ConvOptions } from '../../../compiler/ops/conv.js';
import { mul } from '../../../compiler/ops/binary.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { verify } from '../../../compiler/verify.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, testData, values } from '../../helpers.js';
import { gradientOf } from './second-order.js';

interface Naive {
  stride: [number, number];
  padding: [[number, number], [number, number]];
  dilation: [number, number];
  groups: number;
}

/**
 * conv2d written out from its definition, independently of the op: the input copied into
 * a zero-padded buffer, then every output a plain sum over its group's channels and taps.
 */
function naiveConv2d(x: number[], xShape: number[], w: number[], wShape: number[], o: Naive): { data: number[]; shape: number[] } {
  const [n, cin, h, wd] = xShape as [number, number, number, number];
  const [cout, cig, kh, kw] = wShape as [number, number, number, number];
  const [[top, bottom], [left, right]] = o.padding;
  const ph = h + top + bottom;
  const pw = wd + left + right;
  const padded = (b: number, c: number, i: number, j: number): number => {
    const [r, s] = [i - top, j - left];
    return r < 0 || r >= h || s < 0 || s >= wd ? 0 : x[((b * cin + c) * h + r) * wd + s]!;
  };
  const oh = Math.floor((ph - o.dilation[0] * (kh - 1) - 1) / o.stride[0]) + 1;
  const ow = Math.floor((pw - o.dilation[1] * (kw - 1) - 1) / o.stride[1]) + 1;
  const data: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const group = Math.floor(co / (cout / o.groups));
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let total = 0;
          for (let c = 0; c < cig; c++) {
            for (let a = 0; a < kh; a++) {
              for (let e = 0; e < kw; e++) {
                total += padded(b, group * cig + c, i * o.stride[0] + a * o.dilation[0], j * o.stride[1] + e * o.dilation[1]) * w[((co * cig + c) * kh + a) * kw + e]!;
              }
            }
          }
          data.push(total);
        }
      }
    }
  }
  return { data, shape: [n, cout, oh, ow] };
}

const feedsOf = (shapes: Record<string, number[]>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(shapes).map(([name, shape], k) => [name, testData(shape.reduce((a, b) => a * b, 1), 11 + k)]));

describe('conv2d', () => {
  it('cross-correlates a hand-computed case: valid, then padded and strided', () => {
    const g = new Graph('t');
    const x = g.constant([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
    const w = g.constant([1, 0, 0, -1], { shape: [1, 1, 2, 2] });
    expect(conv2d(x, w).shape).to.deep.equal([1, 1, 2, 2]);
    expect(values(conv2d(x, w))).to.deep.equal([-4, -4, -4, -4]);
    // Padded by 1 and strided by 2: windows start at rows/columns −1 and 1.
    const padded = conv2d(x, w, { padding: 1, stride: 2 });
    expect(padded.shape).to.deep.equal([1, 1, 2, 2]);
    expect(values(padded)).to.deep.equal([-1, -3, -7, 5 - 9]);
  });

  const cases: { name: string; x: number[]; w: number[]; options: ConvOptions; naive: Naive }[] = [
    { name: 'plain', x: [2, 3, 6, 5], w: [4, 3, 3, 2], options: {}, naive: { stride: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 } },
    {
      name: 'stride 2 with uneven padding',
      x: [1, 2, 7, 6],
      w: [3, 2, 3, 3],
      options: { stride: 2, padding: [[1, 0], [2, 1]] },
      naive: { stride: [2, 2], padding: [[1, 0], [2, 1]], dilation: [1, 1], groups: 1 },
    },
    {
      name: 'dilation 2 with per-axis padding',
      x: [1, 2, 7, 8],
      w: [2, 2, 3, 2],
      options: { dilation: [2, 3], padding: [1, 2] },
      naive: { stride: [1, 1], padding: [[1, 1], [2, 2]], dilation: [2, 3], groups: 1 },
    },
    { name: 'groups 2', x: [2, 4, 5, 5], w: [6, 2, 2, 3], options: { groups: 2, stride: [1, 2] }, naive: { stride: [1, 2], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 2 } },
    { name: 'depthwise', x: [1, 3, 5, 4], w: [3, 1, 3, 3], options: { groups: 3, padding: 1 }, naive: { stride: [1, 1], padding: [[1, 1], [1, 1]], dilation: [1, 1], groups: 3 } },
  ];
  for (const c of cases) {
    it(`matches the definition written out naively: ${c.name}`, () => {
      const g = new Graph('t');
      const feeds = feedsOf({ x: c.x, w: c.w });
      const y = conv2d(g.input('x', c.x), g.input('w', c.w), c.options);
      const expected = naiveConv2d(feeds['x']!, c.x, feeds['w']!, c.w, c.naive);
      expect(y.shape).to.deep.equal(expected.shape);
      expectClose(values(y, { feeds, precision: 'f64' }), expected.data, 1e-12, 1e-12);
    });
  }

  it("resolves padding 'same' as ONNX SAME_UPPER: ceil(size / stride) outputs, the odd padding at the end", () => {
    const g = new Graph('t');
    const w = g.input('w', [1, 1, 3, 3]);
    expect(conv2d(g.input('a', [1, 1, 7, 6]), w, { padding: 'same' }).shape).to.deep.equal([1, 1, 7, 6]);
    const strided = conv2d(g.input('b', [1, 1, 7, 8]), w, { padding: 'same', stride: 2 });
    expect(strided.shape).to.deep.equal([1, 1, 4, 4]);
    expect(strided.node.attrs['padding']).to.deep.equal([
      [1, 1],
      [0, 1],
    ]);
    const dilated = conv2d(g.input('c', [1, 1, 5, 5]), w, { padding: 'same', dilation: 2 });
    expect(dilated.node.attrs['padding']).to.deep.equal([
      [2, 2],
      [2, 2],
    ]);
  });

  it('is built by the chainable method too, and round-trips through JSON', () => {
    const g = new Graph('t');
    const y = g.input('x', [1, 2, 5, 5]).conv2d(g.input('w', [3, 2, 3, 3]), { stride: 2, padding: 'same' });
    g.output('y', y);
    expect(y.node.op).to.equal('conv2d');
    verify(g);
    expect(Graph.fromJSON(g.toJSON()).toString()).to.equal(g.toString());
  });

  describe('shape errors name the op, the shapes and the fix', () => {
    const build = (x: number[], w: number[], options: ConvOptions = {}, dtype: 'f32' | 'i32' = 'f32'): (() => unknown) => () => {
      const g = new Graph('t');
      return conv2d(g.input('x', x, dtype), g.input('w', w), options);
    };
    it('refuses a channel mismatch, suggesting the weight shape or groups', () => {
      expect(build([1, 4, 5, 5], [6, 2, 3, 3])).to.throw(
        ShapeError,
        'conv2d(f32[1,4,5,5], f32[6,2,3,3]): x has C_in = 4 channels but w has 2 per group × 1 group = 2. Fix: give w C_in/groups = 4 input channels: [6, 4, 3, 3], or pass groups: 2.',
      );
    });
    it('refuses groups that do not divide the channels', () => {
      expect(build([1, 3, 5, 5], [4, 1, 3, 3], { groups: 2 })).to.throw(ShapeError, 'conv2d(f32[1,3,5,5], f32[4,1,3,3]): groups = 2 does not divide C_in (x.shape[1]) = 3. Fix: choose groups dividing C_in (x.shape[1]) (3).');
      expect(build([1, 4, 5, 5], [3, 2, 3, 3], { groups: 2 })).to.throw(ShapeError, /groups = 2 does not divide C_out \(w\.shape\[0\]\) = 3/);
    });
    it('refuses a kernel larger than the padded input', () => {
      expect(build([1, 1, 4, 9], [1, 1, 3, 3], { dilation: 2 })).to.throw(
        ShapeError,
        "conv2d(f32[1,1,4,9], f32[1,1,3,3]): the kernel spans 5 along H (kernel 3, dilation 2) but the padded input has 4 (4 + padding 0 + 0). Fix: use a smaller kernel or dilation, or pad the input (padding: 'same' keeps its size).",
      );
    });
    it('refuses non-positive strides and dilations, and negative padding', () => {
      expect(build([1, 1, 5, 5], [1, 1, 3, 3], { stride: 0 })).to.throw(
        ArgumentError,
        'conv2d(f32[1,1,5,5], f32[1,1,3,3]): stride must be an integer ≥ 1 or 2 integers ≥ 1 (one per spatial axis), got 0. Fix: pass e.g. stride: 2.',
      );
      expect(build([1, 1, 5, 5], [1, 1, 3, 3], { dilation: [1, -1] })).to.throw(ArgumentError, /dilation must be an integer ≥ 1 or 2 integers ≥ 1 \(one per spatial axis\), got \[1,-1\]/);
      expect(build([1, 1, 5, 5], [1, 1, 3, 3], { padding: [[1, -1], [0, 0]] })).to.throw(ArgumentError, /padding must be 2 \[before, after\] pairs of non-negative integers, got \[\[1,-1\],\[0,0\]\]/);
      expect(build([1, 1, 5, 5], [1, 1, 3, 3], { groups: 0 })).to.throw(ArgumentError, /groups must be a positive integer, got 0/);
    });
    it('refuses wrong ranks, with the layout it expects', () => {
      expect(build([3, 5, 5], [1, 3, 3, 3])).to.throw(
        ShapeError,
        'conv2d(f32[3,5,5], f32[1,3,3,3]): x must be [N, C_in, H, W] (rank 4), got rank 3. Fix: reshape x to [N, C_in, H, W] (a single example needs a batch axis: x.unsqueeze(0)).',
      );
      expect(build([1, 3, 5, 5], [3, 3, 3])).to.throw(ShapeError, /w must be \[C_out, C_in\/groups, kH, kW\] \(rank 4\), got rank 3/);
    });
    it('refuses integer operands', () => {
      expect(build([1, 1, 5, 5], [1, 1, 3, 3], {}, 'i32')).to.throw(DTypeError, /^conv2d\(i32\[1,1,5,5\], f32\[1,1,3,3\]\): x and w must be f32, got i32 and f32/);
    });
  });
});

describe('conv1d', () => {
  it('is conv2d over a unit axis, and speaks 1-D in its shapes and errors', () => {
    const g = new Graph('t');
    const feeds = feedsOf({ x: [2, 4, 9], w: [6, 2, 3] });
    const y = conv1d(g.input('x', [2, 4, 9]), g.input('w', [6, 2, 3]), { stride: 2, padding: [[2, 1]], dilation: 2, groups: 2 });
    expect(y.shape).to.deep.equal([2, 6, 4]);
    const expected = naiveConv2d(feeds['x']!, [2, 4, 1, 9], feeds['w']!, [6, 2, 1, 3], { stride: [1, 2], padding: [[0, 0], [2, 1]], dilation: [1, 2], groups: 2 });
    expectClose(values(y, { feeds, precision: 'f64' }), expected.data, 1e-12, 1e-12);
    expect(() => conv1d(g.input('a', [1, 2, 5, 5]), g.input('b', [1, 2, 3]))).to.throw(
      ShapeError,
      'conv1d(f32[1,2,5,5], f32[1,2,3]): x must be [N, C_in, L] (rank 3), got rank 4. Fix: reshape x to [N, C_in, L].',
    );
    expect(() => conv1d(g.input('c', [1, 2, 2]), g.input('d', [1, 2, 3]))).to.throw(ShapeError, /the kernel spans 3 along L \(kernel 3\) but the padded input has 2/);
    expect(() => conv1d(g.input('e', [1, 2, 8]), g.input('f', [1, 2, 3]), { padding: [1, 1] })).to.throw(ArgumentError, /padding must be 1 \[before, after\] pair of non-negative integers/);
  });
});

describe('convTranspose2d', () => {
  it('spreads each input element over its window, as PyTorch ConvTranspose2d', () => {
    const g = new Graph('t');
    const x = g.constant([1, 2, 3, 4], { shape: [1, 1, 2, 2] });
    const y = convTranspose2d(x, g.constant([1, 10, 100, 1000], { shape: [1, 1, 2, 2] }), { stride: 2 });
    expect(y.shape).to.deep.equal([1, 1, 4, 4]);
    expect(values(y)).to.deep.equal([1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000]);
    // Overlapping windows add up; padding crops both ends, outputPadding adds at the end.
    const overlapping = convTranspose2d(x, g.constant(1, { shape: [1, 1, 2, 2] }));
    expect(values(overlapping)).to.deep.equal([1, 3, 2, 4, 10, 6, 3, 7, 4]);
    expect(convTranspose2d(g.input('a', [1, 2, 5, 5]), g.input('w', [2, 3, 3, 3]), { stride: 2, padding: 1, outputPadding: 1 }).shape).to.deep.equal([1, 3, 10, 10]);
  });

  it("is the adjoint of conv2d: ⟨convTranspose(y, w), x⟩ = ⟨y, conv(x, w)⟩, with w's layout shared", () => {
    const options = { stride: [2, 3], padding: [[1, 2], [0, 1]] as [number, number][], dilation: [2, 1], groups: 2 };
    const g = new Graph('t');
    const x = g.input('x', [2, 4, 9, 8]);
    const w = g.input('w', [6, 2, 3, 2]);
    const y = g.input('y', [2, 6, 4, 3]);
    const forward = sum(mul(conv2d(x, w, options), y));
    const backward = sum(mul(convTranspose2d(y, w, { ...options, outputPadding: [1, 1] }), x));
    const feeds = { feeds: feedsOf({ x: [2, 4, 9, 8], w: [6, 2, 3, 2], y: [2, 6, 4, 3] }), precision: 'f64' as const };
    expect(values(backward, feeds)[0]).to.be.closeTo(values(forward, feeds)[0]!, 1e-10);
  });

  it('names its layout and limits in errors', () => {
    const g = new Graph('t');
    expect(() => convTranspose2d(g.input('a', [1, 3, 4, 4]), g.input('b', [4, 2, 3, 3]))).to.throw(
      ShapeError,
      "convTranspose2d(f32[1,3,4,4], f32[4,2,3,3]): x has C_in = 3 channels but w.shape[0] is 4. Fix: pass w as [C_in, C_out/groups, kH, kW] (PyTorch's ConvTranspose layout, which is the weight of the convolution this transposes).",
    );
    expect(() => convTranspose2d(g.input('c', [1, 3, 4, 4]), g.input('d', [3, 2, 3, 3]), { stride: 2, outputPadding: 2 })).to.throw(
      ArgumentError,
      /outputPadding \[2,2\] must be smaller than the stride \[2,2\] along each axis/,
    );
    expect(() => convTranspose2d(g.input('e', [1, 3, 1, 1]), g.input('f', [3, 2, 1, 1]), { padding: 1 })).to.throw(ShapeError, /the output would have spatial size \[-1,-1\]/);
    expect(() => convTranspose1d(g.input('h', [1, 3, 4]), g.input('i', [3, 2, 3]), { padding: 'same' as 'valid' })).to.throw(ArgumentError, /padding 'same' is only for convolutions/);
  });
});

describe('convWeightGrad2d', () => {
  it("sums x·dy over the batch and every window, sized by the kernel, and checks dy's size", () => {
    const g = new Graph('t');
    const x = g.constant([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
    const dw = convWeightGrad2d(x, g.constant(1, { shape: [1, 1, 2, 2] }), { kernelSize: 2 });
    expect(dw.shape).to.deep.equal([1, 1, 2, 2]);
    expect(values(dw)).to.deep.equal([12, 16, 24, 28]);
    expect(() => convWeightGrad2d(x, g.constant(1, { shape: [1, 1, 3, 2] }), { kernelSize: 2 })).to.throw(
      ShapeError,
      "convWeightGrad2d(f32[1,1,3,3], f32[1,1,3,2]): dy has spatial size [3,2] but the convolution of x with kernel [2,2] and this stride, padding and dilation gives [2,2]. Fix: pass the cotangent of that convolution's output, and the same options.",
    );
    expect(() => convWeightGrad1d(g.input('a', [2, 1, 5]), g.input('b', [3, 1, 3]), { kernelSize: 3 })).to.throw(ShapeError, /x has batch 2 but dy has 3/);
  });
});

describe('convolution gradients', () => {
  const small = (shape: number[]): { shape: number[] } => ({ shape });
  it('of conv2d match finite differences: stride 2, uneven padding, dilation 2', () => {
    checkGradients({ inputs: [small([2, 2, 6, 5]), small([3, 2, 2, 3])], build: ([x, w]) => conv2d(x!, w!, { stride: 2, padding: [[1, 0], [0, 2]] }) });
    checkGradients({ inputs: [small([1, 2, 6, 6]), small([2, 2, 2, 2])], build: ([x, w]) => conv2d(x!, w!, { dilation: 2, padding: 1 }) });
  });

  it('of conv2d match finite differences with groups 2 and depthwise', () => {
    checkGradients({ inputs: [small([2, 4, 4, 4]), small([2, 2, 2, 2])], build: ([x, w]) => conv2d(x!, w!, { groups: 2, stride: [1, 2] }) });
    checkGradients({ inputs: [small([1, 3, 5, 4]), small([3, 1, 3, 2])], build: ([x, w]) => conv2d(x!, w!, { groups: 3, padding: 'same' }) });
  });

  it('of conv1d match finite differences', () => {
    checkGradients({ inputs: [small([2, 2, 9]), small([4, 1, 3])], build: ([x, w]) => conv1d(x!, w!, { stride: 2, dilation: 2, padding: [[2, 1]], groups: 2 }) });
  });

  it('of convTranspose2d and convTranspose1d match finite differences, outputPadding and groups included', () => {
    checkGradients({
      inputs: [small([2, 4, 3, 3]), small([4, 1, 3, 2])],
      build: ([x, w]) => convTranspose2d(x!, w!, { stride: 2, padding: [1, 0], outputPadding: [1, 0], groups: 2, dilation: [1, 2] }),
    });
    checkGradients({ inputs: [small([1, 2, 4]), small([2, 3, 3])], build: ([x, w]) => convTranspose1d(x!, w!, { stride: 3, padding: 1, outputPadding: 2 }) });
  });

  it('of convWeightGrad2d match finite differences in x and dy', () => {
    checkGradients({
      inputs: [small([2, 4, 5, 6]), small([2, 2, 3, 3])],
      build: ([x, dy]) => convWeightGrad2d(x!, dy!, { kernelSize: [2, 3], stride: 2, padding: [[1, 1], [0, 1]], groups: 2 }),
    });
    checkGradients({ inputs: [small([1, 2, 7]), small([1, 2, 5])], build: ([x, dy]) => convWeightGrad1d(x!, dy!, { kernelSize: 3, dilation: 2, padding: 1 }) });
  });

  it('of second order match finite differences (each op differentiates through the others)', () => {
    checkGradients({ inputs: [small([1, 2, 5, 4]), small([2, 1, 2, 2])], build: gradientOf(([x, w]) => conv2d(x!, w!, { stride: 2, padding: 1, groups: 2 }).square()) });
  });
});
