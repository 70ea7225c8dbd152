import { expect } from 'chai';
import { Graph, adam, programOf, sgd, simplify, trainingProgram } from '../../index.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { traceNodeLines } from '../../compiler/origin.js';
import { defaultExpanded, groupNodes, groupsShowing, nodesOfGroup, visibleOf } from '../../playground/graph-groups.js';
import { layoutGraph, visibleEdges } from '../../playground/graph-layout.js';
import { matchNodes } from '../../playground/graph-search.js';
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

  it('gives each node its attributes, its scope and its line', () => {
    const g = new Graph('scoped');
    const x = g.input('x', [2, 3]);
    let line = 7;
    const previous = traceNodeLines(() => line);
    try {
      g.scope('block', () => g.output('y', x.sum(1, true).exp()));
      line = 9;
      g.output('z', x.mul(2));
    } finally {
      traceNodeLines(previous);
    }
    const model = graphModel(programOf(g));
    const byOp = (op: string) => model.nodes.find((node) => node.op === op)!;
    expect(byOp('sum')).to.deep.include({ attrs: 'axes=[1], keepdims', scope: 'block', line: 7 });
    expect(byOp('exp')).to.deep.include({ attrs: '', scope: 'block', line: 7 });
    expect(byOp('mul').scope).to.equal(undefined);
    expect(byOp('mul').line).to.equal(9);
  });

  it('falls back on param names for the scope of a graph built without scopes', () => {
    const g = new Graph('named', { seed: 1 });
    const x = g.input('x', [4, 3]);
    const w = g.param('enc.q.kernel', [3, 2], { init: 'glorotUniform' });
    const loss = x.matmul(w).relu().mean();
    const model = graphModel(programOf(trainingProgram(g, { loss, optimizer: adam({ lr: 0.01 }) })));
    const scopeOf = (label: string) => model.nodes.find((node) => node.label === label)?.scope;
    expect(scopeOf('enc.q.kernel')).to.equal('enc/q');
    // Adam's moments belong to their param, whatever their own names say.
    expect(scopeOf('enc.q.kernel.adam.m')).to.equal('enc/q');
    expect(model.nodes.find((node) => node.op === 'matmul' && node.part === 'forward')!.scope).to.equal('enc/q');
    expect(model.nodes.find((node) => node.op === 'relu')!.scope).to.equal(undefined);
    expect(scopeOf('x')).to.equal(undefined);
  });
});

describe('playground/graph-groups', () => {
  const transformer = (): DagModel => {
    const g = new Graph('two_blocks', { seed: 3 });
    let h = g.input('x', [8, 16]);
    for (const block of ['block0', 'block1']) {
      h = g.scope(block, () => {
        const attn = g.scope('attn', () => h.matmul(g.param(`${block}.attn.q`, [16, 16], { init: 'glorotUniform' })).softmax(1));
        return g.scope('mlp', () => attn.matmul(g.param(`${block}.mlp.up`, [16, 16], { init: 'glorotUniform' })).relu().add(h));
      });
    }
    return graphModel(programOf(trainingProgram(g, { loss: h.square().mean(), optimizer: sgd({ lr: 0.1 }) })));
  };

  it('groups by scope, nested by its path, with each stage (forward, gradient, update) apart', () => {
    const model = transformer();
    const grouping = groupNodes(model, 'scope');
    expect(grouping.top.groups).to.include.members(['g:fwd:block0', 'g:fwd:block1']);
    const block0 = grouping.groups.get('g:fwd:block0')!;
    expect(block0.groups).to.deep.equal(['g:fwd:block0/attn', 'g:fwd:block0/mlp']);
    expect(grouping.groups.get('g:fwd:block0/attn')).to.deep.include({ label: 'attn', name: 'block0/attn', parent: 'g:fwd:block0' });
    expect(block0.size).to.equal(nodesOfGroup(grouping, block0.id).length);
    // Every node is counted once: in a group, or at the top.
    const grouped = [...grouping.groups.values()].flatMap((group) => group.nodes);
    expect([...grouped, ...grouping.top.nodes].sort((a, b) => a - b)).to.deep.equal(model.nodes.map((node) => node.id).sort((a, b) => a - b));
    for (const [id, group] of grouping.groupOf) {
      const part = model.nodes.find((node) => node.id === id)!.part;
      const stage = group.split(':')[1];
      expect(stage, `%${id} (${part}) in ${group}`).to.equal(part === 'gradient' ? 'grad' : part === 'update' || part === 'state' ? 'upd' : 'fwd');
    }
    // A group of one node is none: each group holds at least two.
    for (const group of grouping.groups.values()) expect(group.size, group.id).to.be.at.least(2);
    // Inputs stand alone.
    expect(grouping.groupOf.has(model.nodes.find((node) => node.label === 'x')!.id)).to.equal(false);
  });

  it('groups by kernel: each node in the first kernel that computes it', () => {
    const model = transformer();
    const ids = model.nodes.filter((node) => node.part === 'forward').map((node) => node.id);
    const grouping = groupNodes(model, 'kernel', [
      { name: 'k0_matmul', nodes: ids.slice(0, 3) },
      { name: 'k1_fused', nodes: [ids[2]!, ids[3]!, ids[4]!] },
      { name: 'k2_single', nodes: [ids[5]!] },
    ]);
    expect([...grouping.groups.values()].map((group) => [group.id, group.label, group.nodes])).to.deep.equal([
      ['g:k:0', 'k0_matmul', ids.slice(0, 3)],
      ['g:k:1', 'k1_fused', [ids[3], ids[4]]],
    ]);
    expect(grouping.top.nodes).to.include(ids[5]);
  });

  it('draws a collapsed group as one box, with the edges into and out of it merged and counted', () => {
    const model = transformer();
    const grouping = groupNodes(model, 'scope');
    const expanded = defaultExpanded(model, grouping);
    expect(model.nodes.length).to.be.at.most(120);
    expect(expanded.size).to.equal(grouping.groups.size);
    const closed = new Set([...expanded].filter((id) => id !== 'g:fwd:block1'));
    const inside = nodesOfGroup(grouping, 'g:fwd:block1');
    for (const id of inside) expect(visibleOf(grouping, closed, id)).to.equal('g:fwd:block1');
    const edges = visibleEdges(model, grouping, closed);
    expect(edges.some(({ from, to }) => from === to)).to.equal(false);
    const crossing = model.edges.filter(({ from, to }) => inside.includes(from) !== inside.includes(to)).length;
    expect(edges.filter(({ from, to }) => from === 'g:fwd:block1' || to === 'g:fwd:block1').reduce((sum, { count }) => sum + count, 0)).to.equal(crossing);
    // Showing a node of block1's mlp opens block1 and its mlp.
    const relu = model.nodes.filter((node) => node.op === 'relu' && node.part === 'forward')[1]!;
    expect([...groupsShowing(grouping, [relu.id])]).to.deep.equal(['g:fwd:block1', 'g:fwd:block1/mlp']);
  });

  it('starts a graph of more than 120 nodes collapsed', () => {
    const model = graphModel(programOf(seedMlp({ batch: 8 })));
    const big: DagModel = { nodes: [...model.nodes, ...model.nodes.map((node) => ({ ...node, id: node.id + 1000 }))], edges: model.edges };
    expect(defaultExpanded(big, groupNodes(big, 'scope')).size).to.equal(0);
  });
});

