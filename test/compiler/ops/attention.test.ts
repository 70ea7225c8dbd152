import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { ArgumentError, DTypeError, DeviceLimitError, ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { attention, attentionWeights } from '../../../compiler/ops/attention.js';
import { mul, where } from '../../../compiler/ops/binary.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { compile } from '../../../compiler/plan.js';
import { softmax } from '../../../compiler/ops/nn.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { causalMask } from '../../../compiler/ops/sequence.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { expectClose, testData, values } from '../../helpers.js';
import { gradientOf } from './second-order.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** softmax(scale·q·kᵀ, masked)·v from existing primitives: the unfused definition attention must agree with. */
function composed(q: Tensor, k: Tensor, v: Tensor, scale: number, mask?: Tensor): Tensor {
  const scores = mul(matmul(q, k, { transposeB: true }), scale);
  return matmul(softmax(mask ? where(mask, scores, -Infinity) : scores), v);
}

/** Inputs of the given shapes, with values from testData, evaluated in f64. */
function evaluateBoth(shapes: number[][], build: (inputs: Tensor[], g: Graph) => [Tensor, Tensor]): [number[], number[]] {
  const g = new Graph('attention');
  const inputs = shapes.map((shape, i) => g.input(`x${i}`, shape));
  const [a, b] = build(inputs, g);
  const feeds = Object.fromEntries(shapes.map((shape, i) => [`x${i}`, testData(size(shape), 11 + i, -1.5, 1.5)]));
  return [values(a, { feeds, precision: 'f64' }), values(b, { feeds, precision: 'f64' })];
}

describe('attention: the reference', () => {
  it('equals softmax(q·kᵀ/√d)·v with Tq ≠ Tk', () => {
    const [got, expected] = evaluateBoth([[3, 4], [5, 4], [5, 2]], ([q, k, v]) => [attention(q!, k!, v!), composed(q!, k!, v!, 0.5)]);
    expectClose(got, expected, 1e-12, 1e-14);
  });

  it('applies the causal rule top-left aligned, as causalMask does', () => {
    const [got, expected] = evaluateBoth([[4, 3], [6, 3], [6, 2]], ([q, k, v], g) => [
      q!.attention(k!, v!, { causal: true, scale: 0.7 }),
      composed(q!, k!, v!, 0.7, causalMask(g, 4, 6)),
    ]);
    expectClose(got, expected, 1e-12, 1e-14);
  });

  it('runs over batch × heads leading axes, with keys and values shared across heads', () => {
    const [got, expected] = evaluateBoth([[2, 3, 4, 5], [2, 1, 6, 5], [2, 1, 6, 3]], ([q, k, v]) => [
      attention(q!, k!, v!),
      composed(q!, k!, v!, 1 / Math.sqrt(5)),
    ]);
    expect(got).to.have.length(2 * 3 * 4 * 3);
    expectClose(got, expected, 1e-12, 1e-14);
  });

  it('applies a broadcast bool mask (a key padding mask) together with causal', () => {
    const [got, expected] = evaluateBoth([[2, 3, 4], [2, 3, 4], [2, 3, 2]], ([q, k, v], g) => {
      const padding = g.constant([[[1, 1, 0]], [[1, 0, 1]]], { dtype: 'bool' });
      return [attention(q!, k!, v!, { mask: padding, causal: true }), composed(q!, k!, v!, 0.5, causalMask(g, 3).logicalAnd(padding))];
    });
    expectClose(got, expected, 1e-12, 1e-14);
  });

  it('gives zeros, not NaN, for a query with no allowed key', () => {
    const g = new Graph('empty-row');
    const q = g.constant([[1, 2], [3, 4]]);
    const v = g.constant([[5, 6], [7, 8]]);
    const mask = g.constant([[0, 0], [1, 0]], { dtype: 'bool' });
    expect(values(attention(q, q, v, { mask }))).to.deep.equal([0, 0, 5, 6]);
    expect(values(attentionWeights(q, q, { mask }))).to.deep.equal([0, 0, 1, 0]);
  });

  it('is exact for scores of ±1e4', () => {
    const g = new Graph('extreme');
    const q = g.constant([[100, 0], [-100, 0]]);
    const k = g.constant([[100, 0], [99.99, 0], [-100, 0]]);
    const v = g.constant([[1, 0], [0, 1], [0, 0]]);
    // Scores 1e4, 9999, −1e4 (first row): only the first two keys matter, e apart.
    const out = values(attention(q, k, v, { scale: 1 }), { precision: 'f64' });
    const w = 1 / (1 + Math.exp(-1));
    expectClose(out, [w, 1 - w, 0, 0], 1e-9, 1e-12);
  });

  it('attentionWeights gives rows that sum to 1, the weights attention applies', () => {
    const [got, expected] = evaluateBoth([[3, 4], [5, 4], [5, 2]], ([q, k, v]) => [matmul(attentionWeights(q!, k!), v!), attention(q!, k!, v!)]);
    expectClose(got, expected, 1e-12, 1e-14);
  });
});

describe('attention: errors', () => {
  const g = new Graph('errors');
  const q = g.input('q', [2, 4, 8]);
  const k = g.input('k', [2, 6, 8]);
  const v = g.input('v', [2, 6, 3]);

  it('names mismatched feature sizes of q and k', () => {
    expect(() => attention(q, g.input('k2', [2, 6, 7]), v)).to.throw(
      ShapeError,
      "attention(f32[2,4,8], f32[2,6,7], f32[2,6,3]): q's feature size 8 (its last dim) differs from k's 7. Fix: project queries and keys to the same size d: q [..., Tq, d], k [..., Tk, d].",
    );
  });

  it('names a key count that differs between k and v', () => {
    expect(() => attention(q, k, g.input('v2', [2, 5, 3]))).to.throw(ShapeError, /k has 6 keys \(its second-last dim\) but v has 5 values\. Fix: give v one row per key/);
  });

  it('names batch dims that do not broadcast', () => {
    expect(() => attention(q, g.input('k3', [3, 6, 8]), g.input('v3', [3, 6, 3]))).to.throw(
      ShapeError,
      /the leading \(batch\) dims \[2\], \[3\], \[3\] cannot be broadcast \(2 vs 3\)/,
    );
  });

  it('names a mask that does not fit the scores', () => {
    const mask = g.input('mask', [4, 5], 'bool');
    expect(() => attention(q, k, v, { mask })).to.throw(
      ShapeError,
      'attention(f32[2,4,8], f32[2,6,8], f32[2,6,3], bool[4,5]): the mask [4,5] does not broadcast to the scores\' shape [2,4,6] ([..., Tq, Tk]). Fix: shape the mask [Tq, Tk], [..., Tq, Tk], or [..., 1, Tk] for a key padding mask.',
    );
    expect(() => attention(q, k, v, { mask: g.input('big', [3, 2, 4, 6], 'bool') })).to.throw(ShapeError, /does not broadcast to the scores' shape \[2,4,6\]/);
  });

  it('names bad dtypes and ranks', () => {
    expect(() => attention(q, k, v, { mask: g.input('float-mask', [4, 6]) })).to.throw(DTypeError, /the mask must be bool, got f32\. Fix: pass a bool mask/);
    expect(() => attention(g.input('qi', [4, 8], 'i32'), k, v)).to.throw(DTypeError, /q, k, v must be f32, got i32, f32, f32/);
    expect(() => attentionWeights(g.input('q1', [8]), k)).to.throw(ShapeError, /attentionWeights\(f32\[8\], f32\[2,6,8\]\): q, k must have rank ≥ 2/);
  });

  it('names bad options', () => {
    expect(() => attention(q, k, v, { scale: Number.NaN })).to.throw(ArgumentError, /scale must be a finite number, got NaN\. Fix: omit it for 1\/√d/);
    expect(() => attention(q, k, v, { causal: 1 as never })).to.throw(ArgumentError, 'attention: causal must be a boolean, got 1.');
    expect(() => attention(q, k, 3 as never)).to.throw(ArgumentError, 'attention: the v must be a Tensor, got number.');
  });
});

describe('attention: lowering', () => {
  it('refuses at compile time rows too long for an invocation\'s function memory, naming the fix', () => {
    const g = new Graph('wide');
    g.output('y', attention(g.input('q', [2, 1000]), g.input('k', [3, 1000]), g.input('v', [3, 1000])));
    expect(() => compile(g)).to.throw(DeviceLimitError, /query row \(d=1000\) and an output row \(dv=1000\).*Fix: split the features into more heads/);
  });
});

describe('attention: gradients', () => {
  const cases: [string, number[][], (t: Tensor[], g: Graph) => Tensor][] = [
    ['plain, Tq ≠ Tk', [[3, 4], [5, 4], [5, 3]], ([q, k, v]) => attention(q!, k!, v!)],
    ['causal', [[4, 3], [4, 3], [4, 2]], ([q, k, v]) => attention(q!, k!, v!, { causal: true })],
    ['causal with more queries than keys', [[5, 2], [3, 2], [3, 2]], ([q, k, v]) => attention(q!, k!, v!, { causal: true, scale: 1.3 })],
    ['batch × heads, keys and values shared across heads', [[2, 2, 3, 2], [2, 1, 4, 2], [2, 1, 4, 3]], ([q, k, v]) => attention(q!, k!, v!)],
    [
      'masked, with a fully masked query',
      [[3, 2], [4, 2], [4, 2]],
      ([q, k, v], g) => attention(q!, k!, v!, { mask: g.constant([[1, 0, 1, 1], [0, 0, 0, 0], [0, 1, 1, 0]], { dtype: 'bool' }) }),
    ],
  ];
  for (const [name, shapes, build] of cases) {
    it(`match finite differences: ${name}`, () => {
      checkGradients({ inputs: shapes.map((shape) => ({ shape, lo: -1.5, hi: 1.5 })), build, rtol: 1e-5 });
    });
  }

  it('of attentionWeights match finite differences, causal and batched', () => {
    checkGradients({ inputs: [{ shape: [2, 3, 2] }, { shape: [2, 4, 2] }], build: ([q, k]) => attentionWeights(q!, k!, { causal: true }), rtol: 1e-5 });
  });

  it('are twice differentiable', () => {
    checkGradients({ inputs: [{ shape: [2, 2] }, { shape: [3, 2] }, { shape: [3, 2] }], build: gradientOf(([q, k, v]) => attention(q!, k!, v!, { causal: true })), rtol: 1e-5 });
  });

  it('are finite and exact at scores of ±1e4', () => {
    const g = new Graph('extreme-grad');
    const q = g.input('q', [1, 2]);
    const v = g.input('v', [3, 1]);
    const k = g.constant([[100, 0], [100, 0], [-100, 0]]);
    const [dq, dv] = grad(sum(attention(q, k, v, { scale: 1 })), [q, v]);
    const feeds = { q: [100, 0], v: [1, 2, 3] };
    // Weights ½, ½, 0: each value's gradient is its weight; q moves both live scores alike, so dq = 0.
    expectClose(values(dv!, { feeds, precision: 'f64' }), [0.5, 0.5, 0], 1e-12, 1e-300);
    expectClose(values(dq!, { feeds, precision: 'f64' }), [0, 0], 0, 1e-12);
  });
});
