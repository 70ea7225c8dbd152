import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { eliminateDeadCode } from '../../../compiler/passes/dead-code.js';
import { mergeReductions } from '../../../compiler/passes/merge-reductions.js';
import type { GraphProgram } from '../../../compiler/passes/program.js';
import { programOf } from '../../../compiler/passes/program.js';
import { simplify } from '../../../compiler/passes/simplify.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { leNet } from '../../../examples/models/lenet.js';
import { testData } from '../../helpers.js';
import type { SameResultsOptions } from './check.js';
import { checkPass, nodesOf, opsOf, valuesFor } from './check.js';

const mergeThenDce = (p: GraphProgram): GraphProgram => eliminateDeadCode(mergeReductions(p));

type Reduce = (x: Tensor, axes: number[], keepdims: boolean) => Tensor;
const MERGEABLE: Record<string, Reduce> = {
  sum: (x, axes, keep) => x.sum(axes, keep),
  mean: (x, axes, keep) => x.mean(axes, keep),
  prod: (x, axes, keep) => x.prod(axes, keep),
  max: (x, axes, keep) => x.max(axes, keep),
  min: (x, axes, keep) => x.min(axes, keep),
  logsumexp: (x, axes, keep) => x.logsumexp(axes, keep),
};

/** A float sum or product merged rounds once where the pair rounded twice: equal to f32 rounding. */
const ROUNDING: SameResultsOptions = { rtol: 1e-6 };

function merged(shape: readonly number[], build: (x: Tensor) => Tensor, options: SameResultsOptions = ROUNDING): GraphProgram {
  const g = new Graph('merge');
  g.output('y', build(g.input('x', shape)));
  return checkPass(mergeThenDce, programOf(g), options);
}

/** The one reduction left: its op, axes, keepdims and input shape. */
function reduction(p: GraphProgram): { op: string; axes: unknown; keepdims: unknown; input: readonly unknown[] } {
  const [node, ...rest] = p.graph.nodes.filter((n) => Object.keys(MERGEABLE).includes(n.op));
  expect(rest, 'one reduction').to.deep.equal([]);
  return { op: node!.op, axes: node!.attrs['axes'], keepdims: node!.attrs['keepdims'], input: p.graph.node(node!.inputs[0]!).shape };
}

