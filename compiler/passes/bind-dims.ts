/**
 * `bindDims(graph, {batch: 32})`: the same graph with sizes given to named dims, in every
 * shape and every attribute that holds a symbolic size (a reshape's target, a dimSize). Each
 * node is rebuilt in order through its op's shape rule, so node ids are kept (a training
 * program's entries stay valid) and a rule that only holds for some sizes is checked again.
 * A dim not named stays symbolic. A `dimSize` whose size becomes static is then a constant
 * to constant folding.
 */

import type { AttrValue } from '../attrs.js';
import { mapAttrsDims } from '../attrs.js';
import type { Dim } from '../dims.js';
import { substituteDim } from '../dims.js';
import { ArgumentError } from '../errors.js';
import type { Node } from '../graph.js';
import { Graph, graphDims, requireGraph, roleOf } from '../graph.js';
import type { InitSpec } from '../init.js';
import { getOp } from '../ops/op.js';
import { withOrigin } from '../origin.js';
import type { ConstAttrs } from '../ops/source.js';
import { constant } from '../ops/source.js';
import type { Tensor } from '../tensor.js';
import type { TrainingProgram } from '../train.js';

/** Sizes for dim names: each a positive integer (a dim is at least 1 at run time). */
export type DimSizes = Readonly<Record<string, number>>;

/**
 * Checks `sizes` against the dims of a graph (`where` names the call): an object whose every
 * key is one of `dims` and every value a positive integer. Returns it.
 */
export function checkDimSizes(where: string, sizes: unknown, dims: readonly string[], what = 'dims'): DimSizes {
  if (sizes === null || typeof sizes !== 'object' || Array.isArray(sizes)) {
    throw new ArgumentError(`${where}: ${what} must be an object of dim name → size, e.g. {batch: 32}; got ${Array.isArray(sizes) ? 'an array' : sizes === null ? 'null' : typeof sizes}.`);
  }
  for (const [name, size] of Object.entries(sizes)) {
    if (!dims.includes(name)) {
      const known = dims.length === 0 ? 'it has no symbolic dims' : `its dims are ${dims.join(', ')}`;
      throw new ArgumentError(`${where}: ${what} names the dim '${name}', which the graph does not have (${known}). Fix: name one of its dims.`);
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new ArgumentError(`${where}: ${what}.${name} must be a positive integer (a dim's size is at least 1), got ${String(size)}.`);
    }
  }
  return sizes as DimSizes;
}

/** `graph` with each dim named in `sizes` replaced by its size; unnamed dims stay symbolic. */
export function bindDims<Outputs extends string>(graph: Graph<Outputs>, sizes: DimSizes): Graph<Outputs> {
  requireGraph('bindDims', graph);
  checkDimSizes('bindDims', sizes, graphDims(graph), 'sizes');
  const bound = new Graph<Outputs>(graph.name, { seed: graph.seed, ...(graph.listedOutputs ? { outputs: graph.listedOutputs } : {}) });
  const tensors: Tensor[] = [];
  for (const node of graph.nodes) tensors.push(withOrigin(bound, node.origin, () => bindNode(node, tensors, bound, (d) => substituteDim(d, sizes))));
  for (const [name, id] of graph.outputs) bound.output(name as Outputs, tensors[id]!);
  for (const [target, value] of graph.assignments) bound.assign(tensors[target]!, tensors[value]!);
  for (const [id, range] of graph.ranges) bound.declareRange(tensors[id]!, range.min, range.max, range.reason);
  return bound;
}

/** A graph or training program with its dims bound (`compile(source, {dims})`): the program's entries and tensors name the same nodes of the bound graph. */
export function bindSourceDims(source: Graph | TrainingProgram, sizes: DimSizes): Graph | TrainingProgram {
  if (source instanceof Graph) return bindDims(source, sizes);
  const graph = bindDims(source.graph, sizes);
  const same = (t: Tensor): Tensor => graph.tensor(t.id);
  return {
    graph,
    // As trainingProgram's: the graph's outputs when read.
    get forward() {
      return { ...source.forward, outputs: Object.fromEntries(graph.outputs) };
    },
    trainStep: source.trainStep,
    loss: same(source.loss),
    params: source.params.map(same),
    gradients: source.gradients.map(same),
  };
}

/** `node` rebuilt in `graph` with `bind` applied to its shape and attributes (its inputs already rebuilt in `tensors`). */
function bindNode(node: Node, tensors: readonly Tensor[], graph: Graph, bind: (d: Dim) => Dim): Tensor {
  const attrs = mapAttrsDims(node.attrs, (d): AttrValue => bind(d));
  const shape = node.shape.map(bind);
  const options = { init: attrs['init'] as InitSpec, dtype: node.dtype };
  switch (roleOf(node)) {
    case 'input':
      return graph.input(node.name!, shape, node.dtype);
    case 'param':
      return graph.param(node.name!, shape, options);
    case 'state':
      return graph.state(node.name!, shape, options);
    case 'const':
      // As stored: graph.constant would merge a splat of −0 into 0.
      return graph.addNode(constant, [], attrs as ConstAttrs, node.name);
    default:
      return graph.addNode(getOp(node.op), node.inputs.map((id) => tensors[id]!), attrs, node.name);
  }
}
