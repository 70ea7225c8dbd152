/**
 * Checkpoints in the safetensors format (https://huggingface.co/docs/safetensors), so
 * weights trained with kiln open in PyTorch, JAX or any other reader, and theirs open here:
 *
 *   8 bytes   header length N, unsigned 64-bit little-endian
 *   N bytes   JSON header: {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}},
 *             padded with spaces to a multiple of 8 (so the data that follows is aligned)
 *   rest      every tensor's row-major little-endian bytes, at its offsets from the end of the header
 *
 * The encoder writes what the reference implementation writes for the same tensors (same
 * order: widest dtype first, then by name; same JSON; same padding), so files are byte for
 * byte comparable. Values are copied as raw bytes, never through JS numbers: NaN payloads
 * and -0 survive a round trip. Pure functions: no GPU, browser or Node alike.
 */

import { ArgumentError, CheckpointError } from '../compiler/errors.js';
import { checkKeys } from '../compiler/ops/args.js';
import type { HostTensor } from './host-tensor.js';
import type { PlanDType } from '../compiler/plan-format.js';

/** A decoded checkpoint: tensors by name (in file order) and the free-form string metadata. */
export interface Checkpoint {
  readonly tensors: Record<string, HostTensor>;
  readonly metadata: Record<string, string>;
  /** With `skipUnsupported`: the tensors left out, by name, with their file dtype (`{'bn.num_batches_tracked': 'I64'}`). */
  readonly skipped?: Record<string, string>;
}

export interface DecodeSafetensorsOptions {
  /**
   * Leave out tensors of a dtype kiln has no type for (F64, F16, I64, ...) instead of
   * refusing the file; they are listed in `skipped`. Default false.
   */
  skipUnsupported?: boolean;
}

/** safetensors dtype names of kiln's dtypes, their element sizes, and the order the encoder sorts them in. */
const FILE_DTYPE: Readonly<Record<PlanDType, { readonly name: string; readonly bytes: number; readonly rank: number }>> = {
  f32: { name: 'F32', bytes: 4, rank: 2 },
  i32: { name: 'I32', bytes: 4, rank: 1 },
  bool: { name: 'BOOL', bytes: 1, rank: 0 },
};
const KILN_DTYPE: Readonly<Record<string, PlanDType>> = { F32: 'f32', I32: 'i32', BOOL: 'bool' };

/**
 * Dtypes the format defines that kiln has no type for: named in errors, so the fix is
 * clear. Those of whole bytes (their size given) can be skipped when decoding, e.g. the
 * I64 `num_batches_tracked` of a PyTorch batch norm.
 */
const OTHER_FILE_DTYPES: Readonly<Record<string, number | undefined>> = {
  F64: 8, F16: 2, BF16: 2, I64: 8, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1,
  F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, F6_E2M3: undefined, F6_E3M2: undefined, F4: undefined, C64: 8,
};

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses larger headers; so do we, before decoding one. */
const MAX_HEADER_BYTES = 100_000_000;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes tensors (and optional string metadata) as a safetensors file. Tensors are laid
 * out widest dtype first, then by name, as the reference implementation does, so 4-byte
 * tensors stay 4-byte aligned in the file.
 */
export function encodeSafetensors(tensors: Readonly<Record<string, HostTensor>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  for (const [what, value] of [['tensors', tensors], ['metadata', metadata]] as const) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new CheckpointError(`encodeSafetensors: ${what} must be an object of name → ${what === 'tensors' ? '{shape, dtype, data}' : 'string'}, got ${describeValue(value)}.`);
    }
  }
  const entries = Object.entries(tensors).map(([name, tensor]) => ({ name, tensor, bytes: checkedTensorBytes(name, tensor) }));
  entries.sort((a, b) => FILE_DTYPE[b.tensor.dtype].rank - FILE_DTYPE[a.tensor.dtype].rank || compareNames(a.name, b.name));

  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new CheckpointError(`encodeSafetensors: metadata '${key}' must be a string, got ${typeof value}.`);
  }
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const { name, tensor, bytes } of entries) {
    header[name] = { dtype: FILE_DTYPE[tensor.dtype].name, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;

  const file = new Uint8Array(8 + headerLength + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerLength), true);
  file.set(json, 8);
  file.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { bytes } of entries) {
    file.set(bytes, at);
    at += bytes.length;
  }
  return file;
}

/**
 * Decodes a safetensors file holding F32, I32 and BOOL tensors. Everything is validated
 * first (header length, JSON, dtypes, shapes, offsets that must tile the data exactly as
 * the format requires); a malformed file throws a CheckpointError saying what is wrong.
 */
