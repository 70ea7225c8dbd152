/**
 * Resolves every `modeSelect` by the mode of the entry that runs it: `trainStep` takes
 * the training branch (dropout's mask, batch statistics), `forward` the inference one.
 * A node downstream of a switch exists once per mode in the new graph (the two copies
 * differ); everything else is shared. It runs first in `compile`, before simplification,
 * so an entry never computes (or fuses, or allocates for) the other mode's work.
 */

import { Graph } from '../graph.js';
import type { Mode } from '../ops/mode.js';
import type { Tensor } from '../tensor.js';
import type { GraphProgram } from './program.js';
import { copySource, reapply, requireProgram } from './program.js';

const MODES: readonly Mode[] = ['train', 'infer'];

export function specializeModes(program: GraphProgram): GraphProgram {
  requireProgram('specializeModes', program);
  const old = program.graph;
  if (!old.nodes.some((node) => node.op === 'modeSelect')) return program;
  const graph = new Graph(old.name, { seed: old.seed });
  const maps: Record<Mode, Map<number, Tensor>> = { train: new Map(), infer: new Map() };
  for (const node of old.nodes) {
    const source = copySource(node, graph);
    if (source) {
      for (const mode of MODES) maps[mode].set(node.id, source);
    } else if (node.op === 'modeSelect') {
      maps.train.set(node.id, maps.train.get(node.inputs[0]!)!);
      maps.infer.set(node.id, maps.infer.get(node.inputs[1]!)!);
    } else {
      const trainInputs = node.inputs.map((id) => maps.train.get(id)!);
      const inferInputs = node.inputs.map((id) => maps.infer.get(id)!);
      const apply = (inputs: readonly Tensor[]): Tensor => reapply(node, inputs, graph);
      const trained = apply(trainInputs);
      maps.train.set(node.id, trained);
      maps.infer.set(node.id, trainInputs.every((t, i) => t === inferInputs[i]) ? trained : apply(inferInputs));
    }
  }
  // The graph's own outputs are its forward (inference) values; its updates run in training.
  for (const [name, id] of old.outputs) graph.output(name, maps.infer.get(id)!);
  for (const [target, value] of old.assignments) graph.assign(maps.train.get(target)!, maps.train.get(value)!);
  const entries = Object.fromEntries(
    Object.entries(program.entries).map(([name, entry]) => {
      const mode = entry.mode ?? 'infer';
      const idOf = (id: number): number => maps[mode].get(id)!.id;
      const outputs = Object.fromEntries(Object.entries(entry.outputs).map(([out, id]) => [out, idOf(id)]));
      return [name, { outputs, assignments: entry.assignments.map(([t, v]) => [idOf(t), idOf(v)] as const), mode }];
    }),
  );
  return { graph, entries };
}
