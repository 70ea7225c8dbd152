import { expect } from 'chai';
import { Graph } from '../../../../compiler/graph.js';
import { MAX_ROW_LENGTH } from '../../../../compiler/passes/fusion/index.js';
import { seedMlp } from '../../../../examples/models/seed-mlp.js';
import { fuseGraph, fuseProgramEntry } from './harness.js';

describe('fusion rules (CPU)', () => {
  it('loop fusion makes an elementwise chain with broadcasting one loop group that writes only its result', () => {
    const g = new Graph('chain');
    const x = g.input('x', [3, 17]);
    const b = g.input('b', [17]);
    const y = x.mul(2).add(b).tanh().sub(x.square()).relu();
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['mul', 'add', 'tanh', 'square', 'sub', 'relu']]);
    expect(groups[0]).to.deep.include({ kind: 'loop', outputs: [y.id], shape: [3, 17], storageBuffers: 3 });
    // The reason lists members in the order they joined (the header comment of the kernel; unchanged on purpose).
    expect(groups[0]!.reason).to.equal('loop fusion: mul, add, tanh, sub, square, relu in one pass over [3,17]');
  });

  it('epilogue fusion runs a bias add and an activation where the matmul stores each element', () => {
    const g = new Graph('dense');
    const x = g.input('x', [5, 33]);
    const w = g.param('w', [33, 7], { init: 'glorotUniform' });
    const bias = g.param('bias', [7], { init: 'normal' });
    const product = x.matmul(w);
    const y = product.add(bias).relu();
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['matmul', 'add', 'relu']]);
    expect(groups[0]).to.deep.include({ kind: 'epilogue', anchor: product.id, outputs: [y.id], storageBuffers: 4 });
    expect(groups[0]!.reason).to.equal('epilogue fusion: add, relu applied as matmul stores each element');
  });

  it('input fusion computes a reduction’s elementwise producers as it reads them (a prologue), its consumers in its epilogue', () => {
    // Rows longer than a row kernel holds, so input fusion (not row fusion) applies.
    const g = new Graph('reduce');
    const x = g.input('x', [4, MAX_ROW_LENGTH + 9]);
    const squared = x.square().mul(0.5);
    const y = squared.sum(1).sqrt().neg();
    const { graph, groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(groups).to.have.length(1);
    expect(groups[0]!.kind).to.equal('input');
    expect(ops[0]).to.deep.equal(['sum', 'sqrt', 'neg']);
    expect(groups[0]!.prologue!.nodes.map((id) => graph.node(id).op)).to.deep.equal(['square', 'mul']);
    expect(groups[0]!.prologue!.result).to.equal(squared.id);
    expect(groups[0]!.reason).to.equal('input fusion: mul, square computed as sum reads its input; epilogue: sqrt, neg');
  });

  it('row fusion makes a softmax written by hand over short rows one row group', () => {
    const g = new Graph('short rows');
    const x = g.input('x', [4, 6]);
    const e = x.exp();
    const y = e.div(e.sum(1, true));
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['exp', 'sum', 'div']]);
    expect(groups[0]).to.deep.include({ kind: 'row', shape: [4, 6], outputs: [y.id] });
    expect(groups[0]!.reason).to.equal('row fusion: sum, exp, div with one invocation per row of [4,6], the row in registers');
  });

  it('refuses a merge that would make a cycle: a value needed after a reduction of itself stays in its own group', () => {
    const g = new Graph('cycle');
    const x = g.input('x', [4, MAX_ROW_LENGTH + 6]);
    const e = x.exp();
    const y = e.div(e.sum(1, true));
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['exp'], ['sum'], ['div']]);
    expect(groups.map((group) => group.kind)).to.deep.equal(['single', 'single', 'single']);
    expect(groups[0]!.reason).to.equal('exp: elementwise, alone');
  });

  it('refuses a merge over the binding limit: an add chain over nine inputs becomes groups of at most 8 bindings', () => {
    const g = new Graph('wide');
    const inputs = Array.from({ length: 9 }, (_, k) => g.input(`x${k}`, [16]));
    const y = inputs.slice(1).reduce((sum, x) => sum.add(x), inputs[0]!);
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops.map((o) => o.length)).to.deep.equal([6, 2]);
    expect(groups.map((group) => group.storageBuffers)).to.deep.equal([8, 4]);
  });

  it('sibling fusion computes a bias gradient’s column sums as an extra row of the weight gradient, updates and all', () => {
    const { graph, groups } = fuseProgramEntry(seedMlp({ batch: 8 }), 'trainStep');
    const siblings = groups.filter((group) => group.kind === 'sibling');
    expect(siblings).to.have.length(3);
    for (const group of siblings) {
      const sums = group.columnSums!;
      expect(graph.node(group.anchor!).op).to.equal('matmul');
      expect(graph.node(sums.anchor).op).to.equal('sum');
      expect(sums.nodes.every((id) => group.nodes.includes(id))).to.equal(true);
      expect(group.reason).to.match(/^sibling fusion: .* with the column sums .* as an extra row of the same product$/);
    }
  });

  it('sinks the backward pass’s ReLU mask into the gradient matmul’s epilogue, computed from the stored activation', () => {
    const { graph, groups, ops } = fuseProgramEntry(seedMlp({ batch: 8 }), 'trainStep');
    const masked = groups.filter((group, k) => group.kind === 'epilogue' && ops[k]!.includes('greater'));
    expect(masked).to.have.length(2);
    for (const group of masked) {
      const mask = group.nodes.find((id) => graph.node(id).op === 'greater')!;
      // The mask is not an output: it is never written, only computed where it is used.
      expect(group.outputs).to.not.include(mask);
      expect(graph.node(mask).inputs.every((id) => !group.nodes.includes(id))).to.equal(true);
    }
  });
});
