/**
 * Runs one ONNX backend test directory (`model.onnx` and, in each `test_data_set_N` folder, `input_K.pb`
 * and `output_K.pb`) on WebGPU through kiln's importer, and compares every output with the
 * stored one using ONNX's tolerances. Shared by `npm run conformance` and the test suite.
 *
 * A test kiln cannot express (an op, attribute or dtype the importer rejects, an int64
 * value that does not fit i32) is `unsupported`; any other error, or a value outside the
 * tolerance, is `fail`: a wrong answer or a bug to fix.
 */

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OnnxUnsupportedError } from '../compiler/errors.js';
import { StaticValueError, importOnnx, knownFromTensor, onnx } from '../compiler/onnx/index.js';
import type { KnownValue, OnnxModel } from '../compiler/onnx/index.js';
import { compile } from '../compiler/plan.js';
import { Session } from '../runtime/session.js';

/** ONNX's backend-test tolerances (onnx/backend/test/runner): |actual − expected| ≤ atol + rtol·|expected|. */
export const TOLERANCE = { rtol: 1e-3, atol: 1e-7 };

export interface BackendTestResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'unsupported';
  /** Why it failed or is unsupported. */
  readonly reason?: string;
  /** The largest |actual − expected| over the compared outputs. */
  readonly maxError?: number;
  /** Model inputs fixed to the test's values at import (shapes, axes or pads fed as inputs). */
  readonly fixedInputs?: readonly string[];
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** A test kiln cannot express (thrown by the readers below; reported as unsupported). */
class Unsupported extends Error {}

function readTensor(path: string): KnownValue {
  const proto = onnx.TensorProto.decode(readFileSync(path));
  try {
    return knownFromTensor(proto, basename(path));
  } catch (error) {
    if (error instanceof OnnxUnsupportedError) throw new Unsupported(error.message);
    throw error;
  }
}

function checkFitsI32(value: KnownValue, what: string): void {
  if (value.dtype !== 'i32') return;
  for (let i = 0; i < value.data.length; i++) {
    const v = value.data[i]!;
    if (v < I32_MIN || v > I32_MAX) throw new Unsupported(`${what} holds ${v}, which does not fit kiln's i32`);
  }
}

/** The numbered `prefix_k.pb` files of a data set, in order. */
function numbered(dir: string, prefix: string): string[] {
  const files: string[] = [];
  for (let k = 0; existsSync(join(dir, `${prefix}_${k}.pb`)); k++) files.push(join(dir, `${prefix}_${k}.pb`));
  return files;
}

function compare(actual: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }, expected: KnownValue, what: string): { error: number; problem?: string } {
  if (actual.shape.join() !== expected.shape.join()) {
    return { error: Infinity, problem: `${what}: shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]` };
  }
  let worst = 0;
  let problem: string | undefined;
  for (let i = 0; i < expected.data.length; i++) {
    const [a, e] = [actual.data[i]!, expected.data[i]!];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const error = a === e ? 0 : Math.abs(a - e);
    if (Number.isNaN(error) || error > TOLERANCE.atol + TOLERANCE.rtol * Math.abs(e)) {
      problem ??= `${what}[${i}] = ${a}, expected ${e}`;
      worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
    } else {
      worst = Math.max(worst, error);
    }
  }
  return problem ? { error: worst, problem } : { error: worst };
}

interface ModelInput {
  readonly name: string;
  /** Per axis, the dimension's key in importOnnx's `dims` when it is dynamic, else undefined. */
  readonly dynamic: readonly (string | undefined)[];
}

/** The model's inputs (initializers excluded), in order; a non-tensor input makes the test unsupported. */
function modelInputs(bytes: Uint8Array): ModelInput[] {
  const graph = onnx.ModelProto.decode(bytes).graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  return (graph?.input ?? [])
    .filter((input) => !initializers.has(input.name))
    .map((input) => {
      const name = input.name ?? '';
      const tensorType = input.type?.tensorType;
      if (!tensorType) throw new Unsupported(`input '${name}' is not a tensor (a sequence, map or optional)`);
      const dims = tensorType.shape?.dim ?? [];
      return { name, dynamic: dims.map((d, axis) => (Object.hasOwn(d, 'dimValue') ? undefined : d.dimParam || `${name}:${axis}`)) };
    });
}

/**
 * Imports the model for one data set: dynamic dimensions bound to the data's sizes, and
 * the inputs kiln needs at import (a Reshape's shape fed as an input) fixed to the data's
 * values, each found by the error it causes and the import retried.
 */