export function decodeSafetensors(file: Uint8Array, options: DecodeSafetensorsOptions = {}): Checkpoint {
  checkKeys('decodeSafetensors', options, ['skipUnsupported']);
  if (options.skipUnsupported !== undefined && typeof options.skipUnsupported !== 'boolean') {
    throw new ArgumentError(`decodeSafetensors: skipUnsupported must be a boolean, got ${JSON.stringify(options.skipUnsupported)}.`);
  }
  if (!(file instanceof Uint8Array)) {
    throw new CheckpointError(`decodeSafetensors: expected the file's bytes as a Uint8Array, got ${describeValue(file)}. Wrap an ArrayBuffer as new Uint8Array(buffer); readFileSync gives a Uint8Array.`);
  }
  if (file.length < 8) {
    throw new CheckpointError(`safetensors: truncated file: ${file.length} bytes, but the file starts with an 8-byte header length.`);
  }
  const headerLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true);
  if (headerLength > BigInt(file.length - 8)) {
    throw new CheckpointError(`safetensors: header length ${headerLength} runs past the end of the file (${file.length - 8} bytes follow it); the file is truncated or not safetensors.`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(`safetensors: header of ${headerLength} bytes is over the format's limit of ${MAX_HEADER_BYTES}.`);
  const dataStart = 8 + Number(headerLength);
  const header = parseHeader(file.subarray(8, dataStart));
  const data = file.subarray(dataStart);

  const metadata = parseMetadata(header[METADATA_KEY]);
  const infos = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, info]) => parseTensorInfo(name, info, options.skipUnsupported ?? false));
  checkOffsets(infos, data.length);
  const tensors: Record<string, HostTensor> = {};
  const skipped: Record<string, string> = {};
  // Defined, not assigned: a tensor named `__proto__` stays an own key (assigning it would set the
  // object's prototype and drop it silently, so a strict load would not see it).
  for (const info of infos) {
    if (info.skipped !== undefined) {
      Object.defineProperty(skipped, info.name, { value: info.skipped, enumerable: true, writable: true, configurable: true });
      continue;
    }
    Object.defineProperty(tensors, info.name, { value: hostTensor(info, data.subarray(info.begin, info.end)), enumerable: true, writable: true, configurable: true });
  }
  return Object.keys(skipped).length > 0 ? { tensors, metadata, skipped } : { tensors, metadata };
}

