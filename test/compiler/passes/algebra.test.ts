import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { castOp } from '../../../compiler/ops/cast.js';
import { simplifyAlgebra } from '../../../compiler/passes/algebra.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { checkPass, nodesOf, opsOf } from './check.js';

const algebraThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(simplifyAlgebra(p));

/** The simplified program of a graph with input `x` (f32[2,3], or as given) and output `build(x)`. */
function simplified(build: (x: Tensor, g: Graph) => Tensor, shape: readonly number[] = [2, 3], dtype: 'f32' | 'i32' = 'f32', feeds?: Record<string, number[]>): GraphProgram {
  const g = new Graph('algebra');
  g.output('y', build(g.input('x', shape, dtype), g));
  return checkPass(algebraThenDce, programOf(g), feeds ? { feeds } : {});
}

/** Whether the output is the input itself. */
const isInput = (p: GraphProgram): boolean => p.graph.node(p.graph.outputs.get('y')!).op === 'input';

describe('simplifyAlgebra', () => {
  const identities: [string, (x: Tensor) => Tensor][] = [
    ['x·1', (x) => x.mul(1)],
    ['1·x', (x) => x.graph.constant(1).mul(x)],
    ['x+0', (x) => x.add(0)],
    ['0+x', (x) => x.graph.constant(0).add(x)],
    ['x−0', (x) => x.sub(0)],
    ['x/1', (x) => x.div(1)],
    ['x·ones of its own shape', (x) => x.mul(x.graph.constant(1, { shape: [2, 3] }))],
    ['−(−x)', (x) => x.neg().neg()],
    ['stopGradient(x)', (x) => x.stopGradient()],
    ['reshape(x) to its own shape', (x) => x.reshape([2, 3])],
    ['broadcastTo(x) to its own shape', (x) => x.broadcastTo([2, 3])],
    ['transpose(x) with the identity permutation', (x) => x.transpose([0, 1])],
    ['a transpose and its inverse', (x) => x.transpose().transpose()],
    ['a reshape and its inverse', (x) => x.reshape([3, 2]).reshape([2, 3])],
    ['cast(x) to its own dtype', (x) => x.graph.addNode(castOp, [x], { dtype: 'f32' })],
  ];
  for (const [name, build] of identities) {
    it(`rewrites ${name} to x`, () => {
      const after = simplified(build);
      expect(isInput(after), after.graph.toString()).to.equal(true);
      expect(opsOf(after)).to.deep.equal([]);
    });
  }

  it('rewrites i32 x·1 and x/1 to x', () => {
    const after = simplified((x) => x.mul(1).div(1), [4], 'i32');
    expect(isInput(after)).to.equal(true);
  });

  it('keeps a multiply by ones that broadcasts x to a larger shape', () => {
    const after = simplified((x) => x.mul(x.graph.constant(1, { shape: [2, 3] })), [3]);
    expect(opsOf(after)).to.deep.equal(['mul']);
    expect(after.graph.node(after.graph.outputs.get('y')!).shape).to.deep.equal([2, 3]);
  });

  it('keeps an add of zeros that broadcasts x, on either side', () => {
    const after = simplified((x) => x.add(x.graph.constant(0, { shape: [4, 1] })).add(x.graph.constant(0, { shape: [2, 4, 1] })), [1]);
    expect(opsOf(after)).to.deep.equal(['add', 'add']);
  });

  it('keeps 1 − x, 0 − x and 1 / x, which are not x', () => {
    const after = simplified((x) => x.graph.constant(1).sub(x).add(x.graph.constant(0).sub(x)).add(x.graph.constant(1).div(x)));
    expect(opsOf(after)).to.deep.equal(['sub', 'sub', 'add', 'div', 'add']);
  });

  it('keeps x·0, since NaN·0 is NaN', () => {
    const after = simplified((x) => x.mul(0), [3], 'f32', { x: [NaN, Infinity, 2] });
    expect(opsOf(after)).to.deep.equal(['mul']);
  });

  it('keeps a multiply by a constant that is not all ones', () => {
    const after = simplified((x) => x.mul(x.graph.constant([1, 1, 2])));
    expect(opsOf(after)).to.deep.equal(['mul']);
  });

  it('keeps a single negation and a cast to another dtype', () => {
    expect(opsOf(simplified((x) => x.neg().neg().neg()))).to.deep.equal(['neg']);
    expect(opsOf(simplified((x) => x.cast('i32')))).to.deep.equal(['cast']);
  });

  it('composes two transposes into one', () => {
    const after = simplified((x) => x.transpose([1, 2, 0]).transpose([0, 2, 1]), [2, 3, 4]);
    expect(opsOf(after)).to.deep.equal(['transpose']);
    expect(nodesOf(after, 'transpose')[0]!.attrs['perm']).to.deep.equal([1, 0, 2]);
  });

  it('composes a chain of reshapes into one', () => {
    const after = simplified((x) => x.reshape([6]).reshape([3, 2]).reshape([1, 6]), [2, 3]);
    expect(opsOf(after)).to.deep.equal(['reshape']);
    expect(nodesOf(after, 'reshape')[0]!.attrs['shape']).to.deep.equal([1, 6]);
  });

  it('keeps a broadcast to a larger shape', () => {
    expect(opsOf(simplified((x) => x.broadcastTo([4, 2, 3])))).to.deep.equal(['broadcastTo']);
  });
});
