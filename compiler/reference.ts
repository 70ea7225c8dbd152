/**
 * The CPU reference interpreter: evaluates a graph on typed arrays, op by op, with each
 * op's own `evaluate`. It is the oracle every GPU result is compared with, so it stays
 * plain. Floats are computed in f32 (mirroring the GPU) or f64 (for gradient checks).
 */

import type { DType, Precision } from './dtype.js';
import { allocate, isDType, isFloat } from './dtype.js';
import { ArgumentError, FeedError, GraphError } from './errors.js';
import type { Graph, Node } from './graph.js';
import { ancestorsOf, graphDims, roleOf } from './graph.js';
import { requireListedOutputs } from './graph-options.js';
import type { InitSpec } from './init.js';
import { initialValue } from './init.js';
import type { HostArray } from './ops/op.js';
import { getOp } from './ops/op.js';
import type { Mode } from './ops/mode.js';
import { checkStaticShape, formatType, sameShape, sizeOf, staticShape } from './shape.js';
import type { StaticShape } from './shape.js';
import { dimsFromFeeds } from './feed-dims.js';
import { bindDims } from './passes/bind-dims.js';
import { Tensor } from './tensor.js';
import { checkInterpretCall, checkPrecision, ownValue } from './interpret-options.js';

/** A value given for an input, param or state: a host array, or flat numbers in row-major order. */
export type HostValue = HostArray | ArrayLike<number>;

export interface InterpretOptions {
  /** Values for the graph's inputs, by name. Every input that is needed must be fed. */
  feeds?: Readonly<Record<string, HostValue>>;
  /** Values for params and state, by name; any not given take their initializer's value. */
  params?: Readonly<Record<string, HostValue>>;
  /** Float precision. Default 'f32'. */
  precision?: Precision;
  /** Training or inference (dropout, batch norm): `runEntry` takes it from the entry. Default 'infer'. */
  mode?: Mode;
}

/** Makes a host array, checking that `data` fills `shape`. */
export function hostArray(dtype: DType, shape: StaticShape, data: ArrayLike<number>, precision: Precision = 'f32'): HostArray {
  if (!isDType(dtype)) throw new ArgumentError(`hostArray: dtype must be 'f32', 'i32' or 'bool', got ${String(dtype)}.`);
  checkStaticShape('hostArray', shape);
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
    throw new FeedError(`hostArray: data must be an array or typed array of numbers, got ${data === null ? 'null' : typeof data}.`);
  }
  checkPrecision('hostArray', precision);
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw new FeedError(`hostArray: ${data.length} values do not fill ${dtype}[${shape.join(',')}] (${size} elements).`);
  }
  const out = allocate(dtype, size, precision);
  out.set(data);
  return { shape: [...shape], dtype, data: out };
}

/** The initial values of every param and state of a graph, by name. */
export function initialParams(graph: Graph, precision: Precision = 'f32'): Record<string, HostArray> {
  checkInterpretCall('initialParams', graph, { precision });
  const values: Record<string, HostArray> = {};
  for (const node of [...graph.nodesOfRole('param'), ...graph.nodesOfRole('state')]) {
    values[node.name!] = initialValue(node.name!, node.shape, node.dtype, node.attrs['init'] as InitSpec, graph.seed, precision);
  }
  return values;
}

function checkValue(node: Node, given: HostValue, precision: Precision): HostArray {
  const what = `${node.op} '${node.name}'`;
  const expected = formatType(node);
  if (given === null || typeof given !== 'object') {
    throw new FeedError(`${what}: expected an array of ${sizeOf(node.shape)} numbers or a host array {shape, dtype, data} for ${expected}, got ${given === null ? 'null' : typeof given}.`);
  }
  if ('data' in given && 'shape' in given && 'dtype' in given) {
    if (given.dtype !== node.dtype || !sameShape(given.shape, node.shape)) {
      throw new FeedError(`${what}: expected ${expected}, got ${formatType(given)}.`);
    }
    return hostArray(node.dtype, given.shape, given.data, precision);
  }
  // The feeds bound every dim they decide; a dim still symbolic here no flat length can match.
  const size = sizeOf(node.shape);
  if (typeof given.length !== 'number' || given.length !== size || typeof size !== 'number') {
    throw new FeedError(
      `${what}: expected ${size} values for ${expected}, got ${String(given.length)}. Feed a flat array in row-major order.`,
    );
  }
  if (!isFloat(node.dtype)) {
    for (let i = 0; i < size; i++) {
      const v = given[i]!;
      if (!Number.isInteger(v)) {
        throw new FeedError(`${what}: ${node.dtype} values must be integers; element ${i} is ${v}.`);
      }
    }
  }
  return hostArray(node.dtype, staticShape(what, node.shape, 'its size comes from the feeds'), given, precision);
}

