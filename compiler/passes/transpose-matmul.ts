/**
 * Transposes folded into matmul: the matmul kernel reads either operand transposed for
 * free (a flag), so a transpose node that only swaps an operand's last two axes is a
 * wasted kernel and buffer. A transpose that also permutes batch axes stays.
 */

import type { Node } from '../graph.js';
import type { MatmulAttrs } from '../ops/matmul.js';
import { matmulOp } from '../ops/matmul.js';
import type { Tensor } from '../tensor.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

/** Whether `perm` is [0, 1, …, r−3, r−1, r−2]: the matrix transpose of every batch element. */
function swapsOnlyLastTwo(perm: readonly number[]): boolean {
  const r = perm.length;
  return r >= 2 && perm[r - 1] === r - 2 && perm[r - 2] === r - 1 && perm.slice(0, -2).every((a, i) => a === i);
}

/** The transpose's operand when `x` is a last-two-axes transpose, else undefined. */
function untransposed(x: Tensor): Tensor | undefined {
  const node: Node = x.node;
  return node.op === 'transpose' && swapsOnlyLastTwo(node.attrs['perm'] as readonly number[]) ? x.graph.tensor(node.inputs[0]!) : undefined;
}

const foldTransposes: Rewrite = (node, [a, b], graph) => {
  if (node.op !== 'matmul') return undefined;
  const { transposeA, transposeB } = node.attrs as MatmulAttrs;
  const plainA = untransposed(a!);
  const plainB = untransposed(b!);
  if (!plainA && !plainB) return undefined;
  // op(xᵀ) with the flag t is op(x) with the flag !t.
  return graph.addNode(matmulOp, [plainA ?? a!, plainB ?? b!], {
    transposeA: plainA ? !transposeA : transposeA,
    transposeB: plainB ? !transposeB : transposeB,
  });
};

export function foldTransposesIntoMatmul(program: GraphProgram): GraphProgram {
  return rebuild(program, foldTransposes);
}
