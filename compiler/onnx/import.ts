/**
 * `importOnnx`: an ONNX model (bytes of a `.onnx` file) becomes a kiln graph with named
 * inputs and outputs, ready for `compile` (inference) or `trainingProgram` (fine-tuning).
 *
 * - Initializers become constants, or params when asked (`trainable`); their values are
 *   returned in `params` for `session.setParams` (a plan carries no weights).
 * - Values known at import (initializers, `Constant`, and everything computed only from
 *   them and from static shapes: `Shape`, `Gather` on shapes, `Concat`, ...) are folded on
 *   the host, so shape inputs (Reshape's shape, Slice's starts) are static, as kiln needs.
 * - Dynamic input dimensions become symbolic dims (a `dim_param` named `batch` prints
 *   `f32[batch,784]`), or static ones where the caller binds them (`{dims: {batch: 32}}`).
 *   Shape computations on them are carried at import as sizes (shape-values.ts).
 * - Every node's handler sees its own opset version; anything unsupported is an
 *   OnnxUnsupportedError naming the op type, node name and opset.
 */

import { Graph } from '../graph.js';
import { ArgumentError, KilnError, OnnxError, OnnxUnsupportedError } from '../errors.js';
import type { Dim } from '../dims.js';
import type { HostArray } from '../ops/op.js';
import { isStaticShape, sizeOf } from '../shape.js';
import { evaluate } from '../reference.js';
import { Tensor } from '../tensor.js';
import { FoldBudget } from './fold-budget.js';
import type { HandlerOutput, ValueLookup } from './handler.js';
import { NodeContext, handlerFor } from './handler.js';
import { InputDims } from './input-dims.js';
import { withScopes } from '../origin.js';
import type { DimsValue } from './dims-value.js';
import { dimsOf, dimsTensor, isDimsValue, namesOf, valueOfDims } from './dims-value.js';
import { DIMS_FOLDERS, MOVED_INPUTS } from './shape-values.js';
import type { KnownValue } from './tensor-proto.js';
import { checkDims, elementTypeName, int64, knownFromTensor, narrowed, onnx, requireStorageDType } from './tensor-proto.js';
import type { onnx as onnxTypes } from 'onnx-proto';

/** The newest default-domain opset whose differences the handlers know. */
export const MAX_OPSET = 18;

export interface OnnxImportOptions {
  /**
   * Sizes of the model's dynamic dimensions, by `dim_param` (or kiln dim name; `input:axis`
   * for an unnamed one), e.g. `{batch: 32}`. A dynamic dimension not bound here is symbolic.
   */
  dims?: Readonly<Record<string, number>>;
  /**
   * Which initializers become trainable params (the rest become constants): `true` for
   * every float initializer, or a list of names. Default none (inference).
   */
  trainable?: boolean | readonly string[];
  /**
   * Model inputs whose values are fixed at import, by name (flat row-major numbers): they
   * become constants, not inputs. For inputs that give a shape, axes or pads, which kiln
   * needs to know when it builds the graph.
   */
  constants?: Readonly<Record<string, ArrayLike<number>>>;
  /** The kiln graph's name; default the ONNX graph's name. */
  name?: string;
  /**
   * The most elements the import may compute on the host in all (folded values,
   * ConstantOfShape, Range). Default 2^24 plus 8 per element of the model's initializers
   * and Constant values (see compiler/onnx/fold-budget.ts).
   */
  maxFoldedElements?: number;
}

export interface OnnxModel {
  readonly graph: Graph;
  /** The model's inputs (initializers excluded), by ONNX name: feed them by these names. */
  readonly inputs: Readonly<Record<string, Tensor>>;
  /** The model's outputs, by ONNX name (also the graph's output names). */
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** The imported values of the params made from initializers (flat, row-major): load them with `session.setParams(model.params)`. */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** Opset version per domain ('' is the default ONNX domain). */
  readonly opsets: Readonly<Record<string, number>>;
  /** The symbolic dims of the graph, by kiln name: where each comes from (`dim_param 'batch size'`, `input 'x' axis 0 (no dim_param)`). */
  readonly symbolicDims: Readonly<Record<string, string>>;
}

type ModelProto = onnxTypes.ModelProto;
type GraphProto = onnxTypes.IGraphProto;
type ValueInfo = onnxTypes.IValueInfoProto;

