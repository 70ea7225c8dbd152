import { expect } from 'chai';
import { FeedError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import type { DimLike } from '../../compiler/shape.js';
import { sgd } from '../../compiler/optim.js';
import { hostArray, interpret } from '../../compiler/reference.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';

/** An MLP of `batch` rows (a size or a dim name): 6 → 5 → 3, with a mean cross-entropy loss. */
function mlp(batch: DimLike) {
  const g = new Graph('mlp', { seed: 7 });
  const x = g.input('x', [batch, 6]);
  const labels = g.input('labels', [batch], 'i32');
  const w1 = g.param('w1', [6, 5], { init: 'glorotUniform' });
  const b1 = g.param('b1', [5], { init: 'ones' });
  const w2 = g.param('w2', [5, 3], { init: 'glorotUniform' });
  const logits = x.matmul(w1).add(b1).tanh().matmul(w2);
  g.output('logits', logits);
  const loss = logits.softmaxCrossEntropy(labels);
  return { g, loss };
}

function feeds(n: number) {
  return {
    x: Array.from({ length: n * 6 }, (_, i) => Math.sin(i * 0.37)),
    labels: Array.from({ length: n }, (_, i) => (i * 7) % 3),
  };
}

describe('reference interpreter on symbolic graphs', () => {
  it('runs at any batch size, equal to the graph built statically for it', () => {
    const symbolic = mlp('batch');
    symbolic.g.output('loss', symbolic.loss);
    for (const n of [1, 3, 65]) {
      const fixed = mlp(n);
      fixed.g.output('loss', fixed.loss);
      const got = interpret(symbolic.g, { feeds: feeds(n) });
      const want = interpret(fixed.g, { feeds: feeds(n) });
      expect(got['logits']!.shape).to.deep.equal([n, 3]);
      expect(Array.from(got['logits']!.data)).to.deep.equal(Array.from(want['logits']!.data));
      expect(Array.from(got['loss']!.data)).to.deep.equal(Array.from(want['loss']!.data));
    }
  });

  it('trains at changing batch sizes, step for step as static sessions', () => {
    const symbolic = mlp('batch');
    const session = new ReferenceSession(trainingProgram(symbolic.g, { loss: symbolic.loss, optimizer: sgd({ lr: 0.1 }) }));
    let params = session.params;
    for (const n of [4, 1, 9]) {
      const fixed = mlp(n);
      const reference = new ReferenceSession(trainingProgram(fixed.g, { loss: fixed.loss, optimizer: sgd({ lr: 0.1 }) }));
      reference.setParams(params);
      const want = reference.trainStep(feeds(n));
      const got = session.trainStep(feeds(n));
      expect(Array.from(got['loss']!.data)).to.deep.equal(Array.from(want['loss']!.data));
      for (const name of ['w1', 'b1', 'w2']) expect(Array.from(session.params[name]!.data)).to.deep.equal(Array.from(reference.params[name]!.data));
      params = session.params;
    }
  });

  it('reads sizes from host arrays, flat arrays and products of dims', () => {
    const g = new Graph('p');
    const x = g.input('x', ['batch', 'seq']);
    const flat = g.input('flat', [g.dim('batch'), 2]);
    g.output('y', x.sum(1).add(flat.sum(1)));
    const out = interpret(g, { feeds: { x: hostArray('f32', [2, 3], [1, 2, 3, 4, 5, 6]), flat: [1, 1, 2, 2] } });
    expect(Array.from(out['y']!.data)).to.deep.equal([8, 19]);
    const r = new Graph('r');
    r.output('y', r.input('rows', ['n', 4]).reshape([-1]).mul(2));
    expect(interpret(r, { feeds: { rows: [1, 2, 3, 4, 5, 6, 7, 8] } })['y']!.shape).to.deep.equal([8]);
  });

  it('refuses feeds that disagree on a dim, naming both inputs and sizes', () => {
    const { g, loss } = mlp('batch');
    g.output('loss', loss);
    const bad = { x: feeds(4).x, labels: feeds(3).labels };
    expect(() => interpret(g, { feeds: bad })).to.throw(
      FeedError,
      /disagree on the size of batch: input 'labels' \(i32\[batch\]\) fed 3 values has batch = 3, but batch = 4 from input 'x' \(f32\[batch,6\]\) fed 24 values/,
    );
    const shaped = { x: hostArray('f32', [2, 6], new Array(12).fill(0)), labels: hostArray('i32', [5], [0, 1, 2, 0, 1]) };
    expect(() => interpret(g, { feeds: shaped })).to.throw(FeedError, /input 'labels' \(i32\[batch\]\) fed \[5\] has batch = 5, but batch = 2 from input 'x' \(f32\[batch,6\]\) fed \[2,6\]/);
  });

  it('refuses a feed that is not a whole number of rows, or an empty batch', () => {
    const { g } = mlp('batch');
    expect(() => interpret(g, { feeds: { x: new Array(13).fill(0), labels: [0, 1] } })).to.throw(FeedError, /input 'x' \(f32\[batch,6\]\) fed 13 values: 6\*batch = 13 gives no size for the dim 'batch'/);
    expect(() => interpret(g, { feeds: { x: [], labels: [] } })).to.throw(FeedError, /6\*batch = 0 gives no size for the dim 'batch' \(a size is a whole number, at least 1\)/);
  });

  it('checks static axes of a symbolic input as before', () => {
    const { g } = mlp('batch');
    expect(() => interpret(g, { feeds: { x: hostArray('f32', [2, 5], new Array(10).fill(0)), labels: [0, 1] } })).to.throw(FeedError, /expected f32\[2,6\], got f32\[2,5\]/);
  });
});
