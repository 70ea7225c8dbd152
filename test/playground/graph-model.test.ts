import { expect } from 'chai';
import { Graph, adam, programOf, sgd, simplify, trainingProgram } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { graphModel } from '../../playground/graph-model.js';
import type { DagModel, NodePart } from '../../playground/graph-model.js';

function partOf(model: DagModel, label: string): NodePart | undefined {
  return model.nodes.find((node) => node.label === label)?.part;
}

function countByPart(model: DagModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of model.nodes) counts[node.part] = (counts[node.part] ?? 0) + 1;
  return counts;
}

describe('playground/graph-model', () => {
  it('sorts the seed MLP’s simplified training graph into forward, gradient and update parts', () => {
    const program = simplify(programOf(seedMlp({ batch: 8 })));
    const model = graphModel(program);
    expect(partOf(model, 'images')).to.equal('input');
    expect(partOf(model, 'fc1.kernel')).to.equal('param');
    expect(partOf(model, 'fc1.kernel.momentum')).to.equal('state');
    const byOp = (op: string) => model.nodes.filter((node) => node.op === op);
    // Forward: the three matmuls of the logits; the loss is an output of trainStep, so its chain is forward too.
    expect(byOp('matmul').filter((n) => n.part === 'forward')).to.have.length(3);
    expect(byOp('logSoftmax').map((n) => n.part)).to.deep.equal(['forward']);
    // Backward: two matmuls per layer but the first (no gradient w.r.t. the images).
    expect(byOp('matmul').filter((n) => n.part === 'gradient')).to.have.length(5);
    // Each of the six params and six momenta is replaced by an update node that names it.
    const assigned = model.nodes.filter((node) => node.assigns !== undefined);
    expect(assigned.map((node) => node.part)).to.deep.equal(new Array(12).fill('update'));
    expect(assigned.map((node) => node.assigns).sort()).to.deep.equal(['fc1.bias', 'fc1.bias.momentum', 'fc1.kernel', 'fc1.kernel.momentum', 'fc2.bias', 'fc2.bias.momentum', 'fc2.kernel', 'fc2.kernel.momentum', 'fc3.bias', 'fc3.bias.momentum', 'fc3.kernel', 'fc3.kernel.momentum']);
    expect(countByPart(model)).to.deep.include({ input: 2, param: 6, state: 6, update: 24 });
  });

  it('leaves scalar constants out, as the SSA text prints them inline, and links only the nodes it shows', () => {
    const model = graphModel(simplify(programOf(seedMlp({ batch: 8 }))));
    expect(model.nodes.some((node) => node.op === 'const' && node.type.endsWith('[]'))).to.equal(false);
    const shown = new Set(model.nodes.map((node) => node.id));
    for (const { from, to } of model.edges) expect(shown.has(from) && shown.has(to), `${from} → ${to}`).to.equal(true);
    expect(new Set(model.edges.map(({ from, to }) => `${from}>${to}`)).size).to.equal(model.edges.length);
  });

  it('calls every computed node of a plain graph forward', () => {
    const g = new Graph('plain');
    const x = g.input('x', [2, 3]);
    g.output('y', x.mul(2).exp().sum(1));
    const model = graphModel(programOf(g));
    expect(model.nodes.map((node) => [node.label, node.part, node.type])).to.deep.equal([
      ['x', 'input', 'f32[2,3]'],
      ['%2', 'forward', 'f32[2,3]'],
      ['%3', 'forward', 'f32[2,3]'],
      ['%4', 'forward', 'f32[2]'],
    ]);
    expect(model.edges).to.deep.equal([
      { from: 0, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 4 },
    ]);
  });

  it('puts an optimizer’s own arithmetic (Adam’s step count, moments and bias correction) in the update part', () => {
    const g = new Graph('adam', { seed: 2 });
    const x = g.input('x', [4, 3]);
    const w = g.param('w', [3, 2], { init: 'glorotUniform' });
    const loss = x.matmul(w).square().mean();
    const model = graphModel(programOf(trainingProgram(g, { loss, optimizer: adam({ lr: 0.01 }) })));
    const gradient = model.nodes.filter((node) => node.part === 'gradient');
    expect(gradient.length).to.be.greaterThan(0);
    // The gradient never reads optimizer state; every node that does is an update.
    const stateIds = new Set(model.nodes.filter((node) => node.part === 'state').map((node) => node.id));
    const readsState = new Set(model.edges.filter(({ from }) => stateIds.has(from)).map(({ to }) => to));
    for (const node of model.nodes.filter((n) => readsState.has(n.id))) expect(node.part, `${node.label} ${node.op}`).to.equal('update');
    expect(model.nodes.filter((node) => node.assigns === 'w').map((node) => node.part)).to.deep.equal(['update']);
  });

  it('keeps plain SGD’s scaled gradient in the gradient part and only the subtraction in the update', () => {
    const g = new Graph('sgd');
    const w = g.param('w', [3], { init: 'ones' });
    const loss = w.square().sum();
    const model = graphModel(programOf(trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }) })));
    expect(model.nodes.filter((node) => node.part === 'update').map((node) => `${node.op} → ${node.assigns}`)).to.deep.equal(['sub → w']);
  });
});
