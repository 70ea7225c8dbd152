/**
 * Shrinks a failing graph to a small one that still fails, for a focused repro: greedily
 * drops outputs, cuts nodes (a node becomes a fresh input of its type, and whatever only
 * it needed disappears), bypasses nodes (their consumers read an input of the same type
 * instead), and turns params and constants into inputs — keeping each change under
 * which `stillFails` holds, until none is left to make.
 */

import { shapeOf } from './random-value.js';
import type { DType } from '../../compiler/dtype.js';
import type { Node } from '../../compiler/graph.js';
import { Graph, ancestorsOf, roleOf } from '../../compiler/graph.js';
import { encodeNode } from '../../compiler/graph-json.js';
import { sizeOf } from '../../compiler/shape.js';
import { Random } from './random.js';

interface Draft {
  readonly nodes: readonly Node[];
  readonly outputs: Readonly<Record<string, number>>;
}

/** Shrinks `graph` while `stillFails` holds; returns the smallest failing graph found. */
export async function minimizeGraph(graph: Graph, stillFails: (candidate: Graph) => Promise<boolean>): Promise<Graph> {
  let best = graph;
  let fresh = 0;
  for (let improved = true; improved; ) {
    improved = false;
    for (const draft of candidates(best, () => `m${fresh++}`)) {
      const candidate = build(best, draft);
      if (candidate && size(candidate) < size(best) && (await stillFails(candidate))) {
        best = candidate;
        improved = true;
        break;
      }
    }
  }
  return best;
}

/** Feeds for every input of `graph`: f32 in [-2, 2), i32 in [0, 3), bool 0/1, seeded by the input's position. */
export function feedsFor(graph: Graph): Record<string, Float32Array | Int32Array> {
  return Object.fromEntries(
    graph.nodesOfRole('input').map((node, i) => {
      const rng = new Random(1000 + i);
      const n = sizeOf(shapeOf(node));
      const data = node.dtype === 'f32' ? rng.floats(n, -2, 2) : Int32Array.from({ length: n }, () => rng.int(node.dtype === 'bool' ? 2 : 3));
      return [node.name!, data];
    }),
  );
}

/** What a change must shrink: computed nodes first, then outputs, then params and constants. */
function size(graph: Graph): number {
  const computed = graph.nodesOfRole('computed').length;
  const sources = graph.nodes.length - computed - graph.nodesOfRole('input').length;
  return computed * 10000 + graph.outputs.size * 100 + sources;
}

function* candidates(graph: Graph, freshName: () => string): Generator<Draft> {
  const nodes = graph.nodes;
  const outputs = Object.fromEntries(graph.outputs);
  if (graph.outputs.size > 1) {
    for (const name of graph.outputs.keys()) yield { nodes, outputs: Object.fromEntries(Object.entries(outputs).filter(([n]) => n !== name)) };
  }
  // Latest first: cutting near the outputs removes the most.
  for (const node of [...nodes].reverse()) {
    if (roleOf(node) === 'computed') {
      yield { nodes: replaceNode(nodes, asInput(node, freshName())), outputs };
      for (const input of new Set(node.inputs)) {
        const source = graph.node(input);
        if (source.dtype === node.dtype && shapeOf(source).join(',') === shapeOf(node).join(',')) yield bypass(nodes, outputs, node.id, input);
      }
    } else if (roleOf(node) !== 'input') {
      yield { nodes: replaceNode(nodes, asInput(node, node.op === 'const' ? freshName() : node.name!)), outputs };
    }
  }
}

function asInput(node: Node, name: string): Node {
  return { id: node.id, op: 'input', inputs: [], shape: shapeOf(node), dtype: node.dtype, attrs: { shape: [...shapeOf(node)], dtype: node.dtype as DType }, name };
}

function replaceNode(nodes: readonly Node[], replacement: Node): Node[] {
  return nodes.map((n) => (n.id === replacement.id ? replacement : n));
}

/** Consumers of `id` (and outputs naming it) read `by` instead. */
function bypass(nodes: readonly Node[], outputs: Readonly<Record<string, number>>, id: number, by: number): Draft {
  return {
    nodes: nodes.map((n) => (n.inputs.includes(id) ? { ...n, inputs: n.inputs.map((i) => (i === id ? by : i)) } : n)),
    outputs: Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, o === id ? by : o])),
  };
}

/** The draft as a graph of only what its outputs need, ids renumbered; undefined if it does not type-check. */
function build(like: Graph, draft: Draft): Graph | undefined {
  const scratch = { node: (id: number) => draft.nodes[id]! } as unknown as Graph;
  const needed = ancestorsOf(scratch, Object.values(draft.outputs));
  const kept = draft.nodes.filter((n) => needed.has(n.id));
  const renumber = new Map(kept.map((n, i) => [n.id, i]));
  try {
    return Graph.fromJSON({
      name: like.name,
      seed: like.seed,
      nodes: kept.map((n) => encodeNode({ ...n, id: renumber.get(n.id)!, inputs: n.inputs.map((i) => renumber.get(i)!) })),
      outputs: Object.fromEntries(Object.entries(draft.outputs).map(([name, id]) => [name, renumber.get(id)!])),
    });
  } catch {
    return undefined;
  }
}
