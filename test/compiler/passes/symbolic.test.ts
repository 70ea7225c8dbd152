import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { dimSize } from '../../../compiler/ops/dim-size.js';
import { adam } from '../../../compiler/optim.js';
import { cleanupBroadcastReduce } from '../../../compiler/passes/broadcast-reduce.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import { foldConstants } from '../../../compiler/passes/fold-constants.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { simplify } from '../../../compiler/passes/simplify.js';
import { evaluate } from '../../../compiler/reference.js';
import { trainingProgram } from '../../../compiler/train.js';
import { testData } from '../../helpers.js';
import { checkPass, opsOf } from './check.js';

/** Feeds of `n` rows for the MLP below. */
const feeds = (n: number) => ({ x: testData(n * 6, n, -2, 2), labels: Array.from({ length: n }, (_, i) => i % 4) });

function trainingMlp(): GraphProgram {
  const g = new Graph('mlp', { seed: 2 });
  const x = g.input('x', ['batch', 6]);
  const labels = g.input('labels', ['batch'], 'i32');
  const w = g.param('w', [6, 4], { init: 'glorotUniform' });
  const b = g.param('b', [4], { init: 'zeros' });
  const logits = x.matmul(w).add(b).relu();
  g.output('logits', logits);
  const loss = logits.softmaxCrossEntropy(labels).add(logits.square().mean().mul(0.01));
  return programOf(trainingProgram(g, { loss, optimizer: adam({ lr: 0.01 }) }));
}

describe('passes on symbolic graphs', () => {
  it('simplify keeps every entry equal at several batch sizes', () => {
    const program = trainingMlp();
    const simplified = checkPass(simplify, program, { feeds: feeds(3), rtol: 1e-6 });
    for (const n of [1, 5]) checkPass(() => simplified, program, { feeds: feeds(n), rtol: 1e-6 });
  });

  it('a sum over a broadcast symbolic axis becomes a multiply by the size', () => {
    const g = new Graph('b');
    const x = g.input('x', [3]);
    const rows = g.input('rows', ['batch', 3]);
    g.output('y', x.broadcastTo(rows.shape).sum(0));
    const after = checkPass((p) => eliminateDeadCode(cleanupBroadcastReduce(p)), programOf(g), { feeds: { x: [1, 2, 3], rows: new Array(12).fill(0) } });
    expect(opsOf(after)).to.deep.equal(['dimSize', 'mul']);
  });

  it('folding leaves symbolic sizes and symbolic broadcasts alone', () => {
    const g = new Graph('f');
    const rows = g.input('rows', ['batch', 3]);
    g.output('n', dimSize(g, g.dim('batch')).mul(2));
    g.output('ones', g.constant(1).broadcastTo(rows.shape));
    const after = checkPass(foldConstants, programOf(g), { feeds: { rows: new Array(6).fill(0) } });
    expect(opsOf(after)).to.deep.equal(['dimSize', 'mul', 'broadcastTo']);
  });

  it('a gradient that does not reach a symbolic input is zeros of its shape', () => {
    const g = new Graph('z');
    const x = g.input('x', ['batch', 2]);
    const w = g.param('w', [2], { init: 'ones' });
    const [dx] = grad(w.sum(), [x]);
    expect(dx!.shape).to.deep.equal(x.shape);
    expect(Array.from(evaluate([dx!], { feeds: { x: [1, 2, 3, 4, 5, 6] } })[0]!.data)).to.deep.equal([0, 0, 0, 0, 0, 0]);
  });
});
