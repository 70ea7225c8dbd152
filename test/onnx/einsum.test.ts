/**
 * ONNX Einsum lowered to transpose, reshape, matmul, mul, sum and gather, checked against
 * ONNX Runtime on the contractions models use: matrix and batched products, transposes,
 * diagonals and traces, sums, inner and outer products, three operands, implicit outputs
 * and '...' broadcasting.
 */

import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { OnnxError } from '../../compiler/errors.js';
import { importOnnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose, testData } from '../helpers.js';
import { modelBytes, node, value } from './model-builder.js';

function einsumModel(equation: string, shapes: readonly (readonly number[])[]): Uint8Array {
  const names = shapes.map((_, i) => `x${i}`);
  return modelBytes({
    nodes: [node('Einsum', names, ['y'], { equation }, 'einsum')],
    inputs: shapes.map((shape, i) => value(names[i]!, shape)),
    outputs: [value('y', [])],
    opset: 12,
  });
}

async function agreesWithOnnxRuntime(equation: string, ...shapes: number[][]): Promise<void> {
  const bytes = einsumModel(equation, shapes);
  const feeds = shapes.map((shape, i) => testData(shape.reduce((a, b) => a * b, 1), i + 1, -1, 1));
  const kiln = interpret(importOnnx(bytes).graph, { feeds: Object.fromEntries(feeds.map((f, i) => [`x${i}`, f])) })['y']!;
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const { y } = await session.run(Object.fromEntries(feeds.map((f, i) => [`x${i}`, new ort.Tensor('float32', Float32Array.from(f), shapes[i]!)])));
  expect(kiln.shape, equation).to.deep.equal([...y!.dims]);
  expectClose(kiln.data, y!.data as Float32Array, 1e-5, 1e-5);
}

describe('ONNX Einsum against ONNX Runtime', () => {
  it('matrix, batched and transposed products', async () => {
    await agreesWithOnnxRuntime('ij,jk->ik', [3, 4], [4, 5]);
    await agreesWithOnnxRuntime('bij,bjk->bik', [2, 3, 4], [2, 4, 5]);
    await agreesWithOnnxRuntime('bhqd,bhkd->bhqk', [2, 3, 4, 5], [2, 3, 6, 5]);
    await agreesWithOnnxRuntime('ij,kj', [3, 4], [5, 4]);
    await agreesWithOnnxRuntime('abc,cd,de->abe', [2, 3, 4], [4, 5], [5, 2]);
  });

  it('one operand: transpose, sums, diagonal and trace', async () => {
    await agreesWithOnnxRuntime('ij->ji', [3, 4]);
    await agreesWithOnnxRuntime('ij->', [3, 4]);
    await agreesWithOnnxRuntime('ijk->ki', [2, 3, 4]);
    await agreesWithOnnxRuntime('ii->i', [4, 4]);
    await agreesWithOnnxRuntime('ii', [4, 4]);
    await agreesWithOnnxRuntime('bii->bi', [3, 4, 4]);
  });

  it('inner, outer and elementwise products, and ellipsis broadcasting', async () => {
    await agreesWithOnnxRuntime('i,i->', [5], [5]);
    await agreesWithOnnxRuntime('i,j->ij', [3], [4]);
    await agreesWithOnnxRuntime('ij,ij->ij', [3, 4], [3, 4]);
    await agreesWithOnnxRuntime('...ij,...jk->...ik', [2, 1, 3, 4], [1, 5, 4, 2]);
    await agreesWithOnnxRuntime('...j,j', [2, 3, 4], [4]);
  });

  it('refuses a malformed equation, naming it', () => {
    expect(() => importOnnx(einsumModel('ij,jk->il', [[2, 3], [3, 4]]))).to.throw(OnnxError, "Einsum node 'einsum' (opset 12): equation 'ij,jk->il': the output label 'l' is in no input.");
    expect(() => importOnnx(einsumModel('ij,jk->ik', [[2, 3], [4, 4]]))).to.throw(OnnxError, "equation 'ij,jk->ik': label 'j' has sizes 3 and 4.");
    expect(() => importOnnx(einsumModel('ij->i', [[2, 3, 4]]))).to.throw(OnnxError, "equation 'ij->i': the term 'ij' names 2 dims of input 0, which has rank 3.");
    expect(() => importOnnx(einsumModel('i1->i', [[2, 3]]))).to.throw(OnnxError, "equation 'i1->i': '1' is not a letter or '...'.");
  });
});
