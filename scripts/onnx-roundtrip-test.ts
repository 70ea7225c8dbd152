/**
 * The export round trip of one ONNX backend test: the model imported into kiln
 * (importOnnx, as the conformance runner imports it), exported back (exportOnnx), and
 * run in ONNX Runtime (CPU) on the test's inputs; every output compared with the stored
 * one under ONNX's tolerances. A test kiln does not import is `unsupported`; an export
 * refusal or a wrong value is `fail`. Shared by `npm run onnx:roundtrip` and the tests.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DType } from '../compiler/dtype.js';
import { OnnxUnsupportedError } from '../compiler/errors.js';
import { exportOnnx } from '../compiler/onnx/export/index.js';
import type { KnownValue } from '../compiler/onnx/index.js';
import type { BackendTestResult } from './onnx-backend-test.js';
import { Unsupported, checkFitsI32, compare, importFor, modelInputs, numbered, readTensor } from './onnx-backend-test.js';

function ortTensor(value: KnownValue, dtype: DType): ort.Tensor {
  const shape = [...value.shape];
  if (dtype === 'f32') return new ort.Tensor('float32', Float32Array.from(value.data), shape);
  if (dtype === 'i32') return new ort.Tensor('int32', Int32Array.from(value.data), shape);
  return new ort.Tensor('bool', Uint8Array.from(value.data, (v) => (v !== 0 ? 1 : 0)), shape);
}

async function roundTripDataSet(bytes: Uint8Array, dir: string): Promise<{ error: number; problem?: string }> {
  const modelInputList = modelInputs(bytes);
  const values = numbered(dir, 'input').map(readTensor);
  if (values.length !== modelInputList.length) throw new Error(`${basename(dir)} has ${values.length} inputs; the model takes ${modelInputList.length}`);
  values.forEach((value, k) => checkFitsI32(value, `input ${k}`));
  const inputs = Object.fromEntries(modelInputList.map((input, k) => [input.name, values[k]!]));
  const { model } = importFor(bytes, modelInputList, inputs);
  const expected = numbered(dir, 'output').map(readTensor);
  expected.forEach((value, k) => checkFitsI32(value, `output ${k}`));
  const session = await ort.InferenceSession.create(exportOnnx(model.graph, { params: model.params }));
  try {
    const feeds = Object.fromEntries(session.inputNames.map((name) => [name, ortTensor(inputs[name]!, model.inputs[name]!.dtype)]));
    const results = await session.run(feeds);
    const outputNames = Object.keys(model.outputs);
    let worst = 0;
    for (const [k, value] of expected.entries()) {
      const tensor = results[outputNames[k]!]!;
      const actual = { shape: [...tensor.dims], data: Float64Array.from(tensor.data as ArrayLike<number>, Number) };
      const result = compare(actual, value, `output '${outputNames[k]}'`);
      worst = Math.max(worst, result.error);
      if (result.problem) return { error: worst, problem: result.problem };
    }
    return { error: worst };
  } finally {
    await session.release();
  }
}

/** Imports, exports and runs one backend test in ONNX Runtime (each of its data sets); never throws. */
export async function runRoundTrip(dir: string): Promise<BackendTestResult> {
  const name = basename(dir);
  try {
    const bytes = readFileSync(join(dir, 'model.onnx'));
    let worst = 0;
    for (const set of readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort()) {
      const result = await roundTripDataSet(bytes, join(dir, set));
      worst = Math.max(worst, result.error);
      if (result.problem) return { name, status: 'fail', reason: result.problem, maxError: worst };
    }
    return { name, status: 'pass', maxError: worst };
  } catch (error) {
    if (error instanceof OnnxUnsupportedError || error instanceof Unsupported) return { name, status: 'unsupported', reason: (error as Error).message };
    return { name, status: 'fail', reason: `${(error as Error).name}: ${(error as Error).message}` };
  }
}
