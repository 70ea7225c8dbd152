/**
 * An `.onnx` file opened in the playground, as the model and feeds the editor's code would
 * give: `modelOfOnnx(bytes, dims)` imports it with every dynamic dim bound to the size the
 * page asked for (so the plan and the feeds are static), and makes seeded random feeds for
 * each of its inputs, since a file brings no data. A model with a scalar output named
 * `loss` becomes a training program (SGD over its weights: float initializers of rank ≥ 1,
 * imported as params), so Train fine-tunes it; any other model runs forward with its weights as constants.
 * `dynamicDims(bytes)` lists the dims to ask for, reading only the inputs, before anything
 * is imported.
 */

import { ArgumentError, OnnxError, OnnxUnsupportedError, sgd, trainingProgram } from '../../index.js';
import type { Graph, HostTensor, Tensor, TrainingProgram } from '../../index.js';
import { StaticValueError, importOnnx, onnx } from '../../compiler/onnx/index.js';
import type { OnnxModel } from '../../compiler/onnx/index.js';
import { InputDims } from '../../compiler/onnx/input-dims.js';
import { int64, knownFromTensor } from '../../compiler/onnx/tensor-proto.js';
import { seededRandom } from '../../examples/data/seeded-random.js';
import type { onnx as onnxTypes } from 'onnx-proto';
import type { OnnxDim } from '../protocol.js';
import type { Feeds } from '../user-code.js';
import type { Handled } from './host.js';

/** What an opened file compiles as: the model, feeds for every step, and the params' imported values (for `session.setParams`). */
export interface OnnxSource {
  readonly model: Graph | TrainingProgram;
  readonly feeds: (step: number) => Feeds;
  /** The imported weights of a training program's params (empty for inference, whose weights are constants). */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** How each input is fed, for the note the editor shows (`x: f32[8,4], uniform in [-1, 1)`). */
  readonly inputs: readonly string[];
}

/** The scalar output that makes a model trainable in the page. */
const LOSS_OUTPUT = 'loss';
/** SGD's step for a model trained in the page: small, since the data is random. */
const LEARNING_RATE = 0.01;
/** Integers fed where no Gather, OneHot or loss bounds an input: 0 and 1, valid for any index or class count. */
const DEFAULT_INTEGER_RANGE = 2;

function decode(bytes: Uint8Array, fileName: string): onnxTypes.ModelProto {
  let model: onnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxError(`${fileName} is not an ONNX model: its bytes do not decode as one (${(error as Error).message}). Fix: open a .onnx file (torch.onnx.export, tf2onnx or kiln's exportOnnx write them).`);
  }
  // Protobuf decodes many byte strings without complaint: a model has a graph with outputs.
  if (!model.graph || (model.graph.output ?? []).length === 0) {
    throw new OnnxError(`${fileName} is not an ONNX model: it holds no graph with outputs. Fix: open a .onnx file (torch.onnx.export, tf2onnx or kiln's exportOnnx write them).`);
  }
  return model;
}

/** The inputs fed at run time: declared inputs that are not initializers (older files list both). */
function fedInputs(graph: onnxTypes.IGraphProto): onnxTypes.IValueInfoProto[] {
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return (graph.input ?? []).filter((info) => !initializers.has(info.name ?? ''));
}

/** The dynamic dims of the model's inputs, named as `modelOfOnnx`'s `dims` (and importOnnx's) take them, in input order. */
export function dynamicDims(bytes: Uint8Array, fileName = 'the file'): OnnxDim[] {
  return dynamicDimsOf(decode(bytes, fileName).graph!);
}

function dynamicDimsOf(graph: onnxTypes.IGraphProto): OnnxDim[] {
  // The importer's own naming, so the names are exactly those its `dims` option binds.
  const dims = new InputDims();
  for (const info of fedInputs(graph)) (info.type?.tensorType?.shape?.dim ?? []).forEach((dim, axis) => dims.dimension(info.name ?? '', axis, dim));
  return Object.entries(dims.symbolic).map(([name, where]) => ({ name, where }));
}

/** The worker's `onnxDims`: the dims the page asks a size for before it compiles the file. */
export function onnxDims(args: { readonly bytes: ArrayBuffer; readonly fileName: string }): Handled<readonly OnnxDim[]> {
  return { result: dynamicDims(new Uint8Array(args.bytes), args.fileName) };
}

