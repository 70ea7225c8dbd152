import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { adam } from '../../../compiler/optim.js';
import { fingerprint } from '../../../compiler/passes/canonical.js';
import { programOf } from '../../../compiler/passes/program.js';
import { SIMPLIFY_PASSES, simplify } from '../../../compiler/passes/simplify.js';
import { trainingProgram } from '../../../compiler/train.js';
import { seedMlp } from '../../../examples/models/seed-mlp.js';
import { checkPass, nodesOf, opsOf, valuesFor } from './check.js';

describe('simplify', () => {
  it('runs rules until one exposes the next: a folded 1 removes a multiply, two reshapes meet', () => {
    const g = new Graph('cascade');
    const x = g.input('x', [2, 3]);
    const one = g.constant(3).sub(2);
    g.output('y', x.reshape([6]).mul(one).stopGradient().reshape([3, 2]));
    const after = checkPass(simplify, programOf(g));
    expect(opsOf(after)).to.deep.equal(['reshape']);
    expect(nodesOf(after, 'const')).to.deep.equal([]);
  });

  it('folds transposes into matmul, merges twins and removes what became dead', () => {
    const g = new Graph('mix');
    const a = g.input('a', [4, 3]);
    const b = g.input('b', [4, 5]);
    const left = matmul(a.transpose().transpose().transpose(), b);
    const right = matmul(a, b, { transposeA: true });
    g.output('y', left.add(right.mul(1)).softmax().log());
    const after = checkPass(simplify, programOf(g), { rtol: 1e-6 });
    expect(opsOf(after)).to.deep.equal(['matmul', 'add', 'logSoftmax']);
  });

  it('simplifies the seed MLP training step without changing what it computes', () => {
    const batch = 5;
    const program = programOf(seedMlp({ batch }));
    const labels = [3, 0, 9, 1, 7];
    const after = checkPass(simplify, program, { feeds: { ...valuesFor(program.graph, ['input']), labels } });
    expect(after.graph.nodes.length).to.be.lessThan(program.graph.nodes.length);
    // The gradient w.r.t. the images is dead.
    expect(after.graph.nodes.filter((n) => n.shape.join() === `${batch},784` && n.op !== 'input')).to.deep.equal([]);
    // The seed cotangent chain (reshape, broadcasts, ·1/batch, negation) is one splat; the one
    // reshape left is the labels' [batch] → [batch, 1] of the expanded oneHot.
    expect(after.graph.nodes.filter((n) => n.op === 'reshape' || n.op === 'broadcastTo').map((n) => n.shape)).to.deep.equal([[batch, 1]]);
    expect(opsOf(after)).to.not.include('oneHot');
    const splats = nodesOf(after, 'const').filter((n) => n.shape.join() === `${batch},10`);
    expect(splats.map((n) => n.attrs['value'])).to.deep.equal([[Math.fround(-1 / batch)]]);
  });

  for (const pass of SIMPLIFY_PASSES) {
    it(`keeps the seed MLP valid and computing the same step after ${pass.name} alone`, () => {
      const program = programOf(seedMlp({ batch: 4 }));
      checkPass(pass, program, { feeds: { ...valuesFor(program.graph, ['input']), labels: [1, 5, 0, 9] } });
    });
  }

  it('reaches a fixed point: simplifying again changes nothing', () => {
    const once = simplify(programOf(seedMlp({ batch: 3 })));
    expect(fingerprint(simplify(once))).to.equal(fingerprint(once));
  });

  it('keeps an Adam training program computing the same step, its loss through logSoftmax', () => {
    const g = new Graph('adam', { seed: 3 });
    const x = g.input('x', [3, 4]);
    const w = g.param('w', [4, 2], { init: 'glorotUniform' });
    const loss = matmul(x, w).softmax().log().neg().mean();
    const program = programOf(trainingProgram(g, { loss, optimizer: adam({ lr: 0.1 }) }));
    const after = checkPass(simplify, program, { rtol: 1e-5 });
    // The loss reads logSoftmax; the gradient, built before simplification, still reads softmax.
    expect(opsOf(after).filter((op) => op.includes('oftmax'))).to.deep.equal(['softmax', 'logSoftmax']);
  });
});
