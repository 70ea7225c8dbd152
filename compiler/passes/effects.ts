/**
 * Which ops the simplifier may evaluate early or merge. A pure op's result depends only
 * on its inputs and attributes; a random draw or a read of mutable state does not, so
 * folding it to a constant or merging two of its nodes would change the program.
 */

/**
 * Ops that are not pure. None: `randomUniform` is counter-based, its draws a function of
 * the graph seed, its stream and its counter input, so equal draws may merge.
 */
const IMPURE_OPS: ReadonlySet<string> = new Set<string>();

export function isPure(op: string): boolean {
  return !IMPURE_OPS.has(op);
}