function importFor(bytes: Uint8Array, inputs: readonly ModelInput[], values: Readonly<Record<string, KnownValue>>): { model: OnnxModel; fixed: string[] } {
  const dims: Record<string, number> = {};
  for (const input of inputs) input.dynamic.forEach((key, axis) => key !== undefined && (dims[key] = values[input.name]!.shape[axis]!));
  const constants: Record<string, ArrayLike<number>> = {};
  for (;;) {
    try {
      return { model: importOnnx(bytes, { dims, constants }), fixed: Object.keys(constants) };
    } catch (error) {
      const names = error instanceof StaticValueError ? error.modelInputs.filter((name) => values[name] && !constants[name]) : [];
      if (names.length === 0) throw error;
      for (const name of names) constants[name] = values[name]!.data;
    }
  }
}

/** The ONNX node tests of Debian's libonnx-testdata: the default set of every runner. */
export const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';

/** The test directories among `paths`: each a test (it holds model.onnx) or a folder of tests, in name order. */
export function testDirs(paths: readonly string[]): string[] {
  return paths.flatMap((path) =>
    existsSync(join(path, 'model.onnx'))
      ? [path]
      : readdirSync(path)
          .sort()
          .map((d) => join(path, d))
          .filter((d) => existsSync(join(d, 'model.onnx'))),
  );
}

/** One data set, ready to run: the model imported for its inputs, the inputs by name, and the expected outputs in order. */
export interface DataSet {
  readonly model: OnnxModel;
  readonly fixed: string[];
  readonly inputs: Readonly<Record<string, KnownValue>>;
  readonly expected: readonly KnownValue[];
}

/** Reads a data set's inputs, imports the model for them, then reads its expected outputs. */
function loadDataSet(bytes: Uint8Array, dir: string): DataSet {
  const modelInputList = modelInputs(bytes);
  const values = numbered(dir, 'input').map(readTensor);
  if (values.length !== modelInputList.length) throw new Error(`${basename(dir)} has ${values.length} inputs; the model takes ${modelInputList.length}`);
  values.forEach((value, k) => checkFitsI32(value, `input ${k}`));
  const inputs = Object.fromEntries(modelInputList.map((input, k) => [input.name, values[k]!]));
  // Imported before the outputs are read: the importer rejects outputs that are not tensors.
  const { model, fixed } = importFor(bytes, modelInputList, inputs);
  const expected = numbered(dir, 'output').map(readTensor);
  expected.forEach((value, k) => checkFitsI32(value, `output ${k}`));
  return { model, fixed, inputs, expected };
}

/** Compares each expected output with the model output of its position; stops at the first problem. */
export function compareOutputs(set: DataSet, actual: (name: string) => { readonly shape: readonly number[]; readonly data: ArrayLike<number> }): { error: number; problem?: string } {
  const outputNames = Object.keys(set.model.outputs);
  let worst = 0;
  for (const [k, value] of set.expected.entries()) {
    const result = compare(actual(outputNames[k]!), value, `output '${outputNames[k]}'`);
    worst = Math.max(worst, result.error);
    if (result.problem) return { error: worst, problem: result.problem };
  }
  return { error: worst };
}

/**
 * Runs `runOne` on each data set of the test in `dir` and sums up: the first problem is a
 * fail; an import refusal or an Unsupported is unsupported; any other error a fail. Never throws.
 */
export async function runDataSets(dir: string, runOne: (set: DataSet) => Promise<{ error: number; problem?: string }>): Promise<BackendTestResult> {
  const name = basename(dir);
  try {
    const bytes = readFileSync(join(dir, 'model.onnx'));
    const dataSets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
    let worst = 0;
    const fixed = new Set<string>();
    for (const setDir of dataSets) {
      const set = loadDataSet(bytes, join(dir, setDir));
      set.fixed.forEach((input) => fixed.add(input));
      const result = await runOne(set);
      worst = Math.max(worst, result.error);
      if (result.problem) return { name, status: 'fail', reason: result.problem, maxError: worst };
    }
    return { name, status: 'pass', maxError: worst, ...(fixed.size > 0 ? { fixedInputs: [...fixed] } : {}) };
  } catch (error) {
    if (error instanceof OnnxUnsupportedError || error instanceof Unsupported) return { name, status: 'unsupported', reason: (error as Error).message };
    return { name, status: 'fail', reason: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Imports, compiles and runs one backend test (each of its data sets) on `device`; never throws. */
export function runBackendTest(dir: string, device: GPUDevice): Promise<BackendTestResult> {
  return runDataSets(dir, async (set) => {
    const plan = compile(set.model.graph, { limits: device.limits });
    const session = await Session.create(device, plan);
    try {
      // An input no output depends on (an output folded at import) is not fed.
      const fed = Object.keys(plan.entries['forward']!.inputs);
      const actual = await session.forward(Object.fromEntries(fed.map((name) => [name, set.inputs[name]!.data])));
      return compareOutputs(set, (name) => actual[name]!);
    } finally {
      session.destroy();
    }
  });
}
