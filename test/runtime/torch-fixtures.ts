/**
 * safetensors files written byte by byte as PyTorch's `safetensors.torch.save_file` writes
 * them (PyTorch is not installed here): an 8-byte little-endian header length, the JSON
 * header with `__metadata__: {format: 'pt'}`, then each tensor's little-endian bytes.
 * Independent of runtime/safetensors.ts, so a test checks the decoder against the format.
 */

export interface TorchFixtureTensor {
  readonly dtype: 'F32' | 'I64';
  readonly shape: readonly number[];
  /** Row-major values in PyTorch's layout. */
  readonly values: readonly number[];
}

export function torchSafetensors(tensors: Readonly<Record<string, TorchFixtureTensor>>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { dtype, shape, values }] of Object.entries(tensors)) {
    const width = dtype === 'F32' ? 4 : 8;
    const bytes = new Uint8Array(values.length * width);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => (dtype === 'F32' ? view.setFloat32(i * 4, v, true) : view.setBigInt64(i * 8, BigInt(v), true)));
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  // Padded with spaces to a multiple of 8, as the Rust writer PyTorch calls pads it.
  const text = JSON.stringify(header);
  const json = new TextEncoder().encode(text.padEnd(Math.ceil(text.length / 8) * 8, ' '));
  const file = new Uint8Array(8 + json.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let at = 8 + json.length;
  for (const chunk of chunks) {
    file.set(chunk, at);
    at += chunk.length;
  }
  return file;
}

/** The header of a safetensors file, parsed (to check what a writer wrote). */
export function safetensorsHeader(file: Uint8Array): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
}

/** A tensor's f32 values read straight from a safetensors file's bytes. */
export function safetensorsF32(file: Uint8Array, name: string): number[] {
  const header = safetensorsHeader(file);
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const [begin, end] = header[name]!.data_offsets;
  const view = new DataView(file.buffer, file.byteOffset + 8 + length + begin, end - begin);
  return Array.from({ length: (end - begin) / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
