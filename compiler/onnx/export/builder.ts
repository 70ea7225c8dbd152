/**
 * The ONNX graph an export writes, as plain protobuf objects: nodes appended in order (so
 * the list is topological by construction), initializers, and names made unique as they
 * are taken. Op exporters see it through `ExportContext` (context.ts).
 */

import type { onnx as onnxTypes } from 'onnx-proto';
import type { Dim } from '../../dims.js';
import type { DType } from '../../dtype.js';
import type { Shape } from '../../shape.js';
import { OnnxExportError } from '../../errors.js';
import { onnx } from '../tensor-proto.js';

const ELEMENT_TYPE = onnx.TensorProto.DataType;
const ATTRIBUTE_TYPE = onnx.AttributeProto.AttributeType;

/** An attribute value, tagged with its ONNX type (1 may be an INT or a FLOAT, so the caller says which). */
type OnnxAttribute =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly string: string };

export type OnnxAttributes = Readonly<Record<string, OnnxAttribute>>;

/** The ONNX element type that holds a kiln dtype. */
export function elementTypeOf(dtype: DType): number {
  return { f32: ELEMENT_TYPE.FLOAT, i32: ELEMENT_TYPE.INT32, bool: ELEMENT_TYPE.BOOL }[dtype];
}

/** A dim as ONNX declares it: a size, a symbolic dim's name (`dim_param`), or neither for a polynomial (`784*batch`), which ONNX cannot name. */
function dimProto(d: Dim): onnxTypes.TensorShapeProto.IDimension {
  if (typeof d === 'number') return { dimValue: d };
  return d.terms.length === 1 && d.terms[0]!.coefficient === 1 && d.terms[0]!.names.length === 1 ? { dimParam: d.names[0]! } : {};
}

/** A tensor's type as ONNX value info declares it. */
export function valueInfo(name: string, dtype: DType, shape: Shape): onnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType: elementTypeOf(dtype), shape: { dim: shape.map(dimProto) } } } };
}

/** Row-major values as a TensorProto with raw little-endian bytes (bool one byte each). */
function tensorProto(name: string, dtype: DType | 'i64', shape: readonly number[], values: ArrayLike<number>): onnxTypes.ITensorProto {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = values.length === count ? values : new Array<number>(count).fill(values[0] ?? 0);
  let bytes: Uint8Array;
  if (dtype === 'i64') bytes = new Uint8Array(BigInt64Array.from(Array.from(data, (v) => BigInt(v))).buffer);
  else if (dtype === 'f32') bytes = new Uint8Array(Float32Array.from(data).buffer);
  else if (dtype === 'i32') bytes = new Uint8Array(Int32Array.from(data).buffer);
  else bytes = Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0));
  return { name, dims: [...shape], dataType: dtype === 'i64' ? ELEMENT_TYPE.INT64 : elementTypeOf(dtype), rawData: bytes };
}

function attributeProto(name: string, value: OnnxAttribute): onnxTypes.IAttributeProto {
  if ('int' in value) return { name, type: ATTRIBUTE_TYPE.INT, i: value.int };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value.ints] };
  return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value.string) };
}

export class OnnxGraphBuilder {
  readonly nodes: onnxTypes.INodeProto[] = [];
  readonly initializers: onnxTypes.ITensorProto[] = [];
  readonly inputs: onnxTypes.IValueInfoProto[] = [];
  readonly outputs: onnxTypes.IValueInfoProto[] = [];
  readonly valueInfo: onnxTypes.IValueInfoProto[] = [];
  private readonly taken = new Set<string>();
  private readonly declared = new Set<string>();
  /** Small int64 constants (shapes, axes) by their values, each written once. */
  private readonly int64Constants = new Map<string, string>();

  /** Takes `wanted`, or `wanted_2`, `wanted_3`, ... when it is taken. */
  freshName(wanted: string): string {
    let name = wanted;
    for (let k = 2; this.taken.has(name); k++) name = `${wanted}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** Reserves a name the model must use as it is (a graph input, output, param or state the user named). */
  reserve(name: string, what: string): void {
    if (this.taken.has(name)) throw new OnnxExportError(`exportOnnx: ${what} '${name}' has the name of another input, output, param or state; ONNX names each value once. Rename one of them.`);
    this.taken.add(name);
  }

  /** A graph input under its reserved name. */
  addInput(name: string, dtype: DType, shape: Shape): void {
    this.declared.add(name);
    this.inputs.push(valueInfo(name, dtype, shape));
  }

  /** An initializer named `wanted` (made unique), or exactly `wanted` when `reserved` (a param's name). */
  addInitializer(wanted: string, dtype: DType | 'i64', shape: readonly number[], values: ArrayLike<number>, reserved = false): string {
    const name = reserved ? wanted : this.freshName(wanted);
    this.declared.add(name);
    this.initializers.push(tensorProto(name, dtype, shape, values));
    return name;
  }

  /** An int64 initializer (a shape, axes, pads, ...; 1-D, or a scalar), shared by every node that needs the same values. */
  int64s(values: readonly number[], scalar = false): string {
    const key = scalar ? String(values[0]) : `[${values.join(',')}]`;
    let name = this.int64Constants.get(key);
    if (name === undefined) {
      name = this.addInitializer(`i64${key}`, 'i64', scalar ? [] : [values.length], values);
      this.int64Constants.set(key, name);
    }
    return name;
  }

  /** Appends a node; returns its output names (fresh, from `outputName`). */
  addNode(opType: string, inputs: readonly string[], attributes: OnnxAttributes, outputName: string, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, k) => this.freshName(outputCount === 1 ? outputName : `${outputName}:${k}`));
    const name = this.freshName(`${opType}(${outputs[0]})`);
    const attribute = Object.entries(attributes).map(([key, value]) => attributeProto(key, value));
    this.nodes.push({ name, opType, input: [...inputs], output: outputs, ...(attribute.length > 0 ? { attribute } : {}) });
    return outputs;
  }

  /** Value info for an intermediate value (once per name; graph inputs and initializers are declared already; none for a polynomial size, which ONNX cannot name). */
  declare(name: string, dtype: DType, shape: Shape): void {
    if (this.declared.has(name) || shape.some((d) => typeof d !== 'number' && !('dimParam' in dimProto(d)))) return;
    this.declared.add(name);
    this.valueInfo.push(valueInfo(name, dtype, shape));
  }

  /** A graph output under its reserved name, holding `value` (through an Identity). */
  addOutput(name: string, value: string, dtype: DType, shape: Shape): void {
    this.nodes.push({ name: this.freshName(`Identity(${name})`), opType: 'Identity', input: [value], output: [name] });
    this.outputs.push(valueInfo(name, dtype, shape));
  }
}