/** Imports `bytes` with each dynamic dim bound by `dims` (every one: see dynamicDims), with feeds and, given a `loss` output, training. */
export function modelOfOnnx(bytes: Uint8Array, dims: Readonly<Record<string, number>>, fileName = 'the file'): OnnxSource {
  const model = decode(bytes, fileName);
  // The decoded model's dims: a file's bytes (its weights) are decoded once here, not again for its dims.
  const wanted = dynamicDimsOf(model.graph!);
  const missing = wanted.filter(({ name }) => dims[name] === undefined);
  if (missing.length > 0) {
    throw new ArgumentError(`${fileName}: give a size for each dynamic dim; missing ${missing.map(({ name, where }) => `${name} (${where})`).join(', ')}.`);
  }
  for (const [name, size] of Object.entries(dims)) {
    if (!Number.isSafeInteger(size) || size < 1) throw new ArgumentError(`${fileName}: the size of dim '${name}' must be a whole number from 1, got ${size}.`);
  }
  const trainable = hasScalarLoss(model.graph!);
  const imported = importNamed(bytes, { dims, trainable: trainable ? weightsOf(model.graph!) : [] }, fileName);
  const ranges = integerRanges(model.graph!, imported);
  const inputs = Object.entries(imported.inputs).map(([name, tensor]) => feedSpec(name, tensor, ranges.get(name)));
  const feeds = (step: number): Feeds => Object.fromEntries(inputs.map((spec, index) => [spec.name, randomFeed(spec, step * 7919 + index)]));
  const described = inputs.map(describeFeed);
  if (!trainable) return { model: imported.graph, feeds, params: {}, inputs: described };
  const program = trainingProgram(imported.graph, { loss: imported.outputs[LOSS_OUTPUT]!, optimizer: sgd({ lr: LEARNING_RATE }) });
  return { model: program, feeds, params: imported.params, inputs: described };
}

/** Whether the graph declares an output `loss` that is a float scalar (a rank-0 shape; no shape, as exporters sometimes leave it, counts). */
function hasScalarLoss(graph: onnxTypes.IGraphProto): boolean {
  const loss = (graph.output ?? []).find((info) => info.name === LOSS_OUTPUT);
  const type = loss?.type?.tensorType;
  return type !== undefined && type !== null && type.elemType === onnx.TensorProto.DataType.FLOAT && (type.shape?.dim ?? []).length === 0;
}

/**
 * The initializers to train: float ones of rank ≥ 1. Scalars stay constants: exporters put
 * fill values and divisors there (kiln's own export writes a Where's 0 so), not weights.
 */
function weightsOf(graph: onnxTypes.IGraphProto): string[] {
  return (graph.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT && (t.dims ?? []).length > 0).map((t) => t.name ?? '');
}

/**
 * importOnnx, with an unsupported op's error naming the file and what to do about it. A
 * weight the import needs as a known number (a Resize's scales) cannot be a param: it is
 * imported again with that one as a constant.
 */
function importNamed(bytes: Uint8Array, options: { dims: Readonly<Record<string, number>>; trainable: readonly string[] }, fileName: string): OnnxModel {
  try {
    return importOnnx(bytes, options);
  } catch (error) {
    if (error instanceof StaticValueError && options.trainable.includes(error.valueName)) {
      return importNamed(bytes, { ...options, trainable: options.trainable.filter((name) => name !== error.valueName) }, fileName);
    }
    if (!(error instanceof OnnxUnsupportedError)) throw error;
    throw new OnnxUnsupportedError(
      `${fileName}: ${error.message} Fix: export the model without it (an older opset, or the op replaced by supported ones); kiln's importer lists what it takes in supportedOnnxOps().`,
      { cause: error },
    );
  }
}

interface FeedSpec {
  readonly name: string;
  readonly dtype: HostTensor['dtype'];
  readonly shape: readonly number[];
  /** Integers: values in [0, range). */
  readonly range: number;
}

function feedSpec(name: string, tensor: Tensor, range: number | undefined): FeedSpec {
  const shape = tensor.shape.map((d) => {
    if (typeof d !== 'number') throw new ArgumentError(`input '${name}' kept the symbolic dim ${d.toString()}; bind it in dims.`);
    return d;
  });
  const dtype = tensor.dtype === 'f32' || tensor.dtype === 'i32' || tensor.dtype === 'bool' ? tensor.dtype : 'f32';
  return { name, dtype, shape, range: range ?? DEFAULT_INTEGER_RANGE };
}

