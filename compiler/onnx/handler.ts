/**
 * The contract of an ONNX op handler and the one table they register into. A handler
 * turns one ONNX node into kiln graph ops; it reads attributes and constant inputs
 * through its NodeContext, which names the node and its opset in every error, so an
 * unsupported case is always a clear OnnxUnsupportedError, never a silent guess.
 *
 * Families of handlers live in their own files (ops-elementwise.ts, ops-shape.ts, ...)
 * and call `registerHandlers`; compiler/onnx/index.ts imports every family once.
 */

import type { Graph } from '../graph.js';
import type { Dim } from '../dims.js';
import { GraphError, OnnxError, OnnxUnsupportedError } from '../errors.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { FoldBudget } from './fold-budget.js';
import type { DimsValue } from './dims-value.js';
import { dimsOf, namesOf } from './dims-value.js';
import type { KnownValue, TensorProto } from './tensor-proto.js';
import { int64, knownFromTensor, onnx } from './tensor-proto.js';
import type { onnx as onnxTypes } from 'onnx-proto';

/** What a handler gives for one output: a graph tensor, a value known at import (numbers or sizes), or nothing (an output not produced). */
export type HandlerOutput = Tensor | KnownValue | DimsValue | undefined;

export interface OpHandler {
  /**
   * Every attribute the handler reads. A node with any other attribute is rejected, so
   * an attribute kiln would ignore can never change the answer unnoticed.
   */
  readonly attributes?: readonly string[];
  /** Builds the node's outputs, in order (a single tensor for single-output ops). */
  convert(node: NodeContext): HandlerOutput | readonly HandlerOutput[];
}

const handlers = new Map<string, OpHandler>();

/** Registers the handlers of one family, by ONNX op type (each type once). */
export function registerHandlers(table: Readonly<Record<string, OpHandler>>): void {
  for (const [opType, handler] of Object.entries(table)) {
    if (handlers.has(opType)) throw new GraphError(`ONNX handler for '${opType}' is registered twice`);
    handlers.set(opType, handler);
  }
}

export function handlerFor(opType: string): OpHandler | undefined {
  return handlers.get(opType);
}

/** The ONNX op types kiln imports, sorted. */
export function supportedOnnxOps(): string[] {
  return [...handlers.keys()].sort();
}

type Attribute = onnxTypes.IAttributeProto;

/**
 * A value that must be known at import (a shape, axes, pads) is computed at run time;
 * `valueName` names it, and `modelInputs` the model inputs it is computed from (fixing
 * them with `constants` makes it known; empty when it depends on a trainable param).
 */
export class StaticValueError extends OnnxUnsupportedError {
  constructor(
    message: string,
    readonly valueName: string,
    readonly modelInputs: readonly string[],
  ) {
    super(message);
  }
}

/** How a node context reaches the values its inputs name. */
export interface ValueLookup {
  /** The value as a tensor of the context's graph (a known value becomes a constant on first use). */
  tensor(name: string): Tensor;
  known(name: string): KnownValue | undefined;
  /** The value when it is known at import as sizes, some symbolic (a Shape of a tensor with a dynamic batch). */
  dims(name: string): DimsValue | undefined;
  /** The model inputs a run-time value is computed from (itself, for a model input). */
  modelInputsBehind(name: string): readonly string[];
  /** The symbolic dims a value is computed from: binding them (`dims`) makes it known. */
  dimsBehind(name: string): readonly string[];
}

/**
 * A value the importer needs as numbers (axes, pads, a Range's limit) holds or is computed
 * from symbolic sizes; `dims` names them (binding them with `importOnnx(bytes, {dims})`
 * makes it known).
 */
export class SymbolicValueError extends OnnxUnsupportedError {
  constructor(
    message: string,
    readonly valueName: string,
    readonly dims: readonly string[],
  ) {
    super(message);
  }
}
const ATTR = onnx.AttributeProto.AttributeType;

/** One node being converted: its inputs as tensors or known values, its attributes, its opset. */
export class NodeContext {
  private readonly attributes: ReadonlyMap<string, Attribute>;

  constructor(
    readonly graph: Graph,
    readonly opType: string,
    readonly nodeName: string,
    readonly opset: number,
    attributes: readonly Attribute[],
    /** Input names; an empty name is an omitted optional input. */
    private readonly inputNames: readonly string[],
    /** Output names; an empty name is an output the model does not use. */
    private readonly outputNames: readonly string[],
    private readonly values: ValueLookup,
    private readonly budget: FoldBudget,
  ) {
    this.attributes = new Map(attributes.map((a) => [a.name ?? '', a]));
  }

  /** Charges the model's fold budget for `elements` values the handler computes on the host, before it allocates them. */
  compute(elements: number): void {
    this.budget.spend(`${this.opType} node '${this.nodeName}' (opset ${this.opset})`, elements);
  }

  /** Number of inputs given (omitted optional ones in between included). */
  get inputCount(): number {
    return this.inputNames.length;
  }

  /** `Conv node 'conv1' (opset 11): problem` — the prefix of every error about this node. */
  describe(problem: string): string {
    return `${this.opType} node '${this.nodeName}' (opset ${this.opset}): ${problem}`;
  }

  /** An unsupported-case error for this node (callers throw it). */
  unsupported(problem: string): OnnxUnsupportedError {
    return new OnnxUnsupportedError(`${this.describe(problem)}.`);
  }

  /** A malformed-node error for this node (callers throw it). */
  invalid(problem: string): OnnxError {
    return new OnnxError(`${this.describe(problem)}.`);
  }

  /** Whether input k is given (not omitted). */
  has(k: number): boolean {
    return (this.inputNames[k] ?? '') !== '';
  }

