import { expect } from 'chai';
import { ArgumentError, GraphError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { interpret } from '../../compiler/reference.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { sgd } from '../../compiler/optim.js';
import { trainingProgram } from '../../compiler/train.js';

/** A graph listing the outputs `y` and `z`, declaring only `y`. */
function halfDeclared(): Graph<'y' | 'z'> {
  const g = new Graph('listed', { outputs: ['y', 'z'] });
  g.output('y', g.input('x', [2]).relu());
  return g;
}

describe('a graph that lists its outputs (new Graph(name, {outputs}))', () => {
  it('keeps the list, and declares its outputs as any graph does', () => {
    const g = new Graph('listed', { outputs: ['y'] });
    g.output('y', g.input('x', [2]).mul(2));
    expect(g.listedOutputs).to.deep.equal(['y']);
    expect(interpret(g, { feeds: { x: [1, 2] } }).y.data).to.deep.equal(new Float32Array([2, 4]));
  });

  it('refuses an output it does not list, naming the list and the fix', () => {
    const g: Graph = halfDeclared();
    expect(() => g.output('w', g.get('x'))).to.throw(
      GraphError,
      "output 'w': graph 'listed' lists its outputs as 'y', 'z' (new Graph(name, {outputs})), and 'w' is not one of them. Fix: add it to that list.",
    );
    expect([...g.outputs.keys()]).to.deep.equal(['y']);
  });

  it('is not compiled, interpreted or trained on the reference until it declares every listed output', () => {
    const missing = (where: string): string =>
      `${where}: graph 'listed' lists the output 'z' (new Graph(name, {outputs})) but never declares it. Fix: call graph.output('z', tensor) first, or leave it out of the list.`;
    expect(() => compile(halfDeclared())).to.throw(GraphError, missing('compile'));
    expect(() => interpret(halfDeclared())).to.throw(GraphError, missing('interpret'));
    const g = halfDeclared();
    const w = g.param('w', [2], { init: 'ones' });
    const program = trainingProgram(g, { loss: g.get('x').mul(w).sum(), optimizer: sgd({ lr: 0.1 }) });
    expect(() => new ReferenceSession(program).forward({ x: [1, 2] })).to.throw(GraphError, missing('ReferenceSession.forward'));
    g.output('z', w);
    expect(Object.keys(new ReferenceSession(program).forward({ x: [1, 2] }))).to.deep.equal(['y', 'z']);
  });

  it('refuses a list that is not of distinct names', () => {
    expect(() => new Graph('g', { outputs: ['y', 'y'] })).to.throw(ArgumentError, "Graph: outputs lists 'y' twice.");
  });
});
