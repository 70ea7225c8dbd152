import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { ShapeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { attention } from '../../../compiler/ops/attention.js';
import { conv2d } from '../../../compiler/ops/conv.js';
import { embedding } from '../../../compiler/ops/layers.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { batchNorm, layerNorm } from '../../../compiler/ops/norm.js';
import { logSoftmax, oneHot, softmax, softmaxCrossEntropy } from '../../../compiler/ops/nn.js';
import { maxPool2d } from '../../../compiler/ops/pool.js';
import { dropout } from '../../../compiler/ops/random.js';
import { mean, sum } from '../../../compiler/ops/reduce.js';
import { broadcastTo, expand, reshape, squeeze, transpose, unsqueeze } from '../../../compiler/ops/shape.js';
import { concat, pad, slice, split } from '../../../compiler/ops/slice.js';
import { formatType } from '../../../compiler/shape.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';

const typeOf = (t: Tensor): string => formatType(t.node);

describe('symbolic shape rules', () => {
  const setup = (): { g: Graph; x: Tensor } => {
    const g = new Graph('t');
    return { g, x: g.input('x', ['batch', 12]) };
  };

  it('elementwise and broadcast keep the symbolic dim', () => {
    const { g, x } = setup();
    expect(typeOf(x.add(g.input('b', [12])))).to.equal('f32[batch,12]');
    expect(typeOf(x.mul(g.input('c', ['batch', 1])))).to.equal('f32[batch,12]');
    expect(() => x.add(g.input('d', [3, 12]))).to.throw(ShapeError, /batch.*3|3.*batch/);
  });

  it('matmul: symbolic rows and batch dims; K must be the same dim', () => {
    const { g, x } = setup();
    expect(typeOf(matmul(x, g.param('w', [12, 5])))).to.equal('f32[batch,5]');
    const xt = g.input('xt', ['batch', 'seq', 4]);
    expect(typeOf(matmul(xt, g.param('w2', [4, 6])))).to.equal('f32[batch,seq,6]');
    // x^T x: K is batch on both sides.
    expect(typeOf(matmul(x, x, { transposeA: true }))).to.equal('f32[12,12]');
    expect(() => matmul(g.input('a', [3, 'batch']), g.input('b2', ['seq', 2]))).to.throw(ShapeError, /batch ≠ seq/);
  });

  it('reshape: -1 is an exact division; targets may name dims', () => {
    const { g } = setup();
    const images = g.input('images', ['batch', 28, 28]);
    expect(typeOf(reshape(images, [-1, 784]))).to.equal('f32[batch,784]');
    expect(typeOf(reshape(images, ['batch', -1]))).to.equal('f32[batch,784]');
    expect(typeOf(reshape(images, [-1]))).to.equal('f32[784*batch]');
    expect(typeOf(reshape(reshape(images, [-1]), [-1, 28, 28]))).to.equal('f32[batch,28,28]');
    expect(() => reshape(images, [-1, 100])).to.throw(ShapeError, /784\*batch is not a multiple of 100/);
    expect(() => reshape(images, [-1, 'seq'])).to.throw(ShapeError, /not a multiple of seq/);
    expect(() => reshape(images, [784, 'batch', 2])).to.throw(ShapeError, /cannot be reshaped/);
  });

  it('transpose, squeeze, unsqueeze, expand, broadcastTo, flatten', () => {
    const { x } = setup();
    expect(typeOf(transpose(x))).to.equal('f32[12,batch]');
    expect(typeOf(unsqueeze(x, 1))).to.equal('f32[batch,1,12]');
    expect(typeOf(squeeze(unsqueeze(x, 1), 1))).to.equal('f32[batch,12]');
    expect(() => squeeze(x, 0)).to.throw(ShapeError, /axis 0 has size batch, not 1/);
    expect(typeOf(expand(unsqueeze(x, 1), [-1, 3, -1]))).to.equal('f32[batch,3,12]');
    expect(typeOf(broadcastTo(x.sum(1, true), ['batch', 4]))).to.equal('f32[batch,4]');
    expect(() => broadcastTo(x, [5, 12])).to.throw(ShapeError, /batch/);
    expect(typeOf(reshape(x, [x.shape[0]!, -1]))).to.equal('f32[batch,12]');
  });

  it('concat sums the axis sizes (a polynomial for different symbols)', () => {
    const { g, x } = setup();
    const y = g.input('y', ['seq', 12]);
    expect(typeOf(concat([x, x], 0))).to.equal('f32[2*batch,12]');
    expect(typeOf(concat([x, y, x], 0))).to.equal('f32[2*batch + seq,12]');
    expect(typeOf(concat([x, x], 1))).to.equal('f32[batch,24]');
    expect(() => concat([x, y], 1)).to.throw(ShapeError, /seq on axis 0 but operand 0 has batch/);
    expect(() => split(concat([x, y], 0), 2)).to.throw(ShapeError, /batch \+ seq, which 2 does not divide for every size of dim 'batch'/);
  });

  it('slice: full and provably-inside stretches of a symbolic axis; the rest refused by dim name', () => {
    const { x } = setup();
    expect(typeOf(slice(x, [null, [0, 4]]))).to.equal('f32[batch,4]');
    expect(typeOf(slice(x, [[0, null]]))).to.equal('f32[batch,12]');
    expect(typeOf(slice(x, [[1, null]]))).to.equal('f32[batch - 1,12]');
    expect(typeOf(slice(x, [[0, 1]]))).to.equal('f32[1,12]');
    expect(() => slice(x, [[0, 3]])).to.throw(ShapeError, /symbolic size 'batch'.*may lie beyond/);
    expect(() => slice(x, [[-1, null]])).to.throw(ShapeError, /symbolic size 'batch'.*negative index/);
    expect(() => slice(x, [[null, null, -1]])).to.throw(ShapeError, /symbolic size 'batch'.*step of -1/);
    expect(() => slice(x, [[2, null]])).to.throw(ShapeError, /batch/);
  });

  it('split of a symbolic axis by a count that divides it, pad around it', () => {
    const { g } = setup();
    const z = g.input('z', ['batch', 4]);
    const doubled = concat([z, z], 0);
    expect(split(doubled, 2).map(typeOf)).to.deep.equal(['f32[batch,4]', 'f32[batch,4]']);
    expect(() => split(z, 2)).to.throw(ShapeError, /2 does not divide.*'batch'/);
    expect(typeOf(pad(z, [[1, 2], [0, 0]]))).to.equal('f32[batch + 3,4]');
  });

  it('reductions, softmax, losses over a symbolic batch', () => {
    const { g, x } = setup();
    expect(typeOf(sum(x, 0))).to.equal('f32[12]');
    expect(typeOf(mean(x))).to.equal('f32[]');
    expect(typeOf(mean(x, 1, true))).to.equal('f32[batch,1]');
    expect(typeOf(softmax(x))).to.equal('f32[batch,12]');
    expect(typeOf(logSoftmax(x, 0))).to.equal('f32[batch,12]');
    const labels = g.input('labels', ['batch'], 'i32');
    expect(typeOf(oneHot(labels, 12))).to.equal('f32[batch,12]');
    expect(typeOf(softmaxCrossEntropy(x, labels))).to.equal('f32[]');
    const wide = g.input('wide', [4, 'classes']);
    expect(() => softmaxCrossEntropy(wide, g.input('l2', [4], 'i32'))).to.throw(ShapeError, /softmaxCrossEntropy: dim 'classes' is symbolic/);
  });

  it('gather/embedding with symbolic index shapes; dropout masks on symbolic shapes', () => {
    const { g, x } = setup();
    const ids = g.input('ids', ['batch', 'seq'], 'i32');
    expect(typeOf(embedding(g.param('table', [50, 8]), ids))).to.equal('f32[batch,seq,8]');
    expect(typeOf(dropout(x, 0.5))).to.equal('f32[batch,12]');
  });

  it('layer norm needs static normalized axes; batch norm takes stats over a symbolic batch', () => {
    const { g, x } = setup();
    expect(typeOf(layerNorm(x))).to.equal('f32[batch,12]');
    expect(() => layerNorm(x, { axes: 0 })).to.throw(ShapeError, /layerNorm: dim 'batch' is symbolic, but axis 0 is normalized over/);
    const y = batchNorm(x, {
      gamma: g.param('gamma', [12]),
      beta: g.param('beta', [12]),
      runningMean: g.state('rm', [12]),
      runningVar: g.state('rv', [12]),
    });
    expect(typeOf(y)).to.equal('f32[batch,12]');
  });

  it('conv and pool: symbolic N; a symbolic channel or spatial dim is refused by name', () => {
    const g = new Graph('t');
    const images = g.input('images', ['batch', 3, 8, 8]);
    const w = g.param('w', [4, 3, 3, 3]);
    expect(typeOf(conv2d(images, w, { padding: 1 }))).to.equal('f32[batch,4,8,8]');
    expect(typeOf(maxPool2d(images, { kernelSize: 2 }))).to.equal('f32[batch,3,4,4]');
    const tall = g.input('tall', ['batch', 3, 'height', 8]);
    expect(() => conv2d(tall, w)).to.throw(ShapeError, /conv2d: dim 'height' is symbolic.*only the batch axis N/);
    expect(() => maxPool2d(tall, { kernelSize: 2 })).to.throw(ShapeError, /dim 'height' is symbolic/);
  });

  it('attention over a symbolic batch and sequence; the feature size must be static', () => {
    const g = new Graph('t');
    const q = g.input('q', ['batch', 2, 'seq', 8]);
    expect(typeOf(attention(q, q, q, { causal: true }))).to.equal('f32[batch,2,seq,8]');
    const odd = g.input('odd', ['batch', 'seq', 'd']);
    expect(() => attention(odd, odd, odd, { scale: 1 })).to.throw(ShapeError, /dim 'd' is symbolic/);
  });

  it("mean's VJP over a symbolic axis divides by the graph-level size (dimSize)", () => {
    const { g, x } = setup();
    const [dx] = grad(mean(x), [x]);
    expect(typeOf(dx!)).to.equal('f32[batch,12]');
    expect(g.nodes.some((node) => node.op === 'dimSize')).to.equal(true);
  });
});

describe('gradients of symbolic graphs, bound at run time, match finite differences', () => {
  for (const batch of [1, 3]) {
    it(`mean over the batch (batch = ${batch})`, () => {
      checkGradients({ dims: { batch }, inputs: [{ shape: ['batch', 3] }], build: ([x]) => mean(x!, 0) });
    });
    it(`mean of a matmul over everything (batch = ${batch})`, () => {
      checkGradients({
        dims: { batch },
        inputs: [{ shape: ['batch', 4] }, { shape: [4, 2] }],
        build: ([x, w]) => mean(matmul(x!, w!)),
      });
    });
    it(`reshape with -1, concat and slice (batch = ${batch})`, () => {
      checkGradients({
        dims: { batch },
        inputs: [{ shape: ['batch', 2, 3] }],
        build: ([x]) => slice(concat([reshape(x!, [-1, 6]), reshape(x!, [-1, 6])], 0), [[1, null], [0, 4]]),
      });
    });
    it(`softmax and a layer norm (batch = ${batch})`, () => {
      checkGradients({ dims: { batch }, inputs: [{ shape: ['batch', 5] }], build: ([x]) => layerNorm(softmax(x!)) });
    });
  }
});