  /** Input k as a tensor; a missing required input is an error. */
  input(k: number): Tensor {
    if (!this.has(k)) throw this.invalid(`required input ${k} is missing`);
    return this.values.tensor(this.inputNames[k]!);
  }

  optionalInput(k: number): Tensor | undefined {
    return this.has(k) ? this.input(k) : undefined;
  }

  /** Every given input as a tensor (variadic ops). */
  inputs(): Tensor[] {
    return Array.from({ length: this.inputCount }, (_, k) => this.input(k));
  }

  /** Input k's value if it is known at import (a constant, initializer or folded value). */
  known(k: number): KnownValue | undefined {
    return this.has(k) ? this.values.known(this.inputNames[k]!) : undefined;
  }

  /** Input k's value known at import, as numbers or as sizes (some symbolic). */
  knownOrDims(k: number): KnownValue | DimsValue | undefined {
    return this.has(k) ? this.values.known(this.inputNames[k]!) ?? this.values.dims(this.inputNames[k]!) : undefined;
  }

  /** Input k's values as sizes, static or symbolic (a shape: Reshape's, Expand's); undefined when the input is omitted. */
  optionalDims(k: number, what: string): Dim[] | undefined {
    if (!this.has(k)) return undefined;
    const dims = this.values.dims(this.inputNames[k]!);
    return dims ? [...dimsOf(dims)] : Array.from(this.constant(k, what).data);
  }

  /** A dim of an input as a number, for a handler that needs it now; a symbolic one is an error naming the node and `why`. */
  staticDim(d: Dim, why: string): number {
    if (typeof d === 'number') return d;
    throw this.unsupported(`dim '${d}' is symbolic, but ${why}; bind it to a size with importOnnx(bytes, {dims: {${d.names.map((name) => `${name}: size`).join(', ')}}})`);
  }

  /** A shape as numbers (see staticDim). */
  staticShape(shape: Shape, why: string): number[] {
    return shape.map((d) => this.staticDim(d, why));
  }

  /** Input k's values, which must be known at import (shapes, axes, pads). */
  constant(k: number, what: string): KnownValue {
    const value = this.known(k);
    if (!value) {
      const name = this.inputNames[k]!;
      const symbolic = this.values.dims(name);
      const dims = symbolic ? namesOf(symbolic) : this.values.dimsBehind(name);
      if (dims.length > 0) {
        const holds = symbolic ? `holds the symbolic size${symbolic.dims.length > 1 ? 's' : ''} [${symbolic.dims.join(', ')}]` : `is computed at run time from the symbolic dim${dims.length > 1 ? 's' : ''} ${dims.map((d) => `'${d}'`).join(', ')}`;
        throw new SymbolicValueError(
          this.describe(
            `input ${k} '${name}' (${what}) ${holds}, but kiln needs its values when the model is imported; bind the dims to sizes with importOnnx(bytes, {dims: {${dims.map((d) => `${d}: size`).join(', ')}}})`,
          ) + '.',
          name,
          dims,
        );
      }
      const inputs = this.values.modelInputsBehind(name);
      const fix = `{constants: {${inputs.map((input) => `'${input}': values`).join(', ')}}}`;
      const how = inputs.length === 0 ? 'it is computed from a trainable param' : `fix ${inputs[0] === name ? 'it' : 'the model inputs it is computed from'} with importOnnx(bytes, ${fix})`;
      throw new StaticValueError(
        this.describe(
          `input ${k} '${name}' (${what}) must be known when the model is imported (a constant, an initializer not made trainable, or a value computed from them and from static shapes): ${how}`,
        ) + '.',
        name,
        inputs,
      );
    }
    return value;
  }

  /** Input k's values as integers (axes, pads, shapes); undefined when the input is omitted. */
  optionalInts(k: number, what: string): number[] | undefined {
    return this.has(k) ? Array.from(this.constant(k, what).data) : undefined;
  }

  /** Input k as one number (a scalar or a one-element tensor). */
  optionalScalar(k: number, what: string): number | undefined {
    if (!this.has(k)) return undefined;
    const value = this.constant(k, what);
    if (value.data.length !== 1) throw this.invalid(`input ${k} (${what}) must hold one value, got shape [${value.shape.join(',')}]`);
    return value.data[0]!;
  }

  /** Number of outputs the node declares. */
  get outputCount(): number {
    return this.outputNames.length;
  }

  /** Whether output k is used by the model. */
  wantsOutput(k: number): boolean {
    return (this.outputNames[k] ?? '') !== '';
  }

  hasAttr(name: string): boolean {
    return this.attributes.has(name);
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.attr(name, ATTR.INT);
    return a ? int64(a.i) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.attr(name, ATTR.FLOAT);
    return a ? a.f ?? 0 : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.attr(name, ATTR.INTS);
    return a ? (a.ints ?? []).map(int64) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.attr(name, ATTR.FLOATS);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.attr(name, ATTR.STRING);
    return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : fallback;
  }

  strings(name: string): string[] | undefined {
    const a = this.attr(name, ATTR.STRINGS);
    return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined;
  }

  tensor(name: string): KnownValue | undefined {
    const a = this.attr(name, ATTR.TENSOR);
    if (!a) return undefined;
    const value = knownFromTensor(a.t as TensorProto, this.describe(`attribute '${name}'`));
    this.budget.hold(value.data.length);
    return value;
  }

  private attr(name: string, type: number): Attribute | undefined {
    const a = this.attributes.get(name);
    if (!a) return undefined;
    // Old exporters leave `type` unset; the field that holds the value is then authoritative.
    if (a.type && a.type !== type) {
      throw this.invalid(`attribute '${name}' has type ${ATTR[a.type] ?? a.type}, expected ${ATTR[type]}`);
    }
    return a;
  }
}
