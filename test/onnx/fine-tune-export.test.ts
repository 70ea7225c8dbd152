/**
 * Import, fine-tune, export back: an MLP as PyTorch exports it (Gemm with transB = 1), imported
 * with trainable weights, fine-tuned a few steps on the reference interpreter, exported with
 * the tuned weights, and run in ONNX Runtime, which computes what kiln does with them.
 */

import { expect } from 'chai';
import { exportOnnx } from '../../compiler/onnx/export/index.js';
import { importOnnx, onnx } from '../../compiler/onnx/index.js';
import { sgd } from '../../compiler/optim.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';
import { testData } from '../helpers.js';
import { mlpBytes } from './model-builder.js';
import { maxAbsDifference, runInOrt } from './ort-helpers.js';

const [features, hidden, classes, batch] = [5, 7, 3, 6];

const mlp = (): Uint8Array => mlpBytes(features, hidden, classes);

describe('import an ONNX model, fine-tune it, export it back', () => {
  it('ONNX Runtime runs the fine-tuned export as kiln does, with the tuned weights', async function () {
    this.timeout(30000);
    const model = importOnnx(mlp(), { dims: { batch }, trainable: true });
    const labels = model.graph.input('labels', [batch], 'i32');
    const program = trainingProgram(model.graph, { loss: model.outputs['logits']!.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.5 }) });
    const reference = new ReferenceSession(program);
    reference.setParams(model.params);
    const input = Float32Array.from(testData(batch * features, 5, -1, 1));
    const feeds = { input, labels: [0, 1, 2, 2, 1, 0] };
    const losses = Array.from({ length: 5 }, () => reference.trainStep(feeds)['loss']!.data[0]!);
    expect(losses[4]!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]! * 0.8);

    const bytes = exportOnnx(program, { params: reference.params });
    const exported = onnx.ModelProto.decode(bytes).graph!;
    // The forward entry needs only the model's input: the labels belong to the training step.
    expect(exported.input!.map((i) => i.name)).to.deep.equal(['input']);
    expect(exported.initializer!.map((t) => t.name)).to.include.members(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    const actual = (await runInOrt(bytes, { input: { shape: [batch, features], dtype: 'f32', data: input } }))['logits']!;
    const tuned = reference.forward({ input })['logits']!;
    expect(maxAbsDifference(actual.data, tuned.data)).to.be.at.most(1e-5);
    const original = (await runInOrt(mlp(), { input: { shape: [batch, features], dtype: 'f32', data: input } }))['logits']!;
    expect(maxAbsDifference(actual.data, original.data), 'the export holds the tuned weights, not the imported ones').to.be.greaterThan(1e-2);
  });
});
