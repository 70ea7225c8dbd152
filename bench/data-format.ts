/**
 * The data every system gets (bench/data.ts makes it), and its form on the wire: for the
 * page, every array travels in one binary file plus a small JSON index.
 */

import type { WorkloadId } from './workloads.js';
import { LENET } from './workloads.js';

export interface MlpBatch {
  /** [MLP_BATCH, 784] pixels in [0, 1]. */
  readonly images: Float32Array;
  /** [MLP_BATCH] class indices. */
  readonly labels: Int32Array;
}

/** The models whose initial weights the systems share. */
export type ModelName = 'mlp' | 'lenet' | 'block';

export interface BenchData {
  /**
   * Each model's weights and biases by the names every peer reads (`benchParamName`) and in kiln's layouts: `fc1.w` [in, out],
   * `fc1.b` [out], LeNet's `conv1.w` [out, in, 5, 5] and `conv1.b` [out, 1, 1], the block's
   * `q.w`, `norm1.gamma`, ... Peers with other layouts transpose them when they build.
   */
  readonly params: Readonly<Record<ModelName, Readonly<Record<string, Float32Array>>>>;
  /** Training step i (and inference run i) uses batch i mod the count. */
  readonly batches: readonly MlpBatch[];
  /** The transformer block's inputs, [batch·context, width] each; step i uses input i mod the count. */
  readonly blockInputs: readonly Float32Array[];
  /** Row-major operands a [m,k] and b [k,n] of each matmul workload. */
  readonly matmuls: Readonly<Partial<Record<WorkloadId, { readonly a: Float32Array; readonly b: Float32Array }>>>;
}

/**
 * LeNet's batch for step i: the MLP's batches halved, so step i takes half i mod twice the
 * count (views, no copies). Images are [LENET.batch, 784], i.e. [64, 1, 28, 28] (NCHW) and
 * equally [64, 28, 28, 1] (NHWC): with one channel the two layouts are the same bytes.
 */
export function lenetBatch(data: BenchData, step: number): MlpBatch {
  const half = step % (2 * data.batches.length);
  const batch = data.batches[half >> 1]!;
  const offset = (half & 1) * LENET.batch;
  const pixels = batch.images.length / batch.labels.length;
  return {
    images: batch.images.subarray(offset * pixels, (offset + LENET.batch) * pixels),
    labels: batch.labels.subarray(offset, offset + LENET.batch),
  };
}

/** Where each array lies in the binary file. */
interface ArrayEntry {
  readonly key: string;
  readonly dtype: 'f32' | 'i32';
  readonly offset: number;
  readonly length: number;
}

/** The arrays of `data` with flat keys (`params/mlp/fc1.w`, `batch/3/images`, `block-input/0`, `matmul/matmul-512/a`). */
function flatArrays(data: BenchData): [string, Float32Array | Int32Array][] {
  return [
    ...Object.entries(data.params).flatMap(([model, params]) => Object.entries(params).map(([name, values]): [string, Float32Array] => [`params/${model}/${name}`, values])),
    ...data.blockInputs.map((values, i): [string, Float32Array] => [`block-input/${i}`, values]),
    ...data.batches.flatMap((batch, i): [string, Float32Array | Int32Array][] => [
      [`batch/${i}/images`, batch.images],
      [`batch/${i}/labels`, batch.labels],
    ]),
    ...Object.entries(data.matmuls).flatMap(([id, { a, b }]): [string, Float32Array][] => [
      [`matmul/${id}/a`, a],
      [`matmul/${id}/b`, b],
    ]),
  ];
}

/** The data as one binary file (every array's bytes, 4-aligned) and its JSON index. */
export function encodeBenchData(data: BenchData): { index: string; bytes: Uint8Array } {
  const arrays = flatArrays(data);
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [key, values] of arrays) {
    entries.push({ key, dtype: values instanceof Int32Array ? 'i32' : 'f32', offset, length: values.length });
    offset += values.byteLength;
  }
  const bytes = new Uint8Array(offset);
  arrays.forEach(([, values], i) => bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), entries[i]!.offset));
  return { index: JSON.stringify(entries), bytes };
}

/** The inverse of `encodeBenchData`. */
export function decodeBenchData(index: string, buffer: ArrayBuffer): BenchData {
  const arrays = new Map<string, Float32Array | Int32Array>();
  for (const entry of JSON.parse(index) as ArrayEntry[]) {
    arrays.set(entry.key, entry.dtype === 'i32' ? new Int32Array(buffer, entry.offset, entry.length) : new Float32Array(buffer, entry.offset, entry.length));
  }
  const take = <T extends Float32Array | Int32Array>(key: string): T => arrays.get(key) as T;
  const params: Record<ModelName, Record<string, Float32Array>> = { mlp: {}, lenet: {}, block: {} };
  const matmuls: Partial<Record<WorkloadId, { a: Float32Array; b: Float32Array }>> = {};
  const blockInputs: Float32Array[] = [];
  let batchCount = 0;
  for (const key of arrays.keys()) {
    const [kind, name, part] = key.split('/');
    if (kind === 'params') params[name as ModelName][part!] = take(key);
    else if (kind === 'block-input') blockInputs[Number(name)] = take(key);
    else if (kind === 'batch') batchCount = Math.max(batchCount, Number(name) + 1);
    else if (kind === 'matmul' && part === 'a') matmuls[name as WorkloadId] = { a: take(key), b: take(`matmul/${name}/b`) };
  }
  const batches = Array.from({ length: batchCount }, (_, i) => ({ images: take<Float32Array>(`batch/${i}/images`), labels: take<Int32Array>(`batch/${i}/labels`) }));
  return { params, batches, blockInputs, matmuls };
}

/**
 * The data's name of a kiln param: the examples' `nn` layers name a linear weight
 * `fc1.kernel`, a conv weight `conv1.weight` and biases `.bias`; the data (and every peer)
 * calls them `fc1.w`, `conv1.w` and `.b`. Other names are the same.
 */
export function benchParamName(kilnName: string): string {
  return kilnName.replace(/\.(kernel|weight)$/, '.w').replace(/\.bias$/, '.b');
}
