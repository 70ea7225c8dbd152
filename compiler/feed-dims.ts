/**
 * The sizes of a graph's symbolic dims, read from what a run feeds: an input declared
 * `f32[batch,784]` fed a `[32,784]` array says batch = 32; fed 3136 flat values it says
 * 784·batch = 3136. Every input of a run must agree; a disagreement is a FeedError naming
 * both inputs and their sizes.
 */

import type { Dim } from './dims.js';
import { isSymbolic, substituteDim } from './dims.js';
import { FeedError } from './errors.js';
import type { Node } from './graph.js';
import type { HostArray } from './shape.js';
import { formatType, sizeOf } from './shape.js';

/** Where a dim's size was read: for error messages. */
interface Known {
  readonly size: number;
  readonly from: string;
}

/** An input's declared size (an axis, or its element count) and what was fed there. */
interface Constraint {
  readonly node: Node;
  readonly declared: Dim;
  readonly size: number;
  readonly from: string;
}

/** What a run fed one input: a host array (with a shape) or flat values (only a length). */
type Fed = HostArray | ArrayLike<number>;

const hasShape = (fed: Fed): fed is HostArray => 'shape' in fed && Array.isArray(fed.shape) && 'data' in fed;

/**
 * The size of each symbolic dim that `inputs`' shapes name, from `fed` (input name → what was
 * fed; inputs not fed are skipped). A dim fed no input that decides it is left out.
 */
export function dimsFromFeeds(inputs: readonly Node[], fed: (name: string) => Fed | undefined): Record<string, number> {
  const known = new Map<string, Known>();
  // Each (input, declared size, fed size) constraint; solved while any makes progress.
  const pending: Constraint[] = [];
  for (const node of inputs) {
    const given = fed(node.name!);
    if (given === undefined || node.shape.every((d) => !isSymbolic(d))) continue;
    if (hasShape(given)) {
      if (given.shape.length !== node.shape.length) continue; // the value check names the rank mismatch
      const from = `input '${node.name}' (${formatType(node)}) fed [${given.shape.join(',')}]`;
      // Static axes are checked with the value (a FeedError naming the expected type).
      node.shape.forEach((declared, axis) => isSymbolic(declared) && pending.push({ node, declared, size: given.shape[axis]!, from }));
    } else if (typeof given.length === 'number') {
      pending.push({ node, declared: sizeOf(node.shape), size: given.length, from: `input '${node.name}' (${formatType(node)}) fed ${given.length} values` });
    }
  }
  let open = pending;
  for (let progress = true; progress; ) {
    progress = false;
    const still: Constraint[] = [];
    for (const constraint of open) {
      const solved = solve(constraint, known);
      if (solved === 'open') still.push(constraint);
      else if (solved !== 'checked') {
        known.set(solved[0], { size: solved[1], from: constraint.from });
        progress = true;
      }
    }
    open = still;
  }
  return Object.fromEntries([...known].map(([name, k]) => [name, k.size]));
}

/**
 * What one constraint (declared size = fed size) says given the sizes known so far: a dim's
 * size when exactly one unknown dim remains and appears linearly; 'checked' when none
 * remains (a mismatch throws, naming both inputs); 'open' when it cannot decide yet.
 */
function solve({ declared, size, from, node }: Constraint, known: ReadonlyMap<string, Known>): [string, number] | 'checked' | 'open' {
  const rest = substituteDim(declared, Object.fromEntries([...known].map(([name, k]) => [name, k.size])));
  if (!isSymbolic(rest)) {
    if (rest === size) return 'checked';
    const names = isSymbolic(declared) ? declared.names : [];
    const sources = names.map((name) => `${name} = ${known.get(name)!.size} from ${known.get(name)!.from}`).join(' and ');
    const plain = names.length === 1 && String(declared) === names[0];
    throw new FeedError(
      `the feeds disagree on the size of ${names.join(', ')}: ${from} has ${String(declared)} = ${size}, but ${sources}${plain ? '' : ` (${String(declared)} = ${rest})`}. Fix: feed every input of a run with the same ${names.join(', ')}.`,
    );
  }
  const [name] = rest.names;
  if (rest.names.length !== 1 || !rest.terms.every((t) => t.names.length <= 1)) return 'open';
  const coefficient = rest.terms.find((t) => t.names.length === 1)!.coefficient;
  const offset = rest.terms.find((t) => t.names.length === 0)?.coefficient ?? 0;
  const value = (size - offset) / coefficient;
  if (!Number.isInteger(value) || value < 1) {
    throw new FeedError(`${from}: ${String(declared)} = ${size} gives no size for the dim '${name}' (a size is a whole number, at least 1). Fix: feed a whole, non-empty number of rows of ${formatType(node)}.`);
  }
  return [name!, value];
}
