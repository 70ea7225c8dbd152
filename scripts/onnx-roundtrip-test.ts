/**
 * The export round trip of one ONNX backend test: the model imported into kiln
 * (importOnnx, as the conformance runner imports it), exported back (exportOnnx), and
 * run in ONNX Runtime (CPU) on the test's inputs; every output compared with the stored
 * one under ONNX's tolerances. A test kiln does not import is `unsupported`; an export
 * refusal or a wrong value is `fail`. Shared by `npm run onnx:roundtrip` and the tests.
 */

import * as ort from 'onnxruntime-node';
import type { DType } from '../compiler/dtype.js';
import { exportOnnx } from '../compiler/onnx/export/index.js';
import type { KnownValue } from '../compiler/onnx/index.js';
import type { BackendTestResult } from './onnx-backend-test.js';
import { compareOutputs, runDataSets } from './onnx-backend-test.js';

function ortTensor(value: KnownValue, dtype: DType): ort.Tensor {
  const shape = [...value.shape];
  if (dtype === 'f32') return new ort.Tensor('float32', Float32Array.from(value.data), shape);
  if (dtype === 'i32') return new ort.Tensor('int32', Int32Array.from(value.data), shape);
  return new ort.Tensor('bool', Uint8Array.from(value.data, (v) => (v !== 0 ? 1 : 0)), shape);
}

/** Imports, exports and runs one backend test in ONNX Runtime (each of its data sets); never throws. */
export function runRoundTrip(dir: string): Promise<BackendTestResult> {
  return runDataSets(dir, async (set) => {
    const { model, inputs } = set;
    const session = await ort.InferenceSession.create(exportOnnx(model.graph, { params: model.params }));
    try {
      const feeds = Object.fromEntries(session.inputNames.map((name) => [name, ortTensor(inputs[name]!, model.inputs[name]!.dtype)]));
      const results = await session.run(feeds);
      return compareOutputs(set, (name) => ({ shape: [...results[name]!.dims], data: Float64Array.from(results[name]!.data as ArrayLike<number>, Number) }));
    } finally {
      await session.release();
    }
  });
}
