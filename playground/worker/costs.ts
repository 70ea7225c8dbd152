/**
 * What each kernel computes and moves (compiler/kernel-cost.ts), per entry in dispatch
 * order, for the kernels table's roofline columns (FLOPs, bytes, and with a time GFLOP/s
 * and GB/s). It needs the graph the kernels name, which only the worker holds, so the
 * compile result carries it. A plan with symbolic dims is costed at its planning sizes,
 * the sizes its memory is planned for.
 */

import { entryCosts } from '../../compiler/kernel-cost.js';
import type { KernelCost } from '../../compiler/kernel-cost.js';
import { planningDims } from '../../compiler/memory.js';
import type { CompileStages } from '../../compiler/plan.js';

export type { KernelCost };

export interface PlanCosts {
  /** The sizes of the plan's symbolic dims the costs are counted at (`{}` for a static plan); Time kernels times at these too. */
  readonly dims: Readonly<Record<string, number>>;
  /** Entry name → the cost of each of its dispatches, in dispatch order. */
  readonly entries: Readonly<Record<string, readonly KernelCost[]>>;
}

export function kernelCosts(stages: Pick<CompileStages, 'plan' | 'simplified'>): PlanCosts {
  const { plan, simplified } = stages;
  const dims = planningDims(plan);
  return { dims, entries: Object.fromEntries(Object.keys(plan.entries).map((entry) => [entry, entryCosts(plan, simplified.graph, entry, dims)])) };
}