function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new ArgumentError(`importOnnx: expected the model's bytes as a Uint8Array (e.g. readFileSync('model.onnx')), got ${bytes === null ? 'null' : typeof bytes}.`);
  }
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxError(`importOnnx: the bytes are not a valid ONNX model (${(error as Error).message}); the file may be truncated or not an .onnx file.`);
  }
}

function readOpsets(model: ModelProto): Record<string, number> {
  const opsets: Record<string, number> = {};
  for (const entry of model.opsetImport ?? []) {
    const domain = entry.domain === 'ai.onnx' ? '' : entry.domain ?? '';
    opsets[domain] = int64(entry.version);
  }
  if (opsets[''] !== undefined && opsets['']! > MAX_OPSET) {
    throw new OnnxUnsupportedError(`importOnnx: the model uses opset ${opsets['']}; kiln imports opsets up to ${MAX_OPSET}. Export it with an older opset (e.g. torch.onnx.export(..., opset_version=17)).`);
  }
  return opsets;
}

/** A value of the model: a tensor of the graph, a value known at import, or both. */
interface Slot {
  known?: KnownValue;
  /** A value known at import as sizes, some symbolic (shape-values.ts). */
  dims?: DimsValue;
  tensor?: Tensor;
  /** For a run-time tensor: the model inputs it is computed from (so an error can say which to fix). */
  modelInputs?: ReadonlySet<string>;
  /** For a run-time tensor computed from symbolic sizes (a Shape's value): their dim names. */
  symbolicDims?: ReadonlySet<string>;
}

/** A known value as a constant of `graph`. */
function constantOf(graph: Graph, value: KnownValue, where: string): Tensor {
  return graph.constant(Array.from(narrowed(value, where)), { dtype: value.dtype, shape: value.shape });
}

function knownFromHost(array: HostArray): KnownValue {
  return { dtype: array.dtype, shape: [...array.shape], data: array.data };
}

class Importer {
  readonly graph: Graph;
  readonly slots = new Map<string, Slot>();
  readonly inputs: Record<string, Tensor> = {};
  readonly params: Record<string, Float32Array> = {};
  readonly dims: InputDims;
  private readonly inputNames = new Set<string>();
  private readonly budget: FoldBudget;

