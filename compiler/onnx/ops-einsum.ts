/**
 * ONNX Einsum, lowered to kiln's transpose, reshape, (batched) matmul, elementwise mul,
 * sum and gather. The equation is explicit ('ij,jk->ik') or implicit ('ij,jk': the labels
 * seen once, sorted); '...' stands for the leading dims, broadcast across operands.
 *
 * Each operand first takes its diagonals (a label repeated within it, 'ii->i', gathers
 * the diagonal) and sums the labels no one else needs; then operands are contracted left
 * to right. A pair with shared labels to sum becomes one batched matmul
 * [batch, left, summed] × [batch, summed, right]; a pair with none is a broadcast mul.
 */

import type { Dim } from '../dims.js';
import { dimProduct } from '../dims.js';
import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';

/** A tensor whose axes are named by labels: letters, or `...0`, `...1` for the dims '...' covers. */
interface Labeled {
  readonly t: Tensor;
  readonly labels: readonly string[];
}

const ELLIPSIS = '...';

/** A term's letters, with '...' kept as one entry; anything else is an error. */
function parseTerm(n: NodeContext, term: string, equation: string): string[] {
  const labels: string[] = [];
  for (let i = 0; i < term.length; ) {
    if (term.startsWith(ELLIPSIS, i)) {
      if (labels.includes(ELLIPSIS)) throw n.invalid(`equation '${equation}': the term '${term}' has two '...'`);
      labels.push(ELLIPSIS);
      i += 3;
    } else if (/[a-zA-Z]/.test(term[i]!)) {
      labels.push(term[i++]!);
    } else {
      throw n.invalid(`equation '${equation}': '${term[i]}' is not a letter or '...'`);
    }
  }
  return labels;
}

/** '...' replaced by the labels of the dims it covers, right-aligned across operands (rank `width`). */
function expandEllipsis(labels: readonly string[], covered: number, width: number): string[] {
  const dims = Array.from({ length: covered }, (_, j) => `${ELLIPSIS}${width - covered + j}`);
  return labels.flatMap((l) => (l === ELLIPSIS ? dims : [l]));
}

/** The diagonal of axes p and q (equal sizes): moves them last and gathers every (n+1)-th of their n·n values. */
function diagonal(n: NodeContext, x: Tensor, p: number, q: number): Tensor {
  const size = n.staticDim(x.shape[p]!, 'a repeated label takes a diagonal');
  const rest = x.shape.map((_, a) => a).filter((a) => a !== p && a !== q);
  const merged = x.transpose([...rest, p, q]).reshape([...rest.map((a) => x.shape[a]!), size * size]);
  const indices = n.graph.constant(Array.from({ length: size }, (_, i) => i * (size + 1)), { dtype: 'i32', shape: [size] });
  return merged.gather(indices, merged.rank - 1);
}

/** Takes every repeated label's diagonal, broadcasts '...' dims to their full size, and sums the labels in `needed` none. */
function prepare(n: NodeContext, operand: Labeled, sizes: ReadonlyMap<string, Dim>, needed: (label: string) => boolean, equation: string): Labeled {
  let { t, labels } = operand;
  for (let p = 0; p < labels.length; p++) {
    const q = labels.indexOf(labels[p]!, p + 1);
    if (q < 0) continue;
    if (t.shape[p] !== t.shape[q]) throw n.invalid(`equation '${equation}': label '${labels[p]}' repeats over dims of sizes ${t.shape[p]} and ${t.shape[q]}`);
    t = diagonal(n, t, p, q);
    labels = [...labels.filter((_, a) => a !== p && a !== q), labels[p]!];
    p = -1;
  }
  const full = labels.map((l) => sizes.get(l)!);
  if (full.some((d, a) => d !== t.shape[a])) t = t.broadcastTo(full);
  const summed = labels.flatMap((l, a) => (needed(l) ? [] : [a]));
  if (summed.length > 0) t = t.sum(summed);
  return { t, labels: labels.filter((l) => needed(l)) };
}

/** `x` with its axes in the order of `order` (labels it lacks become size-1 axes). */
function arrange(x: Labeled, order: readonly string[]): Tensor {
  const present = order.filter((l) => x.labels.includes(l));
  const perm = present.map((l) => x.labels.indexOf(l));
  const moved = perm.every((a, i) => a === i) ? x.t : x.t.transpose(perm);
  const shape = order.map((l) => (x.labels.includes(l) ? x.t.shape[x.labels.indexOf(l)]! : 1));
  return shape.length === moved.rank ? moved : moved.reshape(shape);
}

