import { expect } from 'chai';
import { GraphError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import { addOp } from '../../../compiler/ops/binary.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf, rebuild } from '../../../compiler/passes/program.js';
import { checkPass } from './check.js';

describe('rebuild', () => {
  it('copies a program unchanged when no rewrite applies', () => {
    const g = new Graph('copy');
    const x = g.input('x', [2, 3]);
    g.output('y', x.exp().sum(1));
    const after = checkPass((p) => rebuild(p), programOf(g));
    expect(after.graph.toString()).to.equal(g.toString());
  });

  it('offers consts to the rewrite, so equal literals can be merged', () => {
    const g = new Graph('literals');
    g.output('y', g.input('x', [2]).add(g.constant([1, 2])));
    const offered: string[] = [];
    rebuild(programOf(g), (node) => {
      offered.push(node.op);
      return undefined;
    });
    expect(offered).to.deep.equal(['const', 'add']);
  });

  it('refuses a rewrite that changes the shape of a node', () => {
    const g = new Graph('bad');
    const x = g.input('x', [3]);
    g.output('y', x.broadcastTo([2, 3]));
    expect(() => rebuild(programOf(g), (node, inputs) => (node.op === 'broadcastTo' ? inputs[0] : undefined))).to.throw(
      GraphError,
      /rebuild: the rewrite of broadcastTo %1 \(f32\[2,3\]\) gave f32\[3\]; a rewrite must keep the node's shape and dtype/,
    );
  });
});

describe('checkPass (the harness every pass test uses)', () => {
  it('catches a pass that changes what an entry computes', () => {
    const g = new Graph('wrong');
    const x = g.input('x', [3]);
    g.output('y', x.mul(x));
    const wrong = (p: GraphProgram): GraphProgram => rebuild(p, (node, inputs, graph) => (node.op === 'mul' ? graph.addNode(addOp, inputs, {}) : undefined));
    expect(() => checkPass(wrong, programOf(g))).to.throw(/forward output y: element 0/);
  });
});
