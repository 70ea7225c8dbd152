import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { cleanupBroadcastReduce } from '../../../compiler/passes/broadcast-reduce.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkPass, nodesOf, opsOf } from './check.js';

const cleanupThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(cleanupBroadcastReduce(p));

function cleaned(shape: readonly number[], build: (x: Tensor) => Tensor, dtype: 'f32' | 'i32' = 'f32'): GraphProgram {
  const g = new Graph('bcast');
  g.output('y', build(g.input('x', shape, dtype)));
  return checkPass(cleanupThenDce, programOf(g));
}

/** The scalar each multiply scales by. */
const scales = (p: GraphProgram): unknown[] =>
  nodesOf(p, 'mul').map((n) => p.graph.node(n.inputs[1]!).attrs['value']);

describe('cleanupBroadcastReduce', () => {
  it('turns a sum over the axes a broadcast added into a multiply by their size', () => {
    const after = cleaned([3], (x) => x.broadcastTo([4, 3]).sum(0));
    expect(opsOf(after)).to.deep.equal(['mul']);
    expect(scales(after)).to.deep.equal([[4]]);
  });

  it('reshapes the scaled operand to the shape the sum gives', () => {
    const keep = cleaned([3, 1], (x) => x.broadcastTo([3, 5]).sum(1, true));
    expect(opsOf(keep)).to.deep.equal(['mul']);
    const drop = cleaned([3, 1], (x) => x.broadcastTo([3, 5]).sum(1));
    expect(opsOf(drop)).to.deep.equal(['mul', 'reshape']);
    const many = cleaned([1, 3], (x) => x.broadcastTo([2, 4, 3]).sum([0, 1]));
    expect(opsOf(many)).to.deep.equal(['mul', 'reshape']);
    expect(scales(many)).to.deep.equal([[8]]);
  });

  it('needs no multiply when every summed axis has size 1', () => {
    const after = cleaned([3], (x) => x.broadcastTo([1, 3]).sum(0));
    expect(opsOf(after)).to.deep.equal([]);
  });

  it('scales i32 sums too', () => {
    const after = cleaned([2], (x) => x.broadcastTo([3, 2]).sum(0), 'i32');
    expect(opsOf(after)).to.deep.equal(['mul']);
  });

  it('keeps a sum that also adds distinct elements', () => {
    expect(opsOf(cleaned([3], (x) => x.broadcastTo([4, 3]).sum()))).to.deep.equal(['broadcastTo', 'sum']);
  });

  it('keeps a sum that leaves a broadcast axis unsummed', () => {
    expect(opsOf(cleaned([1, 1], (x) => x.broadcastTo([4, 3]).sum(0)))).to.deep.equal(['broadcastTo', 'sum']);
  });

  it('keeps a sum over an empty broadcast axis, which is 0 even for NaN', () => {
    const g = new Graph('empty');
    g.output('y', g.input('x', [3]).broadcastTo([0, 3]).sum(0));
    const after = checkPass(cleanupThenDce, programOf(g), { feeds: { x: [NaN, 1, 2] } });
    expect(opsOf(after)).to.deep.equal(['broadcastTo', 'sum']);
  });

  it('keeps reductions other than sum', () => {
    expect(opsOf(cleaned([3], (x) => x.broadcastTo([4, 3]).max(0)))).to.deep.equal(['broadcastTo', 'max']);
  });

  it("folds autodiff's seed cotangent, reshape then broadcast of a splat, into one splat", () => {
    const g = new Graph('seed');
    g.output('y', g.constant(1).reshape([1]).broadcastTo([4]).reshape([4, 1]).broadcastTo([4, 10]));
    const after = checkPass(cleanupThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal([]);
    const node = after.graph.node(after.graph.outputs.get('y')!);
    expect([node.op, node.shape, node.attrs['value']]).to.deep.equal(['const', [4, 10], [1]]);
  });

  it('leaves a broadcast of a constant that is not a splat', () => {
    const g = new Graph('table');
    g.output('y', g.constant([1, 2]).broadcastTo([3, 2]));
    expect(opsOf(checkPass(cleanupThenDce, programOf(g)))).to.deep.equal(['broadcastTo']);
  });
});