/** Evaluates the given nodes (by id) and returns their values in the same order. */
export function evaluateNodes(symbolic: Graph, targets: readonly number[], options: InterpretOptions = {}): HostArray[] {
  checkInterpretCall('evaluateNodes', symbolic, options);
  const graph = bindFedDims(symbolic, options.feeds ?? {});
  if (!Array.isArray(targets) || !targets.every((id) => Number.isInteger(id))) {
    throw new ArgumentError(`evaluateNodes: targets must be an array of node ids, got ${String(targets)}.`);
  }
  targets.forEach((id) => graph.node(id));
  const precision = options.precision ?? 'f32';
  const feeds = options.feeds ?? {};
  const params = options.params ?? {};
  const mode = options.mode ?? 'infer';
  // A `modeSelect` needs only its branch for the mode (the other may not even be fed).
  const branch = mode === 'train' ? 0 : 1;
  const needed = ancestorsOf(graph, targets, (node) => (node.op === 'modeSelect' ? [node.inputs[branch]!] : node.inputs));
  const values = new Map<number, HostArray>();
  const ctx = { precision, mode };
  for (const node of graph.nodes) {
    if (!needed.has(node.id)) continue;
    const role = roleOf(node);
    let value: HostArray;
    if (role === 'input') {
      const given = ownValue(feeds, node.name!);
      if (given === undefined) {
        throw new FeedError(`input '${node.name}' (${formatType(node)}) was not fed. Pass it in feeds.`);
      }
      value = checkValue(node, given, precision);
    } else if (role === 'param' || role === 'state') {
      const given = ownValue(params, node.name!);
      value =
        given === undefined
          ? initialValue(node.name!, node.shape, node.dtype, node.attrs['init'] as InitSpec, graph.seed, precision)
          : checkValue(node, given, precision);
    } else {
      const inputs = node.inputs.map((id) => values.get(id)!);
      value = getOp(node.op).evaluate(inputs, node.attrs, node, ctx);
      if (!sameShape(value.shape, node.shape) || value.dtype !== node.dtype) {
        throw new GraphError(
          `reference: ${node.op} %${node.id} produced ${formatType(value)} but its node is ${formatType(node)}`,
        );
      }
    }
    values.set(node.id, value);
  }
  return targets.map((id) => values.get(id)!);
}

/**
 * `graph` with its symbolic dims bound to the sizes the feeds give them (`graph` itself when
 * it has none). bindDims keeps node ids, so targets and entries still name the same nodes.
 */
function bindFedDims(graph: Graph, feeds: Readonly<Record<string, HostValue>>): Graph {
  if (graphDims(graph).length === 0) return graph;
  return bindDims(graph, dimsFromFeeds(graph.nodesOfRole('input'), (name) => ownValue(feeds, name)));
}

/** Evaluates every named output of the graph. */
export function interpret<Outputs extends string>(graph: Graph<Outputs>, options: InterpretOptions = {}): Record<Outputs, HostArray> {
  checkInterpretCall('interpret', graph, options);
  requireListedOutputs('interpret', graph);
  const names = [...graph.outputs.keys()];
  const results = evaluateNodes(graph, [...graph.outputs.values()], options);
  return Object.fromEntries(names.map((name, i) => [name, results[i]!])) as Record<Outputs, HostArray>;
}

/** Evaluates the given tensors of one graph. */
export function evaluate(tensors: readonly Tensor[], options: InterpretOptions = {}): HostArray[] {
  if (!Array.isArray(tensors) || !tensors.every((t) => t instanceof Tensor)) {
    throw new ArgumentError(`evaluate: tensors must be an array of Tensors (e.g. [loss, logits]), got ${tensors === null ? 'null' : typeof tensors}.`);
  }
  if (tensors.length === 0) return [];
  const graph = tensors[0]!.graph;
  if (tensors.some((t) => t.graph !== graph)) throw new GraphError('evaluate: all tensors must come from one graph.');
  return evaluateNodes(
    graph,
    tensors.map((t) => t.id),
    options,
  );
}

/** What one run of an entry point gives: its outputs, and the new value of every assigned param/state. */
export interface StepResult {
  outputs: Record<string, HostArray>;
  /** Param/state name → its value after the step. */
  updates: Record<string, HostArray>;
}

/**
 * Runs an entry point (`forward`, `trainStep`) on the reference interpreter: computes its
 * outputs and assignment values from the current params/state (none is updated until all
 * are computed, as on the GPU), and returns both. The caller keeps the new state.
 */
export function runEntry(
  graph: Graph,
  entry: {
    readonly outputs: Readonly<Record<string, number>>;
    readonly assignments: readonly (readonly [number, number])[];
    readonly mode?: Mode;
  },
  options: InterpretOptions = {},
): StepResult {
  checkInterpretCall('runEntry', graph, options);
  if (entry === null || typeof entry !== 'object' || typeof entry.outputs !== 'object' || entry.outputs === null || !Array.isArray(entry.assignments)) {
    throw new ArgumentError('runEntry: entry must be an entry point {outputs, assignments, mode?}, such as program.trainStep or program.forward.');
  }
  const names = Object.keys(entry.outputs);
  const ids = [...Object.values(entry.outputs), ...entry.assignments.map(([, value]) => value)];
  const values = evaluateNodes(graph, ids, { ...options, mode: entry.mode ?? options.mode ?? 'infer' });
  const outputs = Object.fromEntries(names.map((name, i) => [name, values[i]!]));
  const updates = Object.fromEntries(
    entry.assignments.map(([target], i) => [graph.node(target).name!, values[names.length + i]!]),
  );
  return { outputs, updates };
}
