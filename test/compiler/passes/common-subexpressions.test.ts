import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { sumOp } from '../../../compiler/ops/reduce.js';
import { eliminateCommonSubexpressions } from '../../../compiler/passes/common-subexpressions.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { checkPass, nodesOf, opsOf } from './check.js';

/** CSE, then DCE to drop the twins it left unread, as simplify runs them. */
const cseThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(eliminateCommonSubexpressions(p));

describe('eliminateCommonSubexpressions', () => {
  it('merges nodes with the same op, inputs and attributes, and what is built on them', () => {
    const g = new Graph('twins');
    const x = g.input('x', [2, 3]);
    g.output('a', x.exp().sum(1).add(1));
    g.output('b', x.exp().sum(1).add(1));
    const after = checkPass(cseThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal(['exp', 'sum', 'add']);
    expect(after.graph.outputs.get('a')).to.equal(after.graph.outputs.get('b'));
  });

  it('keeps nodes apart whose attributes differ', () => {
    const g = new Graph('axes');
    const x = g.input('x', [2, 2]);
    g.output('a', x.sum(0));
    g.output('b', x.sum(1));
    g.output('c', x.sum(1, true));
    const after = checkPass(cseThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal(['sum', 'sum', 'sum']);
  });

  it('compares attributes as canonical JSON, so their key order does not matter', () => {
    const g = new Graph('order');
    const x = g.input('x', [2, 2]);
    g.output('a', g.addNode(sumOp, [x], { axes: [0], keepdims: false }));
    g.output('b', g.addNode(sumOp, [x], { keepdims: false, axes: [0] }));
    expect(opsOf(checkPass(cseThenDce, programOf(g)))).to.deep.equal(['sum']);
  });

  it('merges equal literals, NaN with NaN, and a splat with the same values spelled out', () => {
    const g = new Graph('literals');
    const x = g.input('x', [2]);
    g.output('a', x.add(g.constant([1, 2])).add(g.constant([1, 2])));
    g.output('b', x.mul(NaN).mul(NaN));
    g.output('c', x.sub(g.constant(3, { shape: [2] })).sub(g.constant([3, 3], { shape: [2] })));
    const after = checkPass(cseThenDce, programOf(g));
    expect(nodesOf(after, 'const').map((n) => n.attrs['value'])).to.deep.equal([[1, 2], [NaN], [3]]);
  });

  it('keeps literals apart that differ in dtype, shape or the sign of zero', () => {
    const g = new Graph('distinct');
    const x = g.input('x', [2]);
    const i = g.input('i', [2], 'i32');
    g.output('a', x.add(0).add(-0).add(g.constant(0, { shape: [2] })));
    g.output('b', i.add(0));
    const after = checkPass(cseThenDce, programOf(g));
    const spell = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));
    const consts = nodesOf(after, 'const').map((n) => `${n.dtype}[${n.shape.join(',')}] ${spell((n.attrs['value'] as number[])[0]!)}`);
    expect(consts).to.deep.equal(['f32[] 0', 'f32[] -0', 'f32[2] 0', 'i32[] 0']);
  });
});
