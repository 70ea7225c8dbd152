/**
 * Element types. Each dtype says how it is stored on the host and how many bytes an
 * element takes on the device, so adding f16 means adding one row here (plus its WGSL
 * spelling in codegen) rather than touching every op.
 */

export type DType = 'f32' | 'i32' | 'bool';

export type FloatArray = Float32Array | Float64Array;
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

interface DTypeInfo {
  /** Bytes per element in a device buffer (bool is widened to 32 bits in WGSL storage). */
  readonly deviceBytes: number;
  readonly isFloat: boolean;
  readonly isInteger: boolean;
}

const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  f32: { deviceBytes: 4, isFloat: true, isInteger: false },
  i32: { deviceBytes: 4, isFloat: false, isInteger: true },
  bool: { deviceBytes: 4, isFloat: false, isInteger: false },
};

export const ALL_DTYPES: readonly DType[] = Object.keys(DTYPES) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

export function isFloat(dtype: DType): boolean {
  return DTYPES[dtype].isFloat;
}

export function isInteger(dtype: DType): boolean {
  return DTYPES[dtype].isInteger;
}

/** Numeric dtypes take part in arithmetic; bool does not. */
export function isNumeric(dtype: DType): boolean {
  return DTYPES[dtype].isFloat || DTYPES[dtype].isInteger;
}

export function deviceBytes(dtype: DType): number {
  return DTYPES[dtype].deviceBytes;
}

/** Floating-point precision the reference interpreter computes in. */
export type Precision = 'f32' | 'f64';

/** Allocates host storage for `size` elements of `dtype` (floats in the given precision). */
export function allocate(dtype: DType, size: number, precision: Precision = 'f32'): TypedArray {
  switch (dtype) {
    case 'f32':
      return precision === 'f64' ? new Float64Array(size) : new Float32Array(size);
    case 'i32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}
