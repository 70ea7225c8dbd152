/**
 * The graph IR: a list of SSA nodes `{id, op, inputs, shape, dtype, attrs}` in
 * topological order (every input id is smaller than the node's own id). Shapes and
 * dtypes are inferred when a node is built, so a bad shape throws at the user's call.
 * Nodes are plain data: a graph serializes to JSON and back without loss.
 */

import type { DType } from './dtype.js';
import { isDType } from './dtype.js';
import { ArgumentError, GraphError } from './errors.js';
import { attrDims } from './attrs.js';
import type { SymDim } from './dims.js';
import { checkDimName, dimNames, symbol } from './dims.js';
import { normalizeInit } from './init.js';
import type { Attrs, OpDef } from './ops/op.js';
import { getOp } from './ops/op.js';
import * as source from './ops/source.js';
import type { DimLike, Shape } from './shape.js';
import { checkShape, formatType, isStaticShape, sameShape } from './shape.js';
import { currentOrigin, openScope } from './origin.js';
import { checkName, checkPersistentName } from './names.js';
import { checkGraphOptions, checkListedOutput, checkPersistentOptions, refuseSymbolic } from './graph-options.js';
import type { GraphOptions, PersistentOptions } from './graph-options.js';
import { constantLiteral } from './nested-numbers.js';
import type { NestedNumbers } from './nested-numbers.js';
import type { GraphJSON, ValueRange } from './graph-json.js';
import { checkGraphJSON, decodeAttrs, encodeNode } from './graph-json.js';
import { printGraph } from './print.js';
import type { Node } from './node.js';
import { Tensor } from './tensor.js';

export type { Node } from './node.js';

/** Where a node's values come from at run time. */
export type Role = 'input' | 'param' | 'state' | 'const' | 'computed';

export function roleOf(node: Node): Role {
  if (node === null || typeof node !== 'object') throw new ArgumentError(`roleOf: expected a graph node (graph.nodes[i]), got ${describeValue(node)}.`);
  return source.SOURCE_OPS.has(node.op) ? (node.op as Role) : 'computed';
}

/**
 * Ids of the nodes `targets` depend on, themselves included (what evaluating them needs).
 * `inputsOf` says which inputs a node needs (default all; the interpreter follows only a
 * `modeSelect`'s branch for its mode).
 */
export function ancestorsOf(graph: Graph, targets: readonly number[], inputsOf: (node: Node) => readonly number[] = (node) => node.inputs): Set<number> {
  const seen = new Set<number>();
  const stack = [...targets];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...inputsOf(graph.node(id)));
  }
  return seen;
}

export type { GraphOptions, PersistentOptions } from './graph-options.js';
export type { NestedNumbers } from './nested-numbers.js';

export type { GraphJSON, NodeJSON, ValueRange } from './graph-json.js';

export class Graph<Outputs extends string = string> {
  readonly name: string;
  readonly seed: number;
  /** The output names `new Graph(name, {outputs})` listed, which `output` accepts and compiling needs; undefined: any names. */
  readonly listedOutputs: readonly Outputs[] | undefined;
  private readonly nodeList: Node[] = [];
  private readonly names = new Map<string, number>();
  private readonly outputMap = new Map<string, number>();
  private readonly assignMap = new Map<number, number>();
  private readonly rangeMap = new Map<number, ValueRange>();
  /** While a call runs `atomically`: each range it declared, with the range the node had before (undefined: none). */
  private readonly rangeUndo: [number, ValueRange | undefined][] = [];
  private openCalls = 0;

