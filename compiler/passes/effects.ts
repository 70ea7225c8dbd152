/**
 * Which ops the simplifier may evaluate early or merge. A pure op's result depends only
 * on its inputs and attributes; a random draw or a read of mutable state does not, so
 * folding it to a constant or merging two of its nodes would change the program.
 */

/** Ops that are not pure. None exist yet: a random op (dropout's mask) joins here. */
const IMPURE_OPS: ReadonlySet<string> = new Set<string>();

export function isPure(op: string): boolean {
  return !IMPURE_OPS.has(op);
}
