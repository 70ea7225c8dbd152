/**
 * An entry's output that names a param or state the entry updates (`outputs: {w}`, or a
 * reshape of it) returns the value before the update, as the reference interpreter does:
 * every value of a step is computed from the old state. On the GPU the update lands in the
 * param's own buffer (in place, or by a copy after the kernels) before outputs are read
 * back, so such an output gets a copy of its own, made by a kernel that reads the old value.
 * Runs last before fusion, after simplification (which would remove a copy as a no-op).
 */

import { roleOf } from '../graph.js';
import type { Graph } from '../graph.js';
import { aliasRoot } from '../node-values.js';
import { broadcastTo } from '../ops/shape.js';
import { withOrigin } from '../origin.js';
import type { GraphProgram } from './program.js';
import { rebuild } from './program.js';

/** The param or state whose buffer node `id` reads: itself, or the root of the aliases (reshapes) it views. */
function persistentRoot(graph: Graph, id: number): number | undefined {
  const root = aliasRoot(graph, id);
  const role = roleOf(graph.node(root));
  return role === 'param' || role === 'state' ? root : undefined;
}

export function snapshotUpdatedOutputs(program: GraphProgram): GraphProgram {
  const needsCopy = Object.values(program.entries).some((entry) => {
    const updated = new Set(entry.assignments.map(([target]) => target));
    return Object.values(entry.outputs).some((id) => updated.has(persistentRoot(program.graph, id) ?? -1));
  });
  if (!needsCopy) return program;
  const rebuilt = rebuild(program);
  const { graph } = rebuilt;
  const entries = Object.fromEntries(
    Object.entries(rebuilt.entries).map(([name, entry]) => {
      const updated = new Set(entry.assignments.map(([target]) => target));
      const outputs = Object.fromEntries(
        Object.entries(entry.outputs).map(([out, id]) => {
          if (!updated.has(persistentRoot(graph, id) ?? -1)) return [out, id];
          // broadcastTo its own shape: a materialized copy of any dtype, which no later pass removes.
          const source = graph.tensor(id);
          return [out, withOrigin(graph, source.node.origin, () => broadcastTo(source, source.shape)).id];
        }),
      );
      return [name, { ...entry, outputs }];
    }),
  );
  return { graph, entries };
}
