/**
 * Runs exported models in ONNX Runtime (onnxruntime-node, CPU): a second engine, so an
 * export is checked by what another implementation computes from it, not by kiln.
 */

import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { checkOnnxModel } from '../../compiler/onnx/export/index.js';
import type { DType } from '../../compiler/dtype.js';

export interface OrtValue {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: Float32Array | Int32Array;
}

const ORT_TYPE = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

function ortTensor(value: OrtValue): ort.Tensor {
  const data = value.dtype === 'bool' ? Uint8Array.from(value.data, (v) => (v ? 1 : 0)) : value.data;
  return new ort.Tensor(ORT_TYPE[value.dtype], data, [...value.shape]);
}

/** Checks the model's structure, runs it in ONNX Runtime on `feeds` (only the inputs it declares), and returns every output as numbers. */
export async function runInOrt(bytes: Uint8Array, feeds: Readonly<Record<string, OrtValue>>): Promise<Record<string, { shape: number[]; data: number[] }>> {
  expect(checkOnnxModel(bytes), 'structural problems').to.deep.equal([]);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  try {
    const given = Object.fromEntries(session.inputNames.map((name) => [name, ortTensor(feeds[name]!)]));
    const results = await session.run(given);
    return Object.fromEntries(
      session.outputNames.map((name) => {
        const tensor = results[name]!;
        return [name, { shape: [...tensor.dims], data: Array.from(tensor.data as ArrayLike<number | bigint>, Number) }];
      }),
    );
  } finally {
    await session.release();
  }
}

/** The largest |a − b| over two equally long lists (NaN beside NaN counts as equal). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)) continue;
    const d = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