/** a ⊗ b summed over their shared labels not in `keep`. */
function contract(a: Labeled, b: Labeled, keep: (label: string) => boolean): Labeled {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const summed = shared.filter((l) => !keep(l));
  const batch = shared.filter((l) => keep(l));
  const left = a.labels.filter((l) => !shared.includes(l));
  const right = b.labels.filter((l) => !shared.includes(l));
  const labels = [...batch, ...left, ...right];
  if (summed.length === 0) return { t: arrange(a, labels).mul(arrange(b, labels)), labels };
  const size = (x: Labeled, l: string): Dim => x.t.shape[x.labels.indexOf(l)]!;
  const dims = (x: Labeled, ls: readonly string[]): Dim => dimProduct(ls.map((l) => size(x, l)));
  const lhs = arrange(a, [...batch, ...left, ...summed]).reshape([dims(a, batch), dims(a, left), dims(a, summed)]);
  const rhs = arrange(b, [...batch, ...summed, ...right]).reshape([dims(b, batch), dims(b, summed), dims(b, right)]);
  const shape = [...batch.map((l) => size(a, l)), ...left.map((l) => size(a, l)), ...right.map((l) => size(b, l))];
  return { t: k.matmul(lhs, rhs).reshape(shape), labels };
}

function einsum(n: NodeContext): Tensor {
  const equation = n.string('equation', '').replace(/\s/g, '');
  const operands = n.inputs();
  const [lhs, rhs] = equation.split('->') as [string, string | undefined];
  if (equation.split('->').length > 2) throw n.invalid(`equation '${equation}' has more than one '->'`);
  const terms = lhs.split(',').map((term) => parseTerm(n, term, equation));
  if (terms.length !== operands.length) throw n.invalid(`equation '${equation}' has ${terms.length} input terms for ${operands.length} inputs`);
  const covered = terms.map((labels, i) => {
    const letters = labels.filter((l) => l !== ELLIPSIS).length;
    const extra = operands[i]!.rank - letters;
    if (extra < 0 || (extra > 0 && !labels.includes(ELLIPSIS))) {
      throw n.invalid(`equation '${equation}': the term '${lhs.split(',')[i]}' names ${letters} dims of input ${i}, which has rank ${operands[i]!.rank}`);
    }
    return extra;
  });
  const width = Math.max(0, ...covered);
  const inputs: Labeled[] = operands.map((t, i) => ({ t, labels: expandEllipsis(terms[i]!, covered[i]!, width) }));
  const broadcastLabels = expandEllipsis([ELLIPSIS], width, width);
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const label of terms.flat()) if (label !== ELLIPSIS) counts.set(label, (counts.get(label) ?? 0) + 1);
    output = [...broadcastLabels, ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    output = expandEllipsis(parseTerm(n, rhs, equation), width, width);
  }
  const sizes = new Map<string, Dim>();
  for (const { t, labels } of inputs) {
    labels.forEach((l, a) => {
      const [known, dim] = [sizes.get(l), t.shape[a]!];
      const broadcasts = l.startsWith(ELLIPSIS) && (known === 1 || dim === 1);
      if (known !== undefined && known !== dim && !broadcasts) throw n.invalid(`equation '${equation}': label '${l}' has sizes ${known} and ${dim}`);
      sizes.set(l, known === undefined || known === 1 ? dim : known);
    });
  }
  for (const l of output) {
    if (!sizes.has(l)) throw n.invalid(`equation '${equation}': the output label '${l}' is in no input`);
    if (output.indexOf(l) !== output.lastIndexOf(l)) throw n.invalid(`equation '${equation}': the output repeats label '${l}'`);
  }
  const neededAfter = (i: number) => (label: string) => output.includes(label) || inputs.some((x, j) => j > i && x.labels.includes(label));
  let result = prepare(n, inputs[0]!, sizes, neededAfter(0), equation);
  for (let i = 1; i < inputs.length; i++) {
    const next = prepare(n, inputs[i]!, sizes, (l) => neededAfter(i)(l) || result.labels.includes(l), equation);
    const kept = neededAfter(i);
    result = contract(prepare(n, result, sizes, (l) => kept(l) || next.labels.includes(l), equation), next, kept);
  }
  return arrange(result, output);
}

registerHandlers({
  Einsum: { attributes: ['equation'], convert: einsum },
});
