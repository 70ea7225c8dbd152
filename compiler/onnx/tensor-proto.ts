/**
 * ONNX tensors on the host: decoding a TensorProto (raw bytes or typed fields) into exact
 * numbers, checked against its declared dims before anything is allocated, and the
 * mapping of ONNX element types onto kiln's dtypes.
 *
 * kiln has f32, i32 and bool. DOUBLE is narrowed to f32 and INT64 to i32; narrowing an
 * integer checks that every value fits, so a value that does not is an error, never a
 * wrapped number. Other element types (strings, float16, 8/16-bit and unsigned integers,
 * whose arithmetic wraps differently) are unsupported.
 */

import onnxProto from 'onnx-proto';
import type { onnx as onnxTypes } from 'onnx-proto';
import type { DType } from '../dtype.js';
import { OnnxError, OnnxUnsupportedError } from '../errors.js';

export const { onnx } = onnxProto;
export type TensorProto = onnxTypes.ITensorProto;

/** The most elements one tensor may declare: 2^26 f32 values fill the 256 MiB a WebGPU binding holds by default. */
export const MAX_TENSOR_ELEMENTS = 2 ** 26;

/** A value known when the model is imported (an initializer, a `Constant`, a folded shape computation). */
export interface KnownValue {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Exact values (int64 beyond 2^53 rounded), before narrowing to `dtype`. */
  readonly data: ArrayLike<number>;
}

const ELEMENT_TYPE = onnx.TensorProto.DataType;

/** ONNX element type names, for messages. */
export function elementTypeName(type: number): string {
  return (ELEMENT_TYPE as unknown as Record<number, string>)[type] ?? `element type ${type}`;
}

/** The kiln dtype an ONNX element type imports as, or undefined when kiln has none. */
export function dtypeOf(type: number): DType | undefined {
  switch (type) {
    case ELEMENT_TYPE.FLOAT:
    case ELEMENT_TYPE.DOUBLE:
      return 'f32';
    case ELEMENT_TYPE.INT32:
    case ELEMENT_TYPE.INT64:
      return 'i32';
    case ELEMENT_TYPE.BOOL:
      return 'bool';
    default:
      return undefined;
  }
}

/** As dtypeOf, throwing an unsupported-dtype error naming `where` when kiln has no such dtype. */
export function requireDType(type: number, where: string): DType {
  const dtype = dtypeOf(type);
  if (dtype === undefined) {
    throw new OnnxUnsupportedError(
      `${where}: element type ${elementTypeName(type)} is not supported; kiln imports FLOAT, DOUBLE (as f32), INT32, INT64 (as i32, values checked) and BOOL.`,
    );
  }
  return dtype;
}

/** An int64 field (a number, or a protobufjs Long) as a JS number. */
export function int64(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Checks dims (non-negative integers) and the element count against MAX_TENSOR_ELEMENTS; returns the count. */
export function checkDims(where: string, dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`${where}: dimension ${d} is not a non-negative integer (dims [${dims.join(',')}]).`);
    size *= d;
  }
  if (size > MAX_TENSOR_ELEMENTS) {
    throw new OnnxError(`${where}: dims [${dims.join(',')}] declare ${size} elements, more than the ${MAX_TENSOR_ELEMENTS} one tensor may hold.`);
  }
  return size;
}

const RAW_BYTES: Partial<Record<number, number>> = {
  [ELEMENT_TYPE.FLOAT]: 4,
  [ELEMENT_TYPE.DOUBLE]: 8,
  [ELEMENT_TYPE.INT32]: 4,
  [ELEMENT_TYPE.INT64]: 8,
  [ELEMENT_TYPE.BOOL]: 1,
};

function readRaw(type: number, raw: Uint8Array, size: number): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    switch (type) {
      case ELEMENT_TYPE.FLOAT:
        out[i] = view.getFloat32(i * 4, true);
        break;
      case ELEMENT_TYPE.DOUBLE:
        out[i] = view.getFloat64(i * 8, true);
        break;
      case ELEMENT_TYPE.INT32:
        out[i] = view.getInt32(i * 4, true);
        break;
      case ELEMENT_TYPE.INT64:
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      default:
        out[i] = view.getUint8(i) === 0 ? 0 : 1;
    }
  }
  return out;
}

function typedField(tensor: TensorProto, type: number): ArrayLike<number | { toNumber(): number }> {
  switch (type) {
    case ELEMENT_TYPE.FLOAT:
      return tensor.floatData ?? [];
    case ELEMENT_TYPE.DOUBLE:
      return tensor.doubleData ?? [];
    case ELEMENT_TYPE.INT64:
      return tensor.int64Data ?? [];
    default:
      return tensor.int32Data ?? [];
  }
}

/** Decodes a TensorProto into exact values, checking its size before allocating. */
export function knownFromTensor(tensor: TensorProto, where: string): KnownValue {
  const type = tensor.dataType ?? 0;
  const dtype = requireDType(type, where);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData?.length ?? 0) > 0) {
    throw new OnnxUnsupportedError(`${where}: the tensor's data is stored in an external file, which kiln does not read; save the model with its weights inside.`);
  }
  const dims = (tensor.dims ?? []).map(int64);
  const size = checkDims(where, dims);
  const raw = tensor.rawData;
  let data: Float64Array;
  if (raw && raw.length > 0) {
    const expected = size * RAW_BYTES[type]!;
    if (raw.length !== expected) {
      throw new OnnxError(`${where}: raw_data holds ${raw.length} bytes but dims [${dims.join(',')}] of ${elementTypeName(type)} need ${expected}.`);
    }
    data = readRaw(type, raw, size);
  } else {
    const field = typedField(tensor, type);
    if (field.length !== size) {
      throw new OnnxError(`${where}: the tensor holds ${field.length} values but dims [${dims.join(',')}] need ${size}.`);
    }
    data = Float64Array.from({ length: size }, (_, i) => int64(field[i]));
  }
  return { dtype, shape: dims, data };
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** The values as `dtype` stores them: f32 rounding, or an error if an integer does not fit i32. */
export function narrowed(value: KnownValue, where: string): ArrayLike<number> {
  if (value.dtype === 'i32') {
    for (let i = 0; i < value.data.length; i++) {
      const v = value.data[i]!;
      if (v < I32_MIN || v > I32_MAX) {
        throw new OnnxUnsupportedError(`${where}: the integer ${v} does not fit kiln's i32; kiln narrows INT64 to i32 only when every value fits.`);
      }
    }
  }
  return value.data;
}