  constructor(
    name: string,
    private readonly opsets: Readonly<Record<string, number>>,
    private readonly options: OnnxImportOptions,
  ) {
    this.graph = new Graph(name);
    const limit = options.maxFoldedElements;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new ArgumentError(`importOnnx: maxFoldedElements must be a non-negative integer, got ${String(limit)}.`);
    }
    this.budget = new FoldBudget(limit);
    this.dims = new InputDims(options.dims);
  }

  readonly lookup: ValueLookup = {
    tensor: (name) => {
      const slot = this.slot(name);
      slot.tensor ??= slot.dims ? dimsTensor(this.graph, slot.dims) : constantOf(this.graph, slot.known!, `value '${name}'`);
      return slot.tensor;
    },
    known: (name) => this.slot(name).known,
    dims: (name) => this.slot(name).dims,
    modelInputsBehind: (name) => [...(this.slot(name).modelInputs ?? [])],
    dimsBehind: (name) => [...(this.slot(name).symbolicDims ?? [])],
  };

  slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new OnnxError(`importOnnx: value '${name}' is used before any node, input or initializer defines it.`);
    return slot;
  }

  addInitializers(graph: GraphProto): void {
    const trainable = this.options.trainable ?? false;
    const names = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
    if (Array.isArray(trainable)) {
      const missing = trainable.filter((n) => !names.has(n));
      if (missing.length > 0) {
        throw new ArgumentError(`importOnnx: trainable names ${missing.map((n) => `'${n}'`).join(', ')} are not initializers of the model. Initializers: ${[...names].join(', ') || 'none'}.`);
      }
    }
    for (const tensor of graph.initializer ?? []) {
      const name = tensor.name ?? '';
      if (this.slots.has(name)) throw new OnnxError(`importOnnx: the model has two initializers named '${name}'; ONNX names each value once, so one would be lost. Rename or remove one.`);
      const known = knownFromTensor(tensor, `initializer '${name}'`);
      this.budget.hold(known.data.length);
      const wanted = trainable === true ? known.dtype === 'f32' : Array.isArray(trainable) && trainable.includes(name);
      if (!wanted) {
        this.slots.set(name, { known });
        continue;
      }
      if (known.dtype !== 'f32') throw new ArgumentError(`importOnnx: initializer '${name}' is ${elementTypeName(tensor.dataType ?? 0)}; only float initializers can be trainable.`);
      this.params[name] = Float32Array.from(known.data);
      this.slots.set(name, { tensor: this.graph.param(name, known.shape) });
    }
    if ((graph.sparseInitializer?.length ?? 0) > 0) throw new OnnxUnsupportedError('importOnnx: sparse initializers are not supported.');
  }

  addInput(info: ValueInfo): void {
    const name = info.name ?? '';
    if (this.inputNames.has(name)) {
      throw new OnnxError(`importOnnx: the graph declares two inputs named '${name}'; ONNX names each value once, so one would be dropped. Rename one of them in the model.`);
    }
    this.inputNames.add(name);
    if (this.slots.has(name)) return; // an initializer listed as an input (IR < 4): a constant, not fed
    const tensorType = info.type?.tensorType;
    if (!tensorType) throw new OnnxUnsupportedError(`importOnnx: input '${name}' is not a tensor (a sequence, map or optional); kiln imports tensor inputs only.`);
    const dtype = requireStorageDType(tensorType.elemType ?? 0, `input '${name}'`);
    const shape = (tensorType.shape?.dim ?? []).map((dim, axis) => this.dims.dimension(name, axis, dim));
    if (!tensorType.shape) throw new OnnxUnsupportedError(`importOnnx: input '${name}' has no declared shape; kiln needs every input's rank.`);
    const fixed = this.options.constants?.[name];
    if (fixed !== undefined) {
      if (!isStaticShape(shape)) {
        throw new ArgumentError(`importOnnx: constants['${name}'] fixes an input of shape [${shape.join(',')}]; bind its dynamic dims too (dims: {${shape.filter((d) => typeof d !== 'number').join(': size, ')}: size}).`);
      }
      const size = checkDims(`input '${name}'`, shape);
      if (fixed.length !== size) throw new ArgumentError(`importOnnx: constants['${name}'] holds ${fixed.length} values; input '${name}' is ${dtype}[${shape.join(',')}] (${size} values).`);
      this.slots.set(name, { known: { dtype, shape, data: Float64Array.from(fixed), elementType: tensorType.elemType ?? 0 } });
      this.budget.hold(size);
      return;
    }
    checkDims(`input '${name}'`, shape.map((d) => (typeof d === 'number' ? d : 1)));
    const tensor = this.graph.input(name, shape, dtype);
    this.inputs[name] = tensor;
    this.slots.set(name, { tensor, modelInputs: new Set([name]) });
  }

  /**
   * Converts one node. A kiln error from building it (a ShapeError of an op the handler
   * called) becomes an OnnxError naming the ONNX node too, since the user knows the model,
   * not the kiln ops it became.
   */
  convertNode(node: onnxTypes.INodeProto, index: number): void {
    const opType = node.opType ?? '';
    const nodeName = node.name || `#${index}`;
    try {
      withScopes(this.graph, scopeOfNodeName(node.name ?? ''), 'importOnnx', () => this.convert(node, opType, nodeName));
    } catch (error) {
      if (!(error instanceof KilnError) || error instanceof OnnxError) throw error;
      const domain = node.domain === 'ai.onnx' ? '' : node.domain ?? '';
      throw new OnnxError(`${opType} node '${nodeName}' (opset ${this.opsets[domain]}): ${error.message}`, { cause: error });
    }
  }

  private convert(node: onnxTypes.INodeProto, opType: string, nodeName: string): void {
    const domain = node.domain === 'ai.onnx' ? '' : node.domain ?? '';
    const opset = this.opsets[domain];
    if (domain !== '' || opset === undefined) {
      throw new OnnxUnsupportedError(`${opType} node '${nodeName}': domain '${domain || 'ai.onnx'}' is not supported${opset === undefined ? ' (the model imports no opset of it)' : ''}; kiln imports the default ONNX domain (ai.onnx) only.`);
    }
    const handler = handlerFor(opType);
    if (!handler) throw new OnnxUnsupportedError(`${opType} node '${nodeName}' (opset ${opset}): the op ${opType} is not supported by kiln's ONNX importer.`);
    const attributes = node.attribute ?? [];
    for (const a of attributes) {
      if (!(handler.attributes ?? []).includes(a.name ?? '')) {
        throw new OnnxUnsupportedError(`${opType} node '${nodeName}' (opset ${opset}): attribute '${a.name}' is not supported.`);
      }
    }
    const inputNames = node.input ?? [];
    const outputNames = node.output ?? [];
    for (const name of inputNames) if (name !== '') this.slot(name);
    const given = inputNames.filter((name) => name !== '').map((name) => this.slots.get(name)!);
    const context = (): NodeContext => new NodeContext(this.graph, opType, nodeName, opset, attributes, inputNames, outputNames, this.lookup, this.budget);
    const results = given.every((slot) => slot.known !== undefined)
      ? this.fold(opType, nodeName, opset, attributes, inputNames, outputNames)
      : (given.every((slot) => slot.known !== undefined || slot.dims !== undefined) && this.foldDims(opType, nodeName, opset, attributes, inputNames, outputNames, context)) ||
        this.run(context());
    const modelInputs = new Set(given.flatMap((slot) => [...(slot.modelInputs ?? [])]));
    const symbolicDims = new Set(given.flatMap((slot) => [...(slot.symbolicDims ?? []), ...(slot.dims ? namesOf(slot.dims) : [])]));
    outputNames.forEach((name, k) => {
      if (name === '') return;
      if (this.slots.has(name)) {
        throw new OnnxError(`${opType} node '${nodeName}' (opset ${opset}): output ${k} '${name}' names a value already defined; ONNX defines each value once. Rename the output in the model.`);
      }
      const result = results[k];
      if (result === undefined) throw new OnnxUnsupportedError(`${opType} node '${nodeName}' (opset ${opset}): output ${k} ('${name}') is not supported.`);
      // An empty tensor has no values to compute: it is known (and kiln emits no kernel for it).
      if (isTensor(result) && sizeOf(result.shape) === 0 && isStaticShape(result.shape)) this.slots.set(name, { known: { dtype: result.dtype, shape: result.shape, data: [] } });
      else if (isTensor(result)) this.slots.set(name, symbolicDims.size > 0 ? { tensor: result, modelInputs, symbolicDims } : { tensor: result, modelInputs });
      else this.slots.set(name, isDimsValue(result) ? { dims: result } : { known: result });
    });
  }

  private run(context: NodeContext): readonly HandlerOutput[] {
    const result = handlerFor(context.opType)!.convert(context);
    return Array.isArray(result) ? result : [result as HandlerOutput];
  }

  /**
   * Folds a node some of whose inputs are sizes (DimsValues): an op that moves elements
   * (Gather, Concat, Unsqueeze ...) folds on indices into a pool of the sizes, so its own
   * handler decides where each goes; an op that computes on sizes has a folder. Returns
   * undefined when neither gives the answer at import (it is then computed at run time).
   */
  private foldDims(
    opType: string,
    nodeName: string,
    opset: number,
    attributes: readonly onnxTypes.IAttributeProto[],
    inputNames: readonly string[],
    outputNames: readonly string[],
    context: () => NodeContext,
  ): HandlerOutput[] | undefined {
    const folder = DIMS_FOLDERS[opType];
    if (folder) {
      const result = folder(context());
      return result && [result];
    }
    const moved = MOVED_INPUTS[opType];
    if (!moved) return undefined;
    const pool: Dim[] = [];
    const indices = new Map<string, KnownValue>();
    for (const [k, name] of inputNames.entries()) {
      if (name === '' || (moved !== 'all' && !moved.includes(k)) || indices.has(name)) continue;
      const slot = this.slot(name);
      const value = slot.dims ?? slot.known!;
      indices.set(name, { dtype: value.dtype === 'bool' ? 'i32' : value.dtype, shape: value.shape, data: dimsOf(value).map((_, i) => pool.length + i) });
      pool.push(...dimsOf(value));
    }
    // Only data inputs may hold sizes (Gather's indices, Reshape's shape are numbers here).
    if (inputNames.some((name) => name !== '' && !indices.has(name) && this.slot(name).known === undefined)) return undefined;
    const results = this.fold(opType, nodeName, opset, attributes, inputNames, outputNames, (name) => indices.get(name) ?? this.slot(name).known!);
    const moves = (r: HandlerOutput): boolean =>
      r === undefined || (!isTensor(r) && !isDimsValue(r) && r.dtype !== 'bool' && Array.from(r.data).every((i) => Number.isInteger(i) && i >= 0 && i < pool.length));
    if (!results.every(moves)) return undefined;
    return results.map((r) => r && !isTensor(r) && !isDimsValue(r) ? valueOfDims(r.dtype, r.shape, Array.from(r.data, (i) => pool[i]!)) : r);
  }

  /** Runs the handler on a scratch graph of constants and evaluates it on the host: its outputs are known. */
  private fold(
    opType: string,
    nodeName: string,
    opset: number,
    attributes: readonly onnxTypes.IAttributeProto[],
    inputNames: readonly string[],
    outputNames: readonly string[],
    knownOf: (name: string) => KnownValue = (name) => this.slot(name).known!,
  ): HandlerOutput[] {
    const scratch = new Graph(`fold ${nodeName}`);
    const constants = new Map<string, Tensor>();
    const lookup: ValueLookup = {
      tensor: (name) => {
        if (!constants.has(name)) constants.set(name, constantOf(scratch, knownOf(name), `value '${name}'`));
        return constants.get(name)!;
      },
      known: knownOf,
      dims: () => undefined,
      modelInputsBehind: () => [],
      dimsBehind: () => [],
    };
    const results = this.run(new NodeContext(scratch, opType, nodeName, opset, attributes, inputNames, outputNames, lookup, this.budget));
    // Folding evaluates on the host: sizes that came from the file are bounded before anything is allocated.
    const where = `${opType} node '${nodeName}' (opset ${opset})`;
    const shapes = scratch.nodes.map((node) => {
      if (!isStaticShape(node.shape)) throw new OnnxError(`${where}: folding %${node.id} (${node.op}) at import gives the symbolic shape [${node.shape.join(',')}]; a value known at import has a static shape.`);
      return checkDims(`${where}: folding %${node.id} (${node.op}) at import`, node.shape);
    });
    this.budget.spend(where, shapes.reduce((total, size) => total + size, 0));
    const tensors = results.filter(isTensor);
    const values = evaluate(tensors);
    return results.map((r) => (isTensor(r) ? knownFromHost(values[tensors.indexOf(r)]!) : r));
  }

  addOutput(info: ValueInfo): Tensor {
    const name = info.name ?? '';
    if (info.type && !info.type.tensorType) throw new OnnxUnsupportedError(`importOnnx: output '${name}' is not a tensor (a sequence, map or optional); kiln imports tensor outputs only.`);
    const tensor = this.lookup.tensor(name);
    this.graph.output(name, tensor);
    return tensor;
  }
}

