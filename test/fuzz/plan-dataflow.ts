/**
 * Dataflow checks of a compiled plan that need no GPU (so a fuzz failure of this kind is
 * found, and minimized, without running anything), from each kernel's bindings and their
 * access (`read` or `read_write`): every buffer a kernel
 * only reads holds a value by then (fed, persistent, a constant, or written by an earlier
 * kernel of the entry), and no kernel binds one GPU allocation both read-only and
 * writable (WebGPU rejects the whole command buffer for that).
 */

import type { Plan } from '../../compiler/plan-format.js';

/** A violation: its kind, and a message naming the entry, kernel and buffers. */
export interface DataflowProblem {
  readonly kind: 'reads an unwritten buffer' | 'binds one allocation read-only and writable';
  readonly message: string;
}

/** The plan's dataflow violations, in dispatch order (none for a sound plan). */
export function planDataflowProblems(plan: Plan): DataflowProblem[] {
  const problems: DataflowProblem[] = [];
  const label = (id: number): string => `#${id} (${plan.buffers[id]!.name})`;
  const allocationOf = (id: number): number => plan.buffers[id]!.allocation ?? id;
  const writable = plan.kernels.map((kernel) => kernel.bindings.map(({ access }) => access === 'read_write'));

  for (const [name, entry] of Object.entries(plan.entries)) {
    const holdsValue = new Set(plan.buffers.filter((b) => b.role !== 'transient' && b.role !== 'input').map((b) => b.id));
    for (const id of Object.values(entry.inputs)) holdsValue.add(id);
    for (const k of entry.dispatches) {
      const kernel = plan.kernels[k]!;
      const where = `entry '${name}', kernel ${kernel.name} (${kernel.ops.join(', ')})`;
      const ids = kernel.bindings.map(({ buffer }) => buffer);
      ids.forEach((id, i) => {
        if (!writable[k]![i] && !holdsValue.has(id)) {
          problems.push({ kind: 'reads an unwritten buffer', message: `${where} reads ${label(id)}, which no earlier kernel writes` });
        }
        const clash = ids.findIndex((other, j) => j > i && allocationOf(other) === allocationOf(id) && (writable[k]![i] || writable[k]![j]));
        if (clash >= 0) {
          problems.push({
            kind: 'binds one allocation read-only and writable',
            message: `${where} binds ${label(id)} and ${label(ids[clash]!)}, one allocation, and writes it`,
          });
        }
      });
      ids.forEach((id, i) => writable[k]![i] && holdsValue.add(id));
    }
  }
  return problems;
}