  constructor(name = 'graph', options: GraphOptions<Outputs> = {}) {
    // The name becomes the plan's name, which a session checks: a bad one fails here, at the user's call.
    if (typeof name !== 'string') throw new ArgumentError(`Graph: the name must be a string, got ${name === null ? 'null' : typeof name}.`);
    this.name = name;
    checkGraphOptions(options);
    this.seed = options.seed ?? 0;
    this.listedOutputs = options.outputs && [...options.outputs];
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) {
      throw new ArgumentError(`Graph: seed must be an integer in [0, 2^32), got ${this.seed}.`);
    }
  }

  get nodes(): readonly Node[] {
    return this.nodeList;
  }

  /** Named outputs, in the order they were declared. */
  get outputs(): ReadonlyMap<string, number> {
    return this.outputMap;
  }

  /**
   * Update edges, param/state id → value id: when a step that includes them runs, the
   * target takes the value (all values are computed from the step's old state first).
   */
  get assignments(): ReadonlyMap<number, number> {
    return this.assignMap;
  }

  /** Declared value ranges, node id → range (see `declareRange`). */
  get ranges(): ReadonlyMap<number, ValueRange> {
    return this.rangeMap;
  }

  /**
   * Declares that `tensor` must hold values in [min, max] for the graph to mean what it
   * says; ops call it for operands whose out-of-range values they would ignore without an
   * error (softmax cross-entropy's labels, embedding ids). Declaring twice keeps the
   * intersection. A session run with `checkFeeds: true` rejects an input fed outside it.
   */
  declareRange(tensor: Tensor, min: number, max: number, reason: string): void {
    this.own('declareRange', [tensor]);
    if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max) || min > max) {
      throw new ArgumentError(`declareRange: min and max must be numbers with min <= max, got ${min} and ${max}.`);
    }
    const earlier = this.rangeMap.get(tensor.id);
    const range = earlier
      ? { min: Math.max(min, earlier.min), max: Math.min(max, earlier.max), reason: earlier.reason === reason ? reason : `${earlier.reason}; ${reason}` }
      : { min, max, reason };
    if (range.min > range.max) {
      throw new GraphError(`declareRange: ${tensor.toString()} cannot be in [${min}, ${max}] (${reason}) and in [${earlier!.min}, ${earlier!.max}] (${earlier!.reason}) at once.`);
    }
    if (this.openCalls > 0) this.rangeUndo.push([tensor.id, earlier]);
    this.rangeMap.set(tensor.id, range);
  }

  /**
   * Runs `build` (a call adding several nodes: a layer, a gradient, a training program) so that if it
   * throws, the graph is as it was: nodes, names, outputs, assignments and ranges are rolled back
   * (all but ranges are append-only, so nothing is copied unless a call fails).
   */
  atomically<T>(build: () => T): T {
    if (typeof build !== 'function') throw new ArgumentError(`atomically: expected a function that builds nodes, got ${describeValue(build)}.`);
    const mark = { nodes: this.nodeList.length, outputs: this.outputMap.size, assignments: this.assignMap.size, ranges: this.rangeUndo.length };
    this.openCalls++;
    try {
      return build();
    } catch (error) {
      this.nodeList.length = mark.nodes;
      for (const [name, id] of this.names) if (id >= mark.nodes) this.names.delete(name);
      for (const name of [...this.outputMap.keys()].slice(mark.outputs)) this.outputMap.delete(name);
      for (const target of [...this.assignMap.keys()].slice(mark.assignments)) this.assignMap.delete(target);
      for (const [id, earlier] of this.rangeUndo.splice(mark.ranges).reverse()) {
        if (earlier) this.rangeMap.set(id, earlier);
        else this.rangeMap.delete(id);
      }
      throw error;
    } finally {
      if (--this.openCalls === 0) this.rangeUndo.length = 0;
    }
  }

  node(id: number): Node {
    const node = this.nodeList[id];
    if (!node) throw new GraphError(`graph '${this.name}' has no node %${id}`);
    return node;
  }

  tensor(id: number): Tensor {
    this.node(id);
    return new Tensor(this, id);
  }

  /** The input, param or state with this name. */
  get(name: string): Tensor {
    const id = this.names.get(name);
    if (id === undefined) {
      const known = [...this.names.keys()].join(', ') || 'none';
      throw new GraphError(`graph '${this.name}' has no input, param or state named '${name}'. Known: ${known}.`);
    }
    return new Tensor(this, id);
  }

  /** Nodes of one role, in id order. */
  nodesOfRole(role: Role): Node[] {
    return this.nodeList.filter((n) => roleOf(n) === role);
  }

  /**
   * Declares a value fed at every run. Its dims are sizes, dim names or dims
   * (`['batch', 784]`): a named dim takes its size from what each run feeds.
   */
  input(name: string, shape: readonly DimLike[], dtype: DType = 'f32'): Tensor {
    return this.addSource(source.input, name, shape, dtype, (checked) => ({ shape: checked, dtype }));
  }

  /** The symbolic dim `name` (`g.dim('batch')`), to use in shapes and size arithmetic; the same object for the same name. */
  dim(name: string): SymDim {
    return symbol(checkDimName('dim', name));
  }

  /** Declares a persistent, trainable parameter. */
  param(name: string, shape: readonly DimLike[], options: PersistentOptions = {}): Tensor {
    return this.addPersistent(source.param, name, shape, options);
  }

  /** Declares persistent state that is updated but not trained (momentum, counters). */
  state(name: string, shape: readonly DimLike[], options: PersistentOptions = {}): Tensor {
    return this.addPersistent(source.state, name, shape, options);
  }

  /**
   * A literal. `value` is a number (a scalar, or a splat when `shape` is given), a nested
   * array, or a flat array with `shape`. Floats default to f32.
   */
  constant(value: NestedNumbers | ArrayLike<number>, options: { dtype?: DType; shape?: readonly DimLike[] } = {}): Tensor {
    return this.addNode(source.constant, [], constantLiteral(value, options));
  }

  /**
   * Runs `build` with the name scope `name` open and returns what it returns: the nodes it
   * builds record the open scopes as their origin's scope (`node.origin.scope`, `block0/attn`
   * when nested), and nn layers built in it name their params under it (`block0.attn.q.kernel`).
   * `name` is a non-empty string without `/` or `.`; `build` must be synchronous.
   */
  scope<T>(name: string, build: () => T): T {
    return openScope(this, 'scope', name, build);
  }

  /** Marks a tensor as a named output of the graph (one of those `new Graph(name, {outputs})` lists, if it lists them). */
  output(name: Outputs, tensor: Tensor): Tensor {
    this.own('output', [tensor]);
    checkName('output', name);
    checkListedOutput(this.name, this.listedOutputs, name);
    if (this.outputMap.has(name)) {
      throw new GraphError(`graph '${this.name}' already has an output named '${name}'; output names must be unique.`);
    }
    this.outputMap.set(name, tensor.id);
    return tensor;
  }

  /**
   * Declares that after a step, the param or state `target` holds `value` (an optimizer's
   * new weights, a new momentum). Each target is assigned at most once.
   */
  assign(target: Tensor, value: Tensor): void {
    this.own('assign', [target, value]);
    const node = target.node;
    if (node.op !== 'param' && node.op !== 'state') {
      throw new GraphError(
        `assign: the target must be a param or state, got ${node.op} ${target.toString()}; inputs and computed values cannot be updated.`,
      );
    }
    if (!sameShape(node.shape, value.shape) || node.dtype !== value.dtype) {
      throw new GraphError(
        `assign: ${node.op} '${node.name}' is ${formatType(node)} but the value is ${formatType(value.node)}; they must match.`,
      );
    }
    if (this.assignMap.has(target.id)) {
      throw new GraphError(`assign: ${node.op} '${node.name}' is already assigned (by %${this.assignMap.get(target.id)}).`);
    }
    this.assignMap.set(target.id, value.id);
  }

  /**
   * Appends a node for `def` applied to `inputs`: checks that the inputs belong to this
   * graph, runs the op's shape rule (which throws on bad input) and returns its tensor.
   * This is how every op's functional form builds nodes.
   */
  addNode<A extends Attrs>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A, name?: string): Tensor {
    this.own(def.name, inputs);
    if (def.arity !== 'variadic' && inputs.length !== def.arity) {
      throw new GraphError(`${def.name}: takes ${def.arity} input(s), got ${inputs.length}`);
    }
    const declared = source.SOURCE_OPS.has(def.name) && def.name !== 'input' ? (attrs as Partial<source.SourceAttrs>).shape : undefined;
    if (declared !== undefined && !isStaticShape(declared)) refuseSymbolic(def.name, name, declared);
    const type = def.infer(inputs.map((t) => this.node(t.id)), attrs);
    const origin = currentOrigin(this);
    const node: Node = {
      id: this.nodeList.length,
      op: def.name,
      inputs: inputs.map((t) => t.id),
      shape: [...type.shape],
      dtype: type.dtype,
      attrs,
      ...(name === undefined ? {} : { name }),
      ...(origin === undefined ? {} : { origin }),
    };
    this.nodeList.push(node);
    return new Tensor(this, node.id);
  }

  /** Readable SSA text, jaxpr-like; see `printGraph`. */
  toString(): string {
    return printGraph(this);
  }

  toJSON(): GraphJSON {
    return {
      name: this.name,
      seed: this.seed,
      nodes: this.nodeList.map(encodeNode),
      outputs: Object.fromEntries(this.outputMap),
      assignments: [...this.assignMap],
      ...(this.rangeMap.size > 0 ? { ranges: [...this.rangeMap] } : {}),
    };
  }

  /** Rebuilds a graph from JSON, re-running every shape rule (so a hand-edited file is checked). */
  static fromJSON(json: GraphJSON): Graph {
    checkGraphJSON(json);
    const graph = new Graph(json.name, { seed: json.seed });
    json.nodes.forEach((node, index) => {
      if (node.id !== index) throw new GraphError(`fromJSON: node at position ${index} has id ${node.id}`);
      const def = getOp(node.op);
      if (source.SOURCE_OPS.has(node.op) && node.op !== 'const') {
        graph.claimName(node.op, node.name, index);
      }
      const inputs = node.inputs.map((id) => {
        if (!(id < index)) throw new GraphError(`fromJSON: node %${index} reads %${id}, which is not defined before it`);
        return graph.tensor(id);
      });
      graph.addNode(def, inputs, decodeAttrs(node.attrs, `node %${index}`), node.name);
    });
    for (const [name, id] of Object.entries(json.outputs)) graph.output(name, graph.tensor(id));
    for (const [target, value] of json.assignments ?? []) graph.assign(graph.tensor(target), graph.tensor(value));
    for (const [id, { min, max, reason }] of json.ranges ?? []) graph.declareRange(graph.tensor(id), min, max, reason);
    return graph;
  }

  private addPersistent(
    def: OpDef<source.PersistentAttrs>,
    name: string,
    shape: readonly DimLike[],
    options: PersistentOptions,
  ): Tensor {
    checkPersistentOptions(`${def.name} '${name}'`, options);
    const dtype = options.dtype ?? 'f32';
    const init = normalizeInit(`${def.name} '${name}'`, options.init ?? 'zeros', dtype);
    return this.addSource(def, name, shape, dtype, (checked) => ({ shape: checked, dtype, init }));
  }

  private addSource<A extends source.SourceAttrs>(
    def: OpDef<A>,
    name: string,
    shape: readonly DimLike[],
    dtype: DType,
    attrs: (checkedShape: Shape) => A,
  ): Tensor {
    if (!isDType(dtype)) {
      throw new ArgumentError(`${def.name} '${name}': unknown dtype '${String(dtype)}'. Use f32, i32 or bool.`);
    }
    const checked = checkShape(`${def.name} '${name}'`, shape);
    if (def.name !== 'input' && !isStaticShape(checked)) refuseSymbolic(def.name, name, checked);
    this.claimName(def.name, name, this.nodeList.length);
    return this.addNode(def, [], attrs(checked), name);
  }

  private claimName(op: string, name: string | undefined, id: number): void {
    checkName(op, name);
    if (op === 'param' || op === 'state') checkPersistentName(op, name);
    const existing = this.names.get(name);
    if (existing !== undefined) {
      throw new GraphError(
        `${op} '${name}': the name is already used by the ${this.node(existing).op} %${existing}; names of inputs, params and state must be unique.`,
      );
    }
    this.names.set(name, id);
  }

  private own(op: string, tensors: readonly Tensor[]): void {
    for (const t of tensors) {
      if (!(t instanceof Tensor)) {
        throw new ArgumentError(`${op}: expected a Tensor, got ${describeValue(t)}.`);
      }
      if (t.graph !== this) {
        throw new GraphError(
          `${op}: a tensor from graph '${t.graph.name}' was used in graph '${this.name}'; build each model in one graph.`,
        );
      }
    }
  }
}

/** The names of the symbolic dims in `graph`'s shapes and attributes, sorted (a plan's size block lists them in this order). */
export function graphDims(graph: Graph): string[] {
  return dimNames(requireGraph('graphDims', graph).nodes.flatMap((node) => [...node.shape, ...attrDims(node.attrs)]));
}

/** Returns `value` if it is a Graph, else throws an ArgumentError naming `where` (a graph is the first argument of many builders). */
export function requireGraph(where: string, value: unknown): Graph {
  if (!(value instanceof Graph)) {
    throw new ArgumentError(`${where}: expected a Graph (new Graph('name')), got ${describeValue(value)}.`);
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array (wrap literals with graph.constant)';
  return typeof value;
}
