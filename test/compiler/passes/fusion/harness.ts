/** Fusion on the CPU: an entry's groups, with each group's ops, for the fusion decision tests. */

import { ancestorsOf, Graph } from '../../../../compiler/graph.js';
import { compileStages } from '../../../../compiler/plan.js';
import type { FusionGroup } from '../../../../compiler/passes/fusion/index.js';
import { fuseEntry } from '../../../../compiler/passes/fusion/index.js';
import type { TrainingProgram } from '../../../../compiler/train.js';

export interface Fused {
  readonly graph: Graph;
  readonly groups: readonly FusionGroup[];
  /** Each group's ops, in its node order. */
  readonly ops: readonly string[][];
}

export interface EntryOf {
  readonly outputs: readonly number[];
  readonly assignments?: readonly (readonly [number, number])[];
}

/** Fuses `entry` of `graph` as written (no simplification), for a device binding `maxBindings` storage buffers. */
export function fuseGraph(graph: Graph, entry: EntryOf, options: { fuse?: boolean; maxBindings?: number } = {}): Fused {
  const assignments = entry.assignments ?? [];
  const needed = ancestorsOf(graph, [...entry.outputs, ...assignments.map(([, value]) => value)]);
  const groups = fuseEntry(
    graph,
    { needed, outputs: entry.outputs, assignments },
    { fuse: options.fuse !== false, limits: { maxStorageBuffersPerShaderStage: options.maxBindings ?? 8 } },
  );
  return { graph, groups, ops: groups.map((g) => g.nodes.map((id) => graph.node(id).op)) };
}

/** Fuses an entry of a graph or training program as compile does (modes specialized, simplified). */
export function fuseProgramEntry(source: Graph | TrainingProgram, name: string, options: { fuse?: boolean } = {}): Fused {
  const { graph, entries } = compileStages(source).simplified;
  const entry = entries[name]!;
  return fuseGraph(graph, { outputs: Object.values(entry.outputs), assignments: entry.assignments }, options);
}
