import { expect } from 'chai';
import { GraphError } from '../../compiler/errors.js';
import type { Node } from '../../compiler/graph.js';
import { Graph } from '../../compiler/graph.js';
import { add } from '../../compiler/ops/binary.js';
import { exp } from '../../compiler/ops/unary.js';
import { verify } from '../../compiler/verify.js';

/** A graph whose node list a test may corrupt (as a buggy pass would). */
function corruptible(): { graph: Graph; nodes: Node[] } {
  const g = new Graph('v');
  const x = g.input('x', [2, 3]);
  g.output('y', exp(add(x, 1)));
  return { graph: g, nodes: g.nodes as Node[] };
}

describe('verify', () => {
  it('accepts a well-formed graph', () => {
    expect(() => verify(corruptible().graph)).to.not.throw();
  });

  it('catches a node whose recorded shape its inputs no longer give', () => {
    const { graph, nodes } = corruptible();
    nodes[2] = { ...nodes[2]!, shape: [3, 2] };
    expect(() => verify(graph)).to.throw(GraphError, /node %2 \(add\) records f32\[3,2\] but its inputs give f32\[2,3\]/);
  });

  it('catches a node reading a later node', () => {
    const { graph, nodes } = corruptible();
    nodes[2] = { ...nodes[2]!, inputs: [3, 1] };
    expect(() => verify(graph)).to.throw(GraphError, /node %2 \(add\) reads %3, which is not an earlier node/);
  });

  it('catches wrong arity, unknown ops, bad ids and non-JSON attributes', () => {
    let c = corruptible();
    c.nodes[3] = { ...c.nodes[3]!, inputs: [0, 2] };
    expect(() => verify(c.graph)).to.throw(GraphError, /has 2 inputs; exp takes 1/);
    c = corruptible();
    c.nodes[3] = { ...c.nodes[3]!, op: 'frobnicate' };
    expect(() => verify(c.graph)).to.throw(GraphError, /unknown op 'frobnicate'/);
    c = corruptible();
    c.nodes[3] = { ...c.nodes[3]!, id: 9 };
    expect(() => verify(c.graph)).to.throw(GraphError, /node %3 \(exp\) has id 9/);
    c = corruptible();
    c.nodes[3] = { ...c.nodes[3]!, attrs: { f: (() => 1) as never } };
    expect(() => verify(c.graph)).to.throw(GraphError, /attributes that are not plain JSON/);
  });

  it('catches duplicate source names and outputs pointing nowhere', () => {
    let c = corruptible();
    c.nodes.push({ ...c.nodes[0]!, id: 4 });
    expect(() => verify(c.graph)).to.throw(GraphError, /reuses the name 'x' of %0/);
    c = corruptible();
    (c.graph.outputs as Map<string, number>).set('z', 42);
    expect(() => verify(c.graph)).to.throw(GraphError, /output 'z' points at missing node %42/);
  });
});
