/**
 * Carries the value ranges a graph declares for its inputs (softmax cross-entropy's class
 * labels, embedding ids) into the plan's input buffers, so a session run with
 * `checkFeeds` can reject a feed the graph would otherwise ignore without an error.
 */

import type { Graph } from './graph.js';
import { aliasRoot } from './node-values.js';
import type { PlanBuffer } from './plan-format.js';

/** `buffers` with `valueRange` set on each input buffer whose input has a declared range (matched by name: input names are unique). */
export function withValueRanges(graph: Graph, buffers: readonly PlanBuffer[]): PlanBuffer[] {
  const rangeOfInput = new Map<string, PlanBuffer['valueRange']>();
  for (const [id, { min, max, reason }] of graph.ranges) {
    // A range declared on a view of an input (labels reshaped to match the logits' rows) is the input's.
    const node = graph.node(aliasRoot(graph, id));
    if (node.op === 'input') rangeOfInput.set(node.name!, { min, max, reason });
  }
  return buffers.map((buffer) => {
    const valueRange = buffer.role === 'input' ? rangeOfInput.get(buffer.name) : undefined;
    return valueRange ? { ...buffer, valueRange } : buffer;
  });
}
