/**
 * Builds small ONNX models in tests with onnx-proto (the same generated protobuf code the
 * importer decodes with): nodes, tensors, inputs and outputs in a few lines each.
 */

import { onnx } from '../../compiler/onnx/index.js';
import type { onnx as onnxTypes } from 'onnx-proto';
import { testData } from '../helpers.js';

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const BOOL = onnx.TensorProto.DataType.BOOL;

type AttributeValue = number | readonly number[] | string | onnxTypes.ITensorProto;

/** A float tensor (or int64, by `type`) with its values in the typed fields. */
export function tensor(name: string, dims: readonly number[], values: readonly number[], type = FLOAT): onnxTypes.ITensorProto {
  return type === INT64 ? { name, dims: [...dims], dataType: type, int64Data: [...values] } : { name, dims: [...dims], dataType: type, floatData: [...values] };
}

/** An attribute: integers and integer lists as INT/INTS, fractions as FLOAT, strings, tensors. */
function attribute(name: string, value: AttributeValue): onnxTypes.IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: type.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: type.INT, i: value } : { name, type: type.FLOAT, f: value };
  if (Array.isArray(value)) return { name, type: type.INTS, ints: [...value] };
  return { name, type: type.TENSOR, t: value as onnxTypes.ITensorProto };
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, name = ''): onnxTypes.INodeProto {
  return { opType, input: [...inputs], output: [...outputs], name, attribute: Object.entries(attributes).map(([n, v]) => attribute(n, v)) };
}

/** A tensor input or output: dims are sizes, or names of dynamic dimensions. */
export function value(name: string, dims: readonly (number | string)[], elemType = FLOAT): onnxTypes.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export interface ModelSpec {
  nodes: onnxTypes.INodeProto[];
  inputs: onnxTypes.IValueInfoProto[];
  outputs: onnxTypes.IValueInfoProto[];
  initializers?: onnxTypes.ITensorProto[];
  opset?: number;
}

/** The model's bytes, as a .onnx file holds them. */
export function modelBytes(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: { name: 'test', node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * An MLP as PyTorch exports it: Gemm (transB = 1), Relu, Gemm, with fc1 [hidden, features] and
 * fc2 [classes, hidden] in PyTorch's [out, in] layout; input [batch, features], output logits.
 */
export function mlpBytes(features: number, hidden: number, classes: number): Uint8Array {
  return modelBytes({
    nodes: [
      node('Gemm', ['input', 'fc1.weight', 'fc1.bias'], ['h'], { transB: 1 }, '/fc1/Gemm'),
      node('Relu', ['h'], ['a'], {}, '/relu/Relu'),
      node('Gemm', ['a', 'fc2.weight', 'fc2.bias'], ['logits'], { transB: 1 }, '/fc2/Gemm'),
    ],
    inputs: [value('input', ['batch', features])],
    outputs: [value('logits', ['batch', classes])],
    initializers: [
      tensor('fc1.weight', [hidden, features], testData(hidden * features, 1, -0.6, 0.6)),
      tensor('fc1.bias', [hidden], testData(hidden, 2, -0.1, 0.1)),
      tensor('fc2.weight', [classes, hidden], testData(classes * hidden, 3, -0.6, 0.6)),
      tensor('fc2.bias', [classes], testData(classes, 4, -0.1, 0.1)),
    ],
  });
}
