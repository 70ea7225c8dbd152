/**
 * Fine-tuning imported ONNX models: an MLP as PyTorch exports it (Gemm with transB = 1,
 * Relu, Gemm) and an LSTM (unrolled at import), imported with trainable weights, given a
 * loss and SGD, trained on the GPU and checked against the reference interpreter step by step.
 */

import { expect } from 'chai';
import { importOnnx } from '../../compiler/onnx/index.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from '../gpu/harness.js';
import { modelBytes, node, tensor, value } from './model-builder.js';

const [features, hidden, classes, batch] = [5, 7, 3, 6];

/** fc1 [hidden, features] and fc2 [classes, hidden] in PyTorch's [out, in] layout, applied with transB = 1. */
function mlpBytes(): Uint8Array {
  return modelBytes({
    nodes: [
      node('Gemm', ['input', 'fc1.weight', 'fc1.bias'], ['h'], { transB: 1 }, '/fc1/Gemm'),
      node('Relu', ['h'], ['a'], {}, '/relu/Relu'),
      node('Gemm', ['a', 'fc2.weight', 'fc2.bias'], ['logits'], { transB: 1 }, '/fc2/Gemm'),
    ],
    inputs: [value('input', ['batch', features])],
    outputs: [value('logits', ['batch', classes])],
    initializers: [
      tensor('fc1.weight', [hidden, features], testData(hidden * features, 1, -0.6, 0.6)),
      tensor('fc1.bias', [hidden], testData(hidden, 2, -0.1, 0.1)),
      tensor('fc2.weight', [classes, hidden], testData(classes * hidden, 3, -0.6, 0.6)),
      tensor('fc2.bias', [classes], testData(classes, 4, -0.1, 0.1)),
    ],
  });
}

describe('fine-tuning an imported ONNX MLP', () => {
  it('trains on the GPU: the loss falls, and every step and weight matches the reference interpreter', async function () {
    this.timeout(60000);
    const model = importOnnx(mlpBytes(), { dims: { batch }, trainable: true });
    expect(Object.keys(model.params).sort()).to.deep.equal(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    const labels = model.graph.input('labels', [batch], 'i32');
    const program = trainingProgram(model.graph, {
      loss: model.outputs['logits']!.softmaxCrossEntropy(labels),
      optimizer: sgd({ lr: 0.5 }),
    });
    const reference = new ReferenceSession(program);
    reference.setParams(model.params);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      await session.setParams(model.params);
      const feeds = { input: testData(batch * features, 5, -1, 1), labels: [0, 1, 2, 2, 1, 0] };
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) {
        const expected = reference.trainStep(feeds)['loss']!.data[0]!;
        const actual = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-5 * Math.abs(expected));
        losses.push(actual);
      }
      expect(losses[4]!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]! * 0.8);
      const params = await session.getParams();
      for (const [name, weights] of Object.entries(reference.params)) expectClose(params[name]!.data, weights.data, 1e-4, 1e-6);
    } finally {
      session.destroy();
    }
  });
});

const [steps, lstmBatch, inputs, units] = [4, 3, 2, 5];

/** One LSTM layer with biases, its last hidden state Y_h [1, batch, units] the output. */
function lstmBytes(): Uint8Array {
  return modelBytes({
    nodes: [node('LSTM', ['X', 'W', 'R', 'B'], ['', 'Y_h'], { hidden_size: units }, '/lstm/LSTM')],
    inputs: [value('X', [steps, lstmBatch, inputs])],
    outputs: [value('Y_h', [1, lstmBatch, units])],
    initializers: [
      tensor('W', [1, 4 * units, inputs], testData(4 * units * inputs, 1, -0.5, 0.5)),
      tensor('R', [1, 4 * units, units], testData(4 * units * units, 2, -0.5, 0.5)),
      tensor('B', [1, 8 * units], testData(8 * units, 3, -0.1, 0.1)),
    ],
  });
}

describe('fine-tuning an imported ONNX LSTM', () => {
  it('trains W, R and B on the GPU through the unrolled steps: the loss falls, matching the reference interpreter', async function () {
    this.timeout(60000);
    const model = importOnnx(lstmBytes(), { trainable: true });
    expect(Object.keys(model.params).sort()).to.deep.equal(['B', 'R', 'W']);
    const target = model.graph.input('target', [1, lstmBatch, units]);
    const program = trainingProgram(model.graph, { loss: model.outputs['Y_h']!.mse(target), optimizer: sgd({ lr: 2 }) });
    const reference = new ReferenceSession(program);
    reference.setParams(model.params);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      await session.setParams(model.params);
      const feeds = { X: testData(steps * lstmBatch * inputs, 5, -1, 1), target: testData(lstmBatch * units, 6, -0.5, 0.5) };
      const losses: number[] = [];
      for (let step = 0; step < 6; step++) {
        const expected = reference.trainStep(feeds)['loss']!.data[0]!;
        const actual = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
        expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(1e-4 * Math.abs(expected));
        losses.push(actual);
      }
      expect(losses[5]!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]! * 0.8);
      const params = await session.getParams();
      for (const [name, weights] of Object.entries(reference.params)) expectClose(params[name]!.data, weights.data, 1e-4, 1e-5);
    } finally {
      session.destroy();
    }
  });
});
