import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { transpose } from '../../../compiler/ops/shape.js';
import { checkGradients } from '../../gradcheck.js';
import { values } from '../../helpers.js';
import { gradientOf } from './second-order.js';

/** Stored shape of an operand whose logical matrix is [rows, cols], given its transpose flag. */
const stored = (batch: number[], rows: number, cols: number, transpose: boolean): number[] =>
  transpose ? [...batch, cols, rows] : [...batch, rows, cols];

describe('matmul gradients', () => {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const flags = { transposeA, transposeB };
      it(`match finite differences with transposeA=${transposeA}, transposeB=${transposeB}`, () => {
        checkGradients({
          inputs: [{ shape: stored([], 3, 4, transposeA) }, { shape: stored([], 4, 5, transposeB) }],
          build: ([a, b]) => matmul(a!, b!, flags),
        });
      });

      it(`sum broadcast batch dims back with transposeA=${transposeA}, transposeB=${transposeB}`, () => {
        // [2,1]·[5] batches broadcast to [2,5]: a's gradient sums over 5 matrices, b's over 2.
        checkGradients({
          inputs: [{ shape: stored([2, 1], 3, 4, transposeA) }, { shape: stored([5], 4, 2, transposeB) }],
          build: ([a, b]) => matmul(a!, b!, flags),
        });
      });

      it(`of second order with transposeA=${transposeA}, transposeB=${transposeB}`, () => {
        checkGradients({
          inputs: [{ shape: stored([2], 2, 3, transposeA) }, { shape: stored([], 3, 2, transposeB) }],
          build: gradientOf(([a, b]) => matmul(a!, b!, flags)),
        });
      });
    }
  }

  it('sum back batch dims broadcast in both operands, or missing from one', () => {
    checkGradients({ inputs: [{ shape: [1, 3, 2, 4] }, { shape: [2, 1, 4, 3] }], build: ([a, b]) => matmul(a!, b!) });
    checkGradients({ inputs: [{ shape: [2, 3] }, { shape: [4, 3, 2] }], build: ([a, b]) => matmul(a!, b!) });
  });

  it('handle 1-D operands: vector·matrix, matrix·vector, batched, and the dot product', () => {
    checkGradients({ inputs: [{ shape: [4] }, { shape: [4, 3] }], build: ([a, b]) => matmul(a!, b!) });
    checkGradients({ inputs: [{ shape: [3, 4] }, { shape: [4] }], build: ([a, b]) => matmul(a!, b!) });
    checkGradients({ inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], build: ([a, b]) => matmul(a!, b!) });
    checkGradients({ inputs: [{ shape: [4] }, { shape: [4] }], build: ([a, b]) => matmul(a!, b!) });
  });

  it('give the textbook dA = G·Bᵀ and dB = Aᵀ·G', () => {
    const g = new Graph('t');
    const a = g.input('a', [2, 2]);
    const b = g.input('b', [2, 2]);
    const [da, db] = grad(sum(matmul(a, b)), [a, b]);
    const feeds = { feeds: { a: [1, 2, 3, 4], b: [5, 6, 7, 8] } };
    // G is all ones: dA[i,k] = Σ_j B[k,j], dB[k,j] = Σ_i A[i,k].
    expect(values(da!, feeds)).to.deep.equal([11, 15, 11, 15]);
    expect(values(db!, feeds)).to.deep.equal([4, 4, 6, 6]);
  });

  it('build only matmul nodes with flags for transposed operands, no transpose nodes', () => {
    const g = new Graph('t');
    const a = g.input('a', [4, 3]);
    const b = g.input('b', [5, 4]);
    const before = g.nodes.length;
    grad(sum(matmul(a, b, { transposeA: true, transposeB: true })), [a, b]);
    expect(g.nodes.slice(before).some((n) => n.op === 'transpose')).to.equal(false);
  });

  it('of second order through a product with itself and a transpose', () => {
    checkGradients({ inputs: [{ shape: [3, 3] }], build: gradientOf(([x]) => matmul(x!, x!)) });
    checkGradients({ inputs: [{ shape: [2, 3] }], build: gradientOf(([x]) => matmul(x!, transpose(x!))) });
  });
});
