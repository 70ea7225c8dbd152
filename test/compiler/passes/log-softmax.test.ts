import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import { rewriteLogSoftmax } from '../../../compiler/passes/log-softmax.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { runEntry } from '../../../compiler/reference.js';
import { checkPass, nodesOf, opsOf } from './check.js';

const rewriteThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(rewriteLogSoftmax(p));

describe('rewriteLogSoftmax', () => {
  it('rewrites log(softmax(x)) to logSoftmax(x) along the same axis', () => {
    const g = new Graph('ls');
    g.output('y', g.input('x', [3, 4]).softmax(0).log());
    const after = checkPass(rewriteThenDce, programOf(g), { rtol: 1e-6 });
    expect(opsOf(after)).to.deep.equal(['logSoftmax']);
    expect(nodesOf(after, 'logSoftmax')[0]!.attrs).to.deep.equal({ axis: 0 });
  });

  it('gives finite values where log(softmax) underflows to −∞', () => {
    const g = new Graph('far');
    g.output('y', g.input('x', [3]).softmax().log());
    const feeds = { x: [0, -200, 200] };
    const before = runEntry(g, { outputs: { y: g.outputs.get('y')! }, assignments: [] }, { feeds }).outputs['y']!;
    const after = rewriteThenDce(programOf(g));
    const fixed = runEntry(after.graph, after.entries['forward']!, { feeds }).outputs['y']!;
    expect(Array.from(before.data)).to.deep.equal([-Infinity, -Infinity, 0]);
    expect(Array.from(fixed.data)).to.deep.equal([-200, -400, 0]);
  });

  it('keeps a softmax other nodes read, and logs of other values', () => {
    const g = new Graph('shared');
    const p = g.input('x', [4]).softmax();
    g.output('p', p);
    g.output('y', p.log());
    g.output('z', p.exp().log());
    const after = checkPass(rewriteThenDce, programOf(g), { rtol: 1e-6 });
    expect(opsOf(after)).to.deep.equal(['softmax', 'logSoftmax', 'exp', 'log']);
  });
});
