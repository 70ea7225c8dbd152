/**
 * What the passes transform: a graph with its entry points (the outputs each entry
 * returns and the updates it applies). Every pass is a pure function GraphProgram →
 * GraphProgram that builds a new graph, so each stage stays printable and comparable.
 */

import { ArgumentError, GraphError } from '../errors.js';
import { Graph, ancestorsOf, roleOf } from '../graph.js';
import type { Node } from '../graph.js';
import { requireListedOutputs } from '../graph-options.js';
import type { InitSpec } from '../init.js';
import type { Attrs } from '../ops/op.js';
import { getOp } from '../ops/op.js';
import { withOrigin } from '../origin.js';
import { formatType, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { TrainingProgram } from '../train.js';
import type { Mode } from '../ops/mode.js';

export interface EntrySource {
  /** Output name → node id. */
  readonly outputs: Readonly<Record<string, number>>;
  /** `[target, value]`: after the entry runs, param/state `target` holds node `value`. */
  readonly assignments: readonly (readonly [number, number])[];
  /** Training or inference; `specializeModes` resolves every `modeSelect` by it. Default 'infer'. */
  readonly mode?: Mode;
}

export interface GraphProgram {
  readonly graph: Graph;
  readonly entries: Readonly<Record<string, EntrySource>>;
}

export type Pass = (program: GraphProgram) => GraphProgram;

/** A graph's program: `forward` for a plain graph; `forward` and `trainStep` for a training program. */
export function programOf(source: Graph | TrainingProgram): GraphProgram {
  requireProgramSource('programOf', source);
  if (source instanceof Graph) {
    return { graph: source, entries: { forward: { outputs: Object.fromEntries(source.outputs), assignments: [] } } };
  }
  return { graph: source.graph, entries: { forward: source.forward, trainStep: source.trainStep } };
}

/** Throws an ArgumentError naming `where` unless `source` is a Graph or a training program. */
export function requireProgramSource(where: string, source: unknown): asserts source is Graph | TrainingProgram {
  const isProgram = source !== null && typeof source === 'object' && (source as { graph?: unknown }).graph instanceof Graph && 'trainStep' in source && 'forward' in source;
  if (!(source instanceof Graph) && !isProgram) {
    const got = source === null ? 'null' : typeof source === 'string' ? `the string '${source}'` : typeof source === 'number' ? String(source) : typeof source;
    throw new ArgumentError(`${where}: expected a Graph or a training program (trainingProgram(graph, {...})), got ${got}.`);
  }
  requireListedOutputs(where, source instanceof Graph ? source : (source as TrainingProgram).graph);
}

/** Throws an ArgumentError naming `where` unless `program` is a GraphProgram ({graph, entries}, as programOf makes). */
export function requireProgram(where: string, program: unknown): asserts program is GraphProgram {
  const given = program as Partial<GraphProgram> | null;
  if (given === null || typeof given !== 'object' || !(given.graph instanceof Graph) || given.entries === null || typeof given.entries !== 'object') {
    throw new ArgumentError(`${where}: expected a program {graph, entries} (programOf(graph) or programOf(trainingProgram(...))), got ${program === null ? 'null' : typeof program}.`);
  }
}

/** Ids of the nodes any entry needs (outputs, update values and what they depend on). */
export function liveNodes(program: GraphProgram): Set<number> {
  const targets = Object.values(program.entries).flatMap((e) => [...Object.values(e.outputs), ...e.assignments.flatMap(([t, v]) => [t, v])]);
  return ancestorsOf(program.graph, targets);
}

/**
 * Decides what a node becomes in the rebuilt graph, given its already-rebuilt inputs:
 * return a tensor of the new graph with the node's shape and dtype, or undefined to
 * re-apply the node's op unchanged. Computed nodes and consts are offered (so CSE can
 * merge equal literals); inputs, params and state never are.
 */
export type Rewrite = (node: Node, inputs: readonly Tensor[], graph: Graph) => Tensor | undefined;

/**
 * Rebuilds the program node by node into a new graph: sources keep their names and
 * attributes (so params keep their initializers), other nodes are rewritten or re-applied
 * (which re-runs every shape rule), and entries are remapped. `keep` limits which
 * non-source nodes are rebuilt (dead-code elimination passes the live set).
 */
export function rebuild(program: GraphProgram, rewrite: Rewrite = () => undefined, keep?: ReadonlySet<number>): GraphProgram {
  const old = program.graph;
  const graph = new Graph(old.name, { seed: old.seed });
  const map = new Map<number, Tensor>();
  for (const node of old.nodes) {
    const source = copySource(node, graph);
    if (source) map.set(node.id, source);
    else if (keep === undefined || keep.has(node.id)) {
      const inputs = node.inputs.map((id) => map.get(id)!);
      // What the rewrite builds in the node's place (or the node re-applied) keeps its origin; a node it returns from earlier keeps its own.
      const built = withOrigin(graph, node.origin, () => {
        const rewritten = rewrite(node, inputs, graph);
        if (rewritten !== undefined) checkRewrite(node, rewritten, graph);
        return rewritten ?? reapply(node, inputs, graph);
      });
      map.set(node.id, built);
    }
  }
  const idOf = (id: number): number => map.get(id)!.id;
  for (const [name, id] of old.outputs) graph.output(name, map.get(id)!);
  for (const [target, value] of old.assignments) graph.assign(map.get(target)!, map.get(value)!);
  const entries = Object.fromEntries(
    Object.entries(program.entries).map(([name, entry]) => [
      name,
      {
        outputs: Object.fromEntries(Object.entries(entry.outputs).map(([out, id]) => [out, idOf(id)])),
        assignments: entry.assignments.map(([t, v]) => [idOf(t), idOf(v)] as const),
        ...(entry.mode ? { mode: entry.mode } : {}),
      },
    ]),
  );
  return { graph, entries };
}

/** `node`'s op applied again to `inputs` in `graph` (its attributes and name kept), taking the node's origin: a rebuild's default for a node it does not rewrite. */
export function reapply(node: Node, inputs: readonly Tensor[], graph: Graph): Tensor {
  return withOrigin(graph, node.origin, () => graph.addNode(getOp(node.op), inputs, node.attrs as Attrs, node.name));
}

/** An input, param or state copied into `graph` under its name (params keep their initializers, all their origins); undefined for other nodes. */
export function copySource(node: Node, graph: Graph): Tensor | undefined {
  const role = roleOf(node);
  if (role !== 'input' && role !== 'param' && role !== 'state') return undefined;
  return withOrigin(graph, node.origin, () => {
    if (role === 'input') return graph.input(node.name!, node.shape, node.dtype);
    const options = { init: node.attrs['init'] as InitSpec, dtype: node.dtype };
    return role === 'param' ? graph.param(node.name!, node.shape, options) : graph.state(node.name!, node.shape, options);
  });
}

/** A rewrite that changed a node's type would silently change every consumer's: caught where it happens. */
function checkRewrite(node: Node, rewritten: Tensor, graph: Graph): void {
  if (rewritten.graph !== graph) {
    throw new GraphError(`rebuild: the rewrite of ${node.op} %${node.id} returned a tensor of graph '${rewritten.graph.name}', not of the graph being built.`);
  }
  const type = rewritten.node;
  if (!sameShape(type.shape, node.shape) || type.dtype !== node.dtype) {
    throw new GraphError(
      `rebuild: the rewrite of ${node.op} %${node.id} (${formatType(node)}) gave ${formatType(type)}; a rewrite must keep the node's shape and dtype.`,
    );
  }
}