describe('mergeReductions', () => {
  it("makes a conv bias gradient, autodiff's sum over H, W (keepdims) then over the batch, one sum", () => {
    const after = merged([4, 3, 5, 6], (x) => x.sum([2, 3], true).sum([0]));
    expect(opsOf(after)).to.deep.equal(['reshape', 'sum']);
    // Size-1 axes appended to x give the [3,1,1] the pair gave, without a copy.
    expect(reduction(after)).to.deep.equal({ op: 'sum', axes: [0, 2, 3], keepdims: false, input: [4, 3, 5, 6, 1, 1] });
  });

  it('merges every reducer that is exact to merge, with every keepdims, on axes read through the inner result', () => {
    const cases: [number[], boolean, number[], boolean][] = [
      [[2, 3], true, [0], false],
      [[2, 3], true, [0, 3], true],
      [[1], false, [0, 2], false],
      [[1], false, [1], true],
      [[0, 3], true, [1], false],
      [[3], false, [0], true],
    ];
    for (const [op, reduce] of Object.entries(MERGEABLE)) {
      for (const [inner, k1, outer, k2] of cases) {
        const after = merged([3, 4, 2, 5], (x) => reduce(reduce(x, inner, k1), outer, k2));
        expect(reduction(after).op, `${op} ${inner} ${k1} ${outer} ${k2}`).to.equal(op);
      }
    }
  });

  it('merges over size-1 axes and odd sizes: [1,7,1,9]', () => {
    for (const reduce of Object.values(MERGEABLE)) reduction(merged([1, 7, 1, 9], (x) => reduce(reduce(x, [2, 3], false), [0], true)));
  });

  it('keeps keepdims on the one reduction when both kept every axis', () => {
    const after = merged([3, 4, 5], (x) => x.max([2], true).max([0], true));
    expect(reduction(after)).to.deep.equal({ op: 'max', axes: [0, 2], keepdims: true, input: [3, 4, 5] });
    expect(opsOf(after)).to.deep.equal(['max']);
  });

  it('gives empty groups the same value: sum 0, prod 1, mean NaN, logsumexp −∞', () => {
    for (const op of ['sum', 'prod', 'mean', 'logsumexp']) {
      const reduce = MERGEABLE[op]!;
      merged([2, 0, 3], (x) => reduce(reduce(x, [1], true), [0], false), { feeds: { x: [] } });
      merged([2, 3, 0], (x) => reduce(reduce(x, [0], false), [0], false), { feeds: { x: [] } });
    }
  });

  it('keeps NaN and ±∞ where the pair had them', () => {
    const x = testData(60, 3, -2, 2);
    x[7] = NaN;
    x[20] = Infinity;
    x[41] = -Infinity;
    for (const reduce of Object.values(MERGEABLE)) merged([3, 4, 5], (t) => reduce(reduce(t, [2], false), [0], false), { feeds: { x }, rtol: 1e-6 });
  });

  it('wraps i32 sums and products as the pair did, exactly', () => {
    const g = new Graph('i32');
    const x = g.input('x', [4, 3, 6], 'i32');
    g.output('s', x.sum([2]).sum([0]));
    g.output('p', x.prod([0], true).prod([2]));
    const big = Array.from({ length: 72 }, (_, i) => (i * 99_991_231) | 0);
    const after = checkPass(mergeThenDce, programOf(g), { feeds: { x: big } });
    expect(opsOf(after)).to.deep.equal(['sum', 'reshape', 'prod']);
  });

  it('leaves the pair when the inner result has another reader', () => {
    const g = new Graph('shared');
    const inner = g.input('x', [3, 4, 5]).sum([2]);
    g.output('y', inner.sum([0]));
    g.output('inner', inner);
    expect(opsOf(checkPass(mergeThenDce, programOf(g)))).to.deep.equal(['sum', 'sum']);
    const h = new Graph('read');
    const half = h.input('x', [3, 4, 5]).sum([2]);
    h.output('y', half.sum([0]).add(half.sum([1]).sum()));
    // The inner sum read twice stays; the pair behind the second reader merges.
    expect(opsOf(checkPass(mergeThenDce, programOf(h), ROUNDING))).to.deep.equal(['sum', 'sum', 'sum', 'add']);
  });

  it('leaves different reducers and the index reductions alone', () => {
    expect(opsOf(merged([3, 4, 5], (x) => x.max([2]).sum([0]), {}))).to.deep.equal(['max', 'sum']);
    expect(opsOf(merged([3, 4, 5], (x) => x.mean([2]).sum([0]), {}))).to.deep.equal(['mean', 'sum']);
    const g = new Graph('arg');
    g.output('y', g.input('x', [3, 4, 5]).argmax(2).argmax(0));
    expect(opsOf(checkPass(mergeThenDce, programOf(g)))).to.deep.equal(['argmax', 'argmax']);
  });

  it('merges a chain of three within simplify, and a symbolic batch', () => {
    const g = new Graph('chain');
    const x = g.input('x', ['batch', 3, 4, 5]);
    g.output('y', x.sum([3], true).sum([2]).sum([0]));
    const feeds = (n: number): Record<string, number[]> => ({ x: testData(n * 60, n, -2, 2) });
    const after = checkPass(simplify, programOf(g), { feeds: feeds(3), rtol: 1e-6 });
    const { input, ...rest } = reduction(after);
    expect(rest).to.deep.equal({ op: 'sum', axes: [0, 2, 3], keepdims: false });
    expect(input.map(String)).to.deep.equal(['batch', '3', '4', '5', '1']);
    for (const n of [1, 7]) checkPass(() => after, programOf(g), { feeds: feeds(n), rtol: 1e-6 });
  });

  it("leaves LeNet's conv bias gradients one reduction each", () => {
    const program = programOf(leNet({ batch: 2 }));
    const labels = [3, 7];
    const after = checkPass(simplify, program, { feeds: { ...valuesFor(program.graph, ['input']), labels }, rtol: 1e-5 });
    const sumOfSum = nodesOf(after, 'sum').filter((n) => after.graph.node(n.inputs[0]!).op === 'sum');
    expect(sumOfSum).to.deep.equal([]);
    const biasGradients = nodesOf(after, 'sum').filter((n) => (n.attrs['axes'] as number[]).join() === '0,2,3');
    expect(biasGradients.map((n) => n.shape)).to.deep.equal([
      [16, 1, 1],
      [6, 1, 1],
    ]);
  });
});
