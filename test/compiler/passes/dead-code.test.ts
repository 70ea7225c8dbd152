import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import { programOf } from '../../../compiler/passes/program.js';
import { seedMlp } from '../../../examples/models/seed-mlp.js';
import { checkPass, opsOf } from './check.js';

describe('eliminateDeadCode', () => {
  it('removes the nodes no entry needs and keeps the ones it does', () => {
    const g = new Graph('branches');
    const x = g.input('x', [3]);
    const used = x.exp().add(1);
    x.log().mul(3); // never read
    g.output('y', used);
    const after = checkPass(eliminateDeadCode, programOf(g));
    expect(opsOf(after)).to.deep.equal(['exp', 'add']);
  });

  it('keeps every input, param and state, even those nothing reads', () => {
    const g = new Graph('interface');
    const x = g.input('x', [2]);
    g.input('unused', [5]);
    g.param('w', [2], { init: 'ones' });
    g.state('s', [4]);
    g.output('y', x.neg());
    const after = checkPass(eliminateDeadCode, programOf(g));
    expect(after.graph.nodes.map((n) => n.name ?? n.op)).to.deep.equal(['x', 'unused', 'w', 's', 'neg']);
  });

  it("keeps the graph's declared updates even when no entry names them", () => {
    const g = new Graph('counter');
    const s = g.state('count', [1]);
    g.assign(s, s.add(1));
    g.output('y', g.input('x', [1]).neg());
    const after = checkPass(eliminateDeadCode, programOf(g));
    expect(opsOf(after)).to.deep.equal(['add', 'neg']);
    expect([...after.graph.assignments]).to.have.length(1);
  });

  it('drops the gradient w.r.t. the images in the seed MLP training step', () => {
    const program = programOf(seedMlp({ batch: 3 }));
    const imageShaped = (p: typeof program): number =>
      p.graph.nodes.filter((n) => n.op === 'matmul' && n.shape.join() === '3,784').length;
    expect(imageShaped(program)).to.equal(1);
    const after = checkPass(eliminateDeadCode, program);
    expect(imageShaped(after)).to.equal(0);
    expect(after.graph.nodes.length).to.be.lessThan(program.graph.nodes.length);
  });
});
