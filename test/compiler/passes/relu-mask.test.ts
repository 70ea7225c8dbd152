import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { eliminateCommonSubexpressions } from '../../../compiler/passes/common-subexpressions.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { maskFromRelu } from '../../../compiler/passes/relu-mask.js';
import { compile } from '../../../compiler/plan.js';
import { seedMlp } from '../../../examples/models/seed-mlp.js';
import { checkPass, nodesOf } from './check.js';

const pass = (p: GraphProgram): GraphProgram => eliminateDeadCode(eliminateCommonSubexpressions(maskFromRelu(p)));

describe('maskFromRelu', () => {
  it('reads the mask x > 0 off relu(x) when relu(x) exists, sharing that relu', () => {
    const g = new Graph('mask');
    const x = g.input('x', [4]);
    g.output('h', x.relu());
    g.output('mask', x.greater(0));
    const after = checkPass(pass, programOf(g), { feeds: { x: [-1, 0, 2, -0] } });
    expect(nodesOf(after, 'relu')).to.have.length(1);
    expect(after.graph.node(nodesOf(after, 'greater')[0]!.inputs[0]!).op).to.equal('relu');
  });

  it('leaves masks against other thresholds, and masks of values never passed through relu', () => {
    const g = new Graph('other');
    const x = g.input('x', [4]);
    g.output('h', x.relu());
    g.output('m1', x.greater(1));
    g.output('m2', g.input('y', [4]).greater(0));
    const after = checkPass(pass, programOf(g));
    expect(nodesOf(after, 'greater').map((n) => after.graph.node(n.inputs[0]!).op)).to.deep.equal(['input', 'input']);
  });

  it('lets the seed MLP keep no ReLU mask in memory: the backward kernels compute it from the activations', () => {
    const plan = compile(seedMlp({ batch: 8 }));
    const step = plan.entries['trainStep']!;
    const written = step.dispatches.flatMap((k) => plan.kernels[k]!.bindings).map(({ buffer }) => plan.buffers[buffer]!);
    expect(written.filter((b) => b.dtype === 'bool')).to.deep.equal([]);
  });
});