function isTensor(value: HandlerOutput): value is Tensor {
  return value instanceof Tensor;
}

/**
 * Imports an ONNX model as a kiln graph: `{graph, inputs, outputs, params}`.
 *
 * ```ts
 * const model = importOnnx(readFileSync('mlp.onnx'), { dims: { batch: 32 } });
 * const session = await Session.create(device, compile(model.graph, { limits: device.limits }));
 * const { logits } = await session.forward({ input: values });
 * ```
 */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxModel {
  const model = decodeModel(bytes);
  const graphProto = model.graph;
  if (!graphProto) throw new OnnxError('importOnnx: the model has no graph.');
  const opsets = readOpsets(model);
  const importer = new Importer(options.name ?? (graphProto.name || 'onnx'), opsets, options);
  importer.addInitializers(graphProto);
  for (const info of graphProto.input ?? []) importer.addInput(info);
  importer.dims.checkUsed();
  const unknownConstants = Object.keys(options.constants ?? {}).filter((name) => !(graphProto.input ?? []).some((i) => i.name === name));
  if (unknownConstants.length > 0) throw new ArgumentError(`importOnnx: constants ${unknownConstants.map((n) => `'${n}'`).join(', ')} name no input of the model.`);
  (graphProto.node ?? []).forEach((node, index) => importer.convertNode(node, index));
  const outputs: Record<string, Tensor> = {};
  for (const info of graphProto.output ?? []) outputs[info.name ?? ''] = importer.addOutput(info);
  return { graph: importer.graph, inputs: importer.inputs, outputs, params: importer.params, opsets, symbolicDims: { ...importer.dims.symbolic } };
}

/**
 * The scope a node's name gives the nodes it becomes: exporters name nodes by module path
 * (PyTorch `/encoder/layer.0/attn/MatMul`, tf2onnx `model/dense/MatMul`), so all but the last
 * part is the node's scope (`encoder/layer.0/attn`), as a layer's scope is in a built graph.
 */
function scopeOfNodeName(name: string): string[] {
  const parts = name.split('/').filter((part) => part !== '');
  return parts.slice(0, -1);
}
