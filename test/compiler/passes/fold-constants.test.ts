import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import { MAX_FOLDED_ELEMENTS, foldConstants } from '../../../compiler/passes/fold-constants.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { checkPass, nodesOf, opsOf } from './check.js';

const foldThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(foldConstants(p));

/** The values of the const an output points at. */
function outputConst(p: GraphProgram, name: string): readonly number[] {
  const node = p.graph.node(p.graph.outputs.get(name)!);
  expect(node.op, `output ${name}`).to.equal('const');
  return node.attrs['value'] as number[];
}

describe('foldConstants', () => {
  it('evaluates a chain of nodes over constants into one constant', () => {
    const g = new Graph('chain');
    g.output('y', g.constant([1, 2, 3]).mul(2).add(1).sum());
    const after = checkPass(foldThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal([]);
    expect(outputConst(after, 'y')).to.deep.equal([15]);
  });

  it('folds in f32, as the GPU computes', () => {
    const g = new Graph('f32');
    g.output('y', g.constant(0.1).add(0.2));
    expect(outputConst(checkPass(foldThenDce, programOf(g)), 'y')).to.deep.equal([Math.fround(Math.fround(0.1) + Math.fround(0.2))]);
  });

  it('keeps a splat a splat however large, and folds elementwise work on it', () => {
    const g = new Graph('splat');
    g.output('y', g.constant(2, { shape: [1000, 1000] }).exp().mul(g.constant(0.5)));
    const after = checkPass(foldThenDce, programOf(g));
    const node = after.graph.node(after.graph.outputs.get('y')!);
    expect(node.shape).to.deep.equal([1000, 1000]);
    expect(node.attrs['value']).to.deep.equal([Math.fround(Math.fround(Math.exp(2)) * 0.5)]);
  });

  it('folds a movement of a splat to a splat of the new shape', () => {
    const g = new Graph('moves');
    const c = g.constant(-3, { shape: [100, 200] });
    g.output('y', c.transpose().reshape([20000]).broadcastTo([3, 20000]));
    const after = checkPass(foldThenDce, programOf(g));
    expect(outputConst(after, 'y')).to.deep.equal([-3]);
    expect(after.graph.node(after.graph.outputs.get('y')!).shape).to.deep.equal([3, 20000]);
  });

  it('leaves a result larger than the limit unfolded unless it is a splat', () => {
    const g = new Graph('large');
    const big = g.constant(Array.from({ length: MAX_FOLDED_ELEMENTS + 1 }, (_, i) => i), { shape: [MAX_FOLDED_ELEMENTS + 1] });
    g.output('y', big.mul(2));
    expect(opsOf(checkPass(foldThenDce, programOf(g)))).to.deep.equal(['mul']);
  });

  it('folds a result of exactly the limit', () => {
    const g = new Graph('limit');
    const values = Array.from({ length: MAX_FOLDED_ELEMENTS }, (_, i) => i);
    g.output('y', g.constant(values, { shape: [MAX_FOLDED_ELEMENTS] }).mul(2));
    expect(outputConst(checkPass(foldThenDce, programOf(g)), 'y')).to.deep.equal(values.map((v) => 2 * v));
  });

  it('leaves nodes alone that read a computed value', () => {
    const g = new Graph('mixed');
    const x = g.input('x', [3]);
    g.output('y', x.add(g.constant(1).mul(2)));
    const after = checkPass(foldThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal(['add']);
    expect(nodesOf(after, 'const').map((n) => n.attrs['value'])).to.deep.equal([[2]]);
  });

  it('keeps NaN, infinities and the sign of zero in folded values', () => {
    const g = new Graph('special');
    g.output('y', g.constant([0, 1, -1, 2]).div(g.constant([0, 0, 0, -Infinity])));
    expect(outputConst(checkPass(foldThenDce, programOf(g)), 'y')).to.deep.equal([NaN, Infinity, -Infinity, -0]);
  });

  it('folds i32 and bool results with their own dtype', () => {
    const g = new Graph('ints');
    const i = g.constant([5, -7], { dtype: 'i32' }).div(g.constant(2, { dtype: 'i32' }));
    g.output('i', i);
    g.output('b', i.greater(g.constant(0, { dtype: 'i32' })));
    const after = checkPass(foldThenDce, programOf(g));
    expect(outputConst(after, 'i')).to.deep.equal([2, -3]);
    expect(outputConst(after, 'b')).to.deep.equal([1, 0]);
    expect(after.graph.node(after.graph.outputs.get('b')!).dtype).to.equal('bool');
  });
});
