/**
 * ONNX tensors on the host: decoding a TensorProto (raw bytes or typed fields) into exact
 * numbers, checked against its declared dims before anything is allocated, and the
 * mapping of ONNX element types onto kiln's dtypes.
 *
 * kiln has f32, i32 and bool. DOUBLE is narrowed to f32 and INT64 to i32; narrowing an
 * integer checks that every value fits, so a value that does not is an error, never a
 * wrapped number.
 *
 * Stored tensors (inputs, outputs, initializers, Constant values, test data) may also be
 * FLOAT16 (widened to f32, exactly) or 8/16-bit and unsigned integers (held as i32, values
 * checked): kiln then computes on the values in f32 or i32, which gives ONNX's answer
 * wherever that answer fits the declared type. ONNX's own arithmetic in those types (an
 * 8-bit wrap-around, float16 rounding after each op) is not reproduced, so a computation
 * that targets them (Cast's `to`) keeps to the types kiln computes in: `dtypeOf`. Cast to
 * FLOAT16 is the exception: it rounds to the nearest f16 value, held as f32 (ops-elementwise.ts).
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
  /**
   * The ONNX element type the values are stored as in the file (an initializer, a Constant,
   * a model input fixed at import); undefined for values computed at import. It tells
   * QuantizeLinear's zero point UINT8 from INT8, which kiln holds alike as i32.
   */
  readonly elementType?: number;
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

/** The kiln dtype a stored tensor of an ONNX element type is held in (see the file's comment), or undefined. */
function storageDTypeOf(type: number): DType | undefined {
  switch (type) {
    case ELEMENT_TYPE.FLOAT16:
      return 'f32';
    case ELEMENT_TYPE.UINT8:
    case ELEMENT_TYPE.INT8:
    case ELEMENT_TYPE.UINT16:
    case ELEMENT_TYPE.INT16:
    case ELEMENT_TYPE.UINT32:
    case ELEMENT_TYPE.UINT64:
      return 'i32';
    default:
      return dtypeOf(type);
  }
}

/** As storageDTypeOf, throwing an unsupported-dtype error naming `where` when kiln cannot hold the type. */
export function requireStorageDType(type: number, where: string): DType {
  const dtype = storageDTypeOf(type);
  if (dtype === undefined) {
    throw new OnnxUnsupportedError(
      `${where}: element type ${elementTypeName(type)} is not supported; kiln holds FLOAT, DOUBLE and FLOAT16 as f32, the integer types as i32 (values checked) and BOOL.`,
    );
  }
  return dtype;
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

/** An IEEE half-precision value from its 16 bits (exact in a double). */
function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Per element type held in raw_data: its bytes per value and how one is read (little-endian). */
const RAW: Partial<Record<number, { bytes: number; read(view: DataView, offset: number): number }>> = {
  [ELEMENT_TYPE.FLOAT]: { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  [ELEMENT_TYPE.DOUBLE]: { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  [ELEMENT_TYPE.FLOAT16]: { bytes: 2, read: (v, o) => float16Value(v.getUint16(o, true)) },
  [ELEMENT_TYPE.INT32]: { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  [ELEMENT_TYPE.INT64]: { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  [ELEMENT_TYPE.UINT8]: { bytes: 1, read: (v, o) => v.getUint8(o) },
  [ELEMENT_TYPE.INT8]: { bytes: 1, read: (v, o) => v.getInt8(o) },
  [ELEMENT_TYPE.UINT16]: { bytes: 2, read: (v, o) => v.getUint16(o, true) },
  [ELEMENT_TYPE.INT16]: { bytes: 2, read: (v, o) => v.getInt16(o, true) },
  [ELEMENT_TYPE.UINT32]: { bytes: 4, read: (v, o) => v.getUint32(o, true) },
  [ELEMENT_TYPE.UINT64]: { bytes: 8, read: (v, o) => Number(v.getBigUint64(o, true)) },
  [ELEMENT_TYPE.BOOL]: { bytes: 1, read: (v, o) => (v.getUint8(o) === 0 ? 0 : 1) },
};

/** The bytes one value of `type` takes in raw_data, or undefined for a type kiln does not read. */
export function rawElementBytes(type: number): number | undefined {
  return RAW[type]?.bytes;
}

function readRaw(type: number, raw: Uint8Array, size: number): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { bytes, read } = RAW[type]!;
  return Float64Array.from({ length: size }, (_, i) => read(view, i * bytes));
}

/** The typed field ONNX keeps `type`'s values in when raw_data is empty (onnx.proto's comments). */
export function typedField(tensor: TensorProto, type: number): ArrayLike<number | { toNumber(): number }> {
  switch (type) {
    case ELEMENT_TYPE.FLOAT:
      return tensor.floatData ?? [];
    case ELEMENT_TYPE.DOUBLE:
      return tensor.doubleData ?? [];
    case ELEMENT_TYPE.INT64:
      return tensor.int64Data ?? [];
    case ELEMENT_TYPE.UINT32:
    case ELEMENT_TYPE.UINT64:
      return tensor.uint64Data ?? [];
    default:
      return tensor.int32Data ?? [];
  }
}

/** A value read from a typed field: FLOAT16 is kept there as its 16 bits in int32_data (uint64_data decodes as unsigned Longs). */
function fieldValue(type: number, value: number | { toNumber(): number } | undefined): number {
  return type === ELEMENT_TYPE.FLOAT16 ? float16Value(int64(value)) : int64(value);
}

/** Decodes a TensorProto into exact values, checking its size before allocating. */
export function knownFromTensor(tensor: TensorProto, where: string): KnownValue {
  const type = tensor.dataType ?? 0;
  const dtype = requireStorageDType(type, where);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData?.length ?? 0) > 0) {
    throw new OnnxUnsupportedError(`${where}: the tensor's data is stored in an external file, which kiln does not read; save the model with its weights inside.`);
  }
  const dims = (tensor.dims ?? []).map(int64);
  const size = checkDims(where, dims);
  const raw = tensor.rawData;
  let data: Float64Array;
  if (raw && raw.length > 0) {
    const expected = size * RAW[type]!.bytes;
    if (raw.length !== expected) {
      throw new OnnxError(`${where}: raw_data holds ${raw.length} bytes but dims [${dims.join(',')}] of ${elementTypeName(type)} need ${expected}.`);
    }
    data = readRaw(type, raw, size);
  } else {
    const field = typedField(tensor, type);
    if (field.length !== size) {
      throw new OnnxError(`${where}: the tensor holds ${field.length} values but dims [${dims.join(',')}] need ${size}.`);
    }
    data = Float64Array.from({ length: size }, (_, i) => fieldValue(type, field[i]));
  }
  return { dtype, shape: dims, data, elementType: type };
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** The values as `dtype` stores them: f32 rounding, or an error if an integer does not fit i32. */
export function narrowed(value: KnownValue, where: string): ArrayLike<number> {
  if (value.dtype === 'i32') {
    for (let i = 0; i < value.data.length; i++) {
      const v = value.data[i]!;
      if (v < I32_MIN || v > I32_MAX) {
        throw new OnnxUnsupportedError(`${where}: the integer ${v} does not fit kiln's i32; kiln narrows INT64, UINT32 and UINT64 to i32 only when every value fits.`);
      }
    }
  }
  return value.data;
}