interface TensorInfo {
  readonly name: string;
  readonly dtype: PlanDType;
  /** The file dtype of a tensor left out (skipUnsupported). */
  readonly skipped?: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

function parseHeader(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError('safetensors: the header is not valid UTF-8; the file is corrupted or not safetensors.');
  }
  if (!text.startsWith('{')) throw new CheckpointError(`safetensors: the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}.`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`safetensors: the header is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError('safetensors: the header must be a JSON object.');
  return header as Record<string, unknown>;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CheckpointError(`safetensors: ${METADATA_KEY} must be an object of strings.`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new CheckpointError(`safetensors: ${METADATA_KEY}.${key} must be a string, got ${JSON.stringify(item)}.`);
  }
  return { ...(value as Record<string, string>) };
}

function parseTensorInfo(name: string, value: unknown, skipUnsupported: boolean): TensorInfo {
  const fail = (problem: string): never => {
    throw new CheckpointError(`safetensors: tensor '${name}': ${problem}.`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('its entry must be an object {dtype, shape, data_offsets}');
  const { dtype: fileDtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  const dtype = typeof fileDtype === 'string' ? KILN_DTYPE[fileDtype] : undefined;
  const otherBytes = typeof fileDtype === 'string' && dtype === undefined ? OTHER_FILE_DTYPES[fileDtype] : undefined;
  if (dtype === undefined && !(skipUnsupported && otherBytes !== undefined)) {
    if (typeof fileDtype === 'string' && Object.hasOwn(OTHER_FILE_DTYPES, fileDtype)) {
      const skip = otherBytes === undefined ? '' : ', or decode with {skipUnsupported: true} to leave it out';
      fail(`dtype ${fileDtype} is not supported; kiln reads F32, I32 and BOOL (convert the tensor before saving${skip})`);
    }
    fail(`unknown dtype ${JSON.stringify(fileDtype)}; kiln reads F32, I32 and BOOL`);
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    fail(`data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin`);
  const count = (shape as number[]).reduce((a, d) => a * d, 1);
  const expected = count * (dtype === undefined ? otherBytes! : FILE_DTYPE[dtype].bytes);
  if (end - begin !== expected) {
    fail(`${fileDtype}[${(shape as number[]).join(',')}] needs ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  const info = { name, dtype: dtype ?? 'f32', shape: shape as number[], begin, end };
  return dtype === undefined ? { ...info, skipped: fileDtype as string } : info;
}

/** The format requires the tensors' byte ranges to tile the data exactly: no overlap, no gap, nothing past the end. */
function checkOffsets(infos: readonly TensorInfo[], dataLength: number): void {
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorInfo | undefined;
  for (const info of sorted) {
    const range = `'${info.name}' [${info.begin}, ${info.end}]`;
    if (info.end > dataLength) {
      throw new CheckpointError(`safetensors: data_offsets of ${range} run past the end of the data (${dataLength} bytes); the file is truncated.`);
    }
    if (info.begin < covered) {
      throw new CheckpointError(`safetensors: data_offsets of ${range} overlap '${previous!.name}' [${previous!.begin}, ${previous!.end}].`);
    }
    if (info.begin > covered) throw new CheckpointError(`safetensors: bytes [${covered}, ${info.begin}] of the data belong to no tensor (before ${range}).`);
    covered = info.end;
    previous = info;
  }
  if (covered !== dataLength) throw new CheckpointError(`safetensors: bytes [${covered}, ${dataLength}] of the data belong to no tensor.`);
}

function hostTensor(info: TensorInfo, bytes: Uint8Array): HostTensor {
  const shape = [...info.shape];
  const copy = fromLittleEndian(bytes, FILE_DTYPE[info.dtype].bytes);
  if (info.dtype === 'f32') return { shape, dtype: 'f32', data: new Float32Array(copy) };
  if (info.dtype === 'i32') return { shape, dtype: 'i32', data: new Int32Array(copy) };
  const data = new Uint8Array(copy);
  const bad = data.findIndex((v) => v > 1);
  if (bad >= 0) throw new CheckpointError(`safetensors: tensor '${info.name}': BOOL element ${bad} is ${data[bad]}; BOOL bytes must be 0 or 1.`);
  return { shape, dtype: 'bool', data };
}

/** The tensor's bytes in file order, after checking it is a well-formed HostTensor. */
function checkedTensorBytes(name: string, tensor: HostTensor): Uint8Array {
  const fail = (problem: string): never => {
    throw new CheckpointError(`encodeSafetensors: tensor '${name}': ${problem}.`);
  };
  if (name === METADATA_KEY) fail(`'${METADATA_KEY}' is reserved for metadata; rename the tensor`);
  if (tensor === null || typeof tensor !== 'object') fail(`expected {shape, dtype, data}, got ${describeValue(tensor)}`);
  if (!Object.hasOwn(FILE_DTYPE, tensor.dtype)) fail(`unknown dtype ${JSON.stringify(tensor.dtype)} (f32, i32 or bool)`);
  if (!Array.isArray(tensor.shape) || !tensor.shape.every(isSize)) fail(`shape must be non-negative integers, got ${JSON.stringify(tensor.shape)}`);
  const expectedArray = { f32: Float32Array, i32: Int32Array, bool: Uint8Array }[tensor.dtype];
  if (!(tensor.data instanceof expectedArray)) fail(`${tensor.dtype} data must be a ${expectedArray.name}, got ${describeValue(tensor.data)}`);
  const count = tensor.shape.reduce((a, d) => a * d, 1);
  if (tensor.data.length !== count) fail(`shape [${tensor.shape.join(',')}] has ${count} elements, but data has ${tensor.data.length}`);
  if (tensor.dtype === 'bool') {
    const bad = tensor.data.findIndex((v) => v > 1);
    if (bad >= 0) fail(`bool element ${bad} is ${tensor.data[bad]}; bool values must be 0 or 1`);
  }
  return toLittleEndian(tensor.data, FILE_DTYPE[tensor.dtype].bytes);
}

/** A copy of a typed array's bytes in little-endian order (a plain copy on every little-endian host). */
function toLittleEndian(array: Float32Array | Int32Array | Uint8Array, elementBytes: number): Uint8Array {
  return swapIfBigEndian(new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice(), elementBytes);
}

/** A fresh, aligned ArrayBuffer holding little-endian `bytes` in host order. */
function fromLittleEndian(bytes: Uint8Array, elementBytes: number): ArrayBuffer {
  return swapIfBigEndian(bytes.slice(), elementBytes).buffer as ArrayBuffer;
}

function swapIfBigEndian(bytes: Uint8Array, elementBytes: number): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN || elementBytes === 1) return bytes;
  for (let i = 0; i < bytes.length; i += elementBytes) bytes.subarray(i, i + elementBytes).reverse();
  return bytes;
}

/** Names compare by UTF-8 bytes, as the reference implementation orders them. */
function compareNames(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}