/** Step `seed`'s values for one input: floats uniform in [-1, 1), integers in [0, range), booleans 0 or 1. */
function randomFeed(spec: FeedSpec, seed: number): HostTensor {
  const random = seededRandom(seed);
  const size = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'f32') return { dtype: 'f32', shape: spec.shape, data: Float32Array.from({ length: size }, () => 2 * random() - 1) };
  if (spec.dtype === 'i32') return { dtype: 'i32', shape: spec.shape, data: Int32Array.from({ length: size }, () => Math.floor(random() * spec.range)) };
  return { dtype: 'bool', shape: spec.shape, data: Uint8Array.from({ length: size }, () => (random() < 0.5 ? 1 : 0)) };
}

function describeFeed(spec: FeedSpec): string {
  const values = spec.dtype === 'f32' ? 'uniform in [-1, 1)' : spec.dtype === 'i32' ? `integers in [0, ${spec.range})` : 'true or false';
  return `${spec.name}: ${spec.dtype}[${spec.shape.join(',')}], ${values}`;
}

/** Ops that pass an integer input on unchanged in value (labels unsqueezed before a comparison). */
const VALUE_PRESERVING = new Set(['Identity', 'Cast', 'Unsqueeze', 'Squeeze', 'Reshape', 'Flatten']);

/**
 * How large each integer input's values may be, read from the ONNX nodes that consume it
 * (directly or after a reshape or cast): indices of a Gather (the gathered axis's size), a
 * OneHot (its depth), a loss's labels (the scores' class axis) or labels compared with the
 * classes 0…C−1 (kiln's export of a cross-entropy: C). Sizes come from initializers and the
 * imported inputs' and outputs' shapes; where none is known the default suits any size.
 */
function integerRanges(graph: onnxTypes.IGraphProto, imported: OnnxModel): Map<string, number> {
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const shapes = new Map<string, readonly number[]>();
  for (const [name, t] of initializers) shapes.set(name, (t.dims ?? []).map(int64));
  for (const [name, tensor] of [...Object.entries(imported.inputs), ...Object.entries(imported.outputs)]) {
    if (tensor.shape.every((d) => typeof d === 'number')) shapes.set(name, tensor.shape as readonly number[]);
  }
  const values = (name: string | undefined): ArrayLike<number> | undefined => {
    const t = name === undefined ? undefined : initializers.get(name);
    return t ? knownFromTensor(t, `initializer '${name}'`).data : undefined;
  };
  const axisSize = (name: string | undefined, axis: number): number | undefined => {
    const shape = name === undefined ? undefined : shapes.get(name);
    return shape?.[axis < 0 ? axis + shape.length : axis];
  };
  // Which model input each value is, unchanged: the inputs themselves and what the value-preserving ops make of them.
  const inputOf = new Map(Object.keys(imported.inputs).map((name) => [name, name]));
  const ranges = new Map<string, number>();
  const bound = (value: string | undefined, size: number | undefined): void => {
    const input = value === undefined ? undefined : inputOf.get(value);
    if (input === undefined || size === undefined || !(size >= 1)) return;
    ranges.set(input, Math.min(size, ranges.get(input) ?? size));
  };
  for (const node of graph.node ?? []) {
    const [first, second] = node.input ?? [];
    const axis = int64((node.attribute ?? []).find((a) => a.name === 'axis')?.i);
    const op = node.opType ?? '';
    if (VALUE_PRESERVING.has(op) && first !== undefined && inputOf.has(first)) for (const out of node.output ?? []) inputOf.set(out, inputOf.get(first)!);
    else if (op === 'Gather' || op === 'GatherElements') bound(second, axisSize(first, axis));
    else if (op === 'OneHot') bound(first, values(second)?.[0]);
    else if (op === 'SoftmaxCrossEntropyLoss' || op === 'NegativeLogLikelihoodLoss') bound(second, axisSize(first, 1));
    else if (op === 'Equal') {
      const classes = values(second) ?? values(first);
      if (classes && classes.length > 0) bound(inputOf.has(first ?? '') ? first : second, Math.max(...Array.from(classes)) + 1);
    }
  }
  return ranges;
}
