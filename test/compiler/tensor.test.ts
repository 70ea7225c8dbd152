import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import * as kiln from '../../index.js';
import { values } from '../helpers.js';

describe('Tensor methods', () => {
  it('chain into the same nodes as the functional forms', () => {
    const chained = new Graph('m');
    const x = chained.input('x', [4, 3]);
    const w = chained.param('w', [3, 2], { init: 'glorotUniform' });
    const b = chained.param('b', [2]);
    chained.output('y', x.matmul(w).add(b).relu());

    const functional = new Graph('m');
    const fx = functional.input('x', [4, 3]);
    const fw = functional.param('w', [3, 2], { init: 'glorotUniform' });
    const fb = functional.param('b', [2]);
    functional.output('y', kiln.relu(kiln.add(kiln.matmul(fx, fw), fb)));

    expect(chained.toString()).to.equal(functional.toString());
  });

  it('exist for every unary and binary op and build that op', () => {
    const g = new Graph('m');
    const x = g.input('x', [2]);
    const unaryOps = ['neg', 'abs', 'sign', 'square', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'atan', 'tanh', 'sigmoid', 'relu', 'leakyRelu', 'elu', 'gelu', 'softplus', 'floor', 'ceil', 'round'] as const;
    for (const op of unaryOps) expect(x[op]().node.op, op).to.equal(op);
    const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;
    for (const op of binaryOps) expect(x[op](x).node.op, op).to.equal(op);
  });

  it('reduce, reshape and slice by method', () => {
    const g = new Graph('m');
    const x = g.input('x', [2, 3]);
    const feeds = { x: [1, 2, 3, 4, 5, 6] };
    expect(values(x.sum(1), { feeds })).to.deep.equal([6, 15]);
    expect(values(x.max(), { feeds })).to.deep.equal([6]);
    expect(values(x.argmax(1), { feeds })).to.deep.equal([2, 2]);
    expect(x.transpose().shape).to.deep.equal([3, 2]);
    expect(x.reshape([-1]).shape).to.deep.equal([6]);
    expect(x.unsqueeze(0).squeeze().shape).to.deep.equal([2, 3]);
    expect(values(x.slice([{ start: 1 }, { step: 2 }]), { feeds })).to.deep.equal([4, 6]);
    expect(x.split(3, 1).map((t) => t.shape)).to.deep.equal([[2, 1], [2, 1], [2, 1]]);
    expect(x.pad([[0, 0], [1, 1]]).shape).to.deep.equal([2, 5]);
    expect(x.cast('i32').dtype).to.equal('i32');
    expect(x.clip(2, 5).node.op).to.equal('clip');
    expect(x.where(x.greater(3), 0).node.op).to.equal('where');
  });

  it('builds and prints the seed MLP with its loss', () => {
    const g = new Graph('mlp');
    const images = g.input('images', [128, 784]);
    const labels = g.input('labels', [128], 'i32');
    let h = images;
    const sizes = [784, 128, 64, 10];
    for (let i = 1; i < sizes.length; i++) {
      const w = g.param(`w${i}`, [sizes[i - 1]!, sizes[i]!], { init: 'linearDefault' });
      const b = g.param(`b${i}`, [sizes[i]!], { init: { kind: 'linearDefault', fanIn: sizes[i - 1]! } });
      h = h.matmul(w).add(b);
      if (i < sizes.length - 1) h = h.relu();
    }
    const loss = g.output('loss', h.softmaxCrossEntropy(labels));
    expect(loss.shape).to.deep.equal([]);
    kiln.verify(g);
    const text = g.toString();
    expect(text).to.contain('%4:f32[128,128] = matmul images w1');
    expect(text).to.contain('sum[axes=[1]] %');
    expect(text).to.contain('logSoftmax[axis=1]');
    expect(text).to.match(/out {3}loss = %\d+/);
  });
});
