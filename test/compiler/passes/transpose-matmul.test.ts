import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import type { MatmulOptions } from '../../../compiler/ops/matmul.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { foldTransposesIntoMatmul } from '../../../compiler/passes/transpose-matmul.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkPass, nodesOf, opsOf } from './check.js';

const foldThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(foldTransposesIntoMatmul(p));

/** matmul(build(a), build(b)) for inputs a, b of the given shapes, folded. */
function folded(
  shapeA: readonly number[],
  shapeB: readonly number[],
  build: (a: Tensor, b: Tensor) => [Tensor, Tensor],
  options: MatmulOptions = {},
): GraphProgram {
  const g = new Graph('mm');
  const [a, b] = build(g.input('a', shapeA), g.input('b', shapeB));
  g.output('y', matmul(a, b, options));
  return checkPass(foldThenDce, programOf(g));
}

const flags = (p: GraphProgram): [unknown, unknown] => {
  const node = nodesOf(p, 'matmul')[0]!;
  return [node.attrs['transposeA'], node.attrs['transposeB']];
};

describe('foldTransposesIntoMatmul', () => {
  it("folds a transpose of the first operand into transposeA", () => {
    const after = folded([4, 3], [4, 5], (a, b) => [a.transpose(), b]);
    expect(opsOf(after)).to.deep.equal(['matmul']);
    expect(flags(after)).to.deep.equal([true, false]);
  });

  it('folds a transpose of the second operand into transposeB', () => {
    const after = folded([3, 4], [5, 4], (a, b) => [a, b.transpose()]);
    expect(opsOf(after)).to.deep.equal(['matmul']);
    expect(flags(after)).to.deep.equal([false, true]);
  });

  it('clears a flag that was already set, and folds both operands at once', () => {
    const after = folded([3, 4], [5, 4], (a, b) => [a.transpose(), b.transpose()], { transposeA: true, transposeB: false });
    expect(opsOf(after)).to.deep.equal(['matmul']);
    expect(flags(after)).to.deep.equal([false, true]);
  });

  it('folds a batched transpose that swaps only the last two axes', () => {
    const after = folded([2, 4, 3], [2, 4, 5], (a, b) => [a.transpose([0, 2, 1]), b]);
    expect(opsOf(after)).to.deep.equal(['matmul']);
    expect(flags(after)).to.deep.equal([true, false]);
  });

  it('keeps a transpose that permutes batch axes', () => {
    const swapsBatch = folded([3, 2, 4, 5], [2, 3, 5, 6], (a, b) => [a.transpose([1, 0, 2, 3]), b]);
    expect(opsOf(swapsBatch)).to.deep.equal(['transpose', 'matmul']);
    const swapsBoth = folded([3, 2, 5, 4], [2, 3, 5, 6], (a, b) => [a.transpose([1, 0, 3, 2]), b]);
    expect(opsOf(swapsBoth)).to.deep.equal(['transpose', 'matmul']);
    expect(flags(swapsBoth)).to.deep.equal([false, false]);
  });

  it('keeps a transpose another consumer still reads', () => {
    const g = new Graph('shared');
    const at = g.input('a', [4, 3]).transpose();
    g.output('y', matmul(at, g.input('b', [4, 5])));
    g.output('t', at);
    const after = checkPass(foldThenDce, programOf(g));
    expect(opsOf(after)).to.deep.equal(['transpose', 'matmul']);
    expect(flags(after)).to.deep.equal([true, false]);
  });
});
