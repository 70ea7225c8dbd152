/**
 * Dead-code elimination: keeps the nodes some entry point needs (its outputs, its update
 * values and what they are computed from) and every input, param and state, which are
 * the program's interface (feeds and checkpoints keep their names even when unused).
 */

import { ancestorsOf } from '../graph.js';
import type { GraphProgram } from './program.js';
import { liveNodes, rebuild } from './program.js';

export function eliminateDeadCode(program: GraphProgram): GraphProgram {
  const { graph } = program;
  const live = liveNodes(program);
  // The graph's own declared outputs and updates stay valid too, even where no entry names them.
  const declared = [...graph.outputs.values(), ...[...graph.assignments].flat()];
  for (const id of ancestorsOf(graph, declared)) live.add(id);
  return rebuild(program, undefined, live);
}