describe('playground/graph-search', () => {
  it('finds nodes by label, op, scope or %id, in any case; an empty query finds none', () => {
    const model = graphModel(programOf(seedMlp({ batch: 8 })));
    const labels = (query: string) => matchNodes(model, query).map((id) => model.nodes.find((node) => node.id === id)!.label);
    expect(labels('FC2.KERNEL')).to.deep.equal(['fc2.kernel', 'fc2.kernel.momentum']);
    expect(matchNodes(model, 'logsoftmax').map((id) => model.nodes.find((node) => node.id === id)!.op)).to.deep.equal(['logSoftmax']);
    const fc3 = matchNodes(model, 'fc3');
    expect(fc3.length).to.be.greaterThan(2);
    for (const id of fc3) expect(model.nodes.find((node) => node.id === id)!.scope ?? model.nodes.find((node) => node.id === id)!.label).to.contain('fc3');
    const some = model.nodes.find((node) => node.label.startsWith('%'))!;
    expect(matchNodes(model, some.label)).to.include(some.id);
    expect(matchNodes(model, '  ')).to.deep.equal([]);
  });
});

describe('playground/graph-layout', function () {
  this.timeout(30000);

  it('lays out collapsed groups as boxes and expanded ones as frames around their nodes, edges between what is drawn', async () => {
    const model = graphModel(programOf(seedMlp({ batch: 8 })));
    const grouping = groupNodes(model, 'scope');
    const open = 'g:fwd:fc2';
    const laid = await layoutGraph(model, { by: 'scope', expanded: [open] });
    const frame = laid.groups.find((group) => group.id === open)!;
    expect(frame.expanded).to.equal(true);
    expect(laid.groups.filter((group) => !group.expanded).map((group) => group.id).sort()).to.deep.equal([...grouping.groups.keys()].filter((id) => id !== open).sort());
    const drawn = new Set(laid.nodes.map((node) => node.id));
    for (const id of nodesOfGroup(grouping, open)) {
      expect(drawn.has(id)).to.equal(true);
      const box = laid.nodes.find((node) => node.id === id)!;
      expect(box.x >= frame.x && box.y >= frame.y && box.x + box.width <= frame.x + frame.width && box.y + box.height <= frame.y + frame.height, `%${id} inside ${open}`).to.equal(true);
    }
    for (const id of nodesOfGroup(grouping, 'g:fwd:fc1')) expect(drawn.has(id)).to.equal(false);
    const ends = new Set([...laid.nodes.map((node) => String(node.id)), ...laid.groups.filter((g) => !g.expanded).map((group) => group.id)]);
    for (const edge of laid.edges) {
      expect(ends.has(edge.from) && ends.has(edge.to), `${edge.from} → ${edge.to}`).to.equal(true);
      expect(edge.points.length).to.be.at.least(2);
    }
    // Boxes at the top level do not overlap.
    const top = [...laid.groups.filter((group) => grouping.groups.get(group.id)!.parent === undefined), ...laid.nodes.filter((node) => !grouping.groupOf.has(node.id))];
    for (const [i, a] of top.entries()) {
      for (const b of top.slice(i + 1)) expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).to.equal(true);
    }
    expect(laid.width).to.be.at.least(Math.max(...top.map((box) => box.x + box.width)));
  });
});

