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
import type { TrainingProgram } from '../../compiler/train.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from '../gpu/harness.js';
import { mlpBytes, modelBytes, node, tensor, value } from './model-builder.js';

const [features, hidden, classes, batch] = [5, 7, 3, 6];

/**
 * Trains `program` for `steps` steps on the GPU and on the reference interpreter from the same
 * params: each step's loss must agree within `lossRtol`, and the final weights within 1e-4 and
 * `weightAtol`. Returns the GPU's losses.
 */
async function trainMatchingReference(
  program: TrainingProgram<string, string>,
  params: Readonly<Record<string, Float32Array>>,
  feeds: Readonly<Record<string, ArrayLike<number>>>,
  steps: number,
  lossRtol: number,
  weightAtol: number,
): Promise<number[]> {
  const reference = new ReferenceSession(program);
  reference.setParams(params);
  const { device, limits } = await gpu();
  const session = await Session.create(device, compile(program, { limits }));
  try {
    await session.setParams(params);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const expected = reference.trainStep(feeds)['loss']!.data[0]!;
      const actual = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
      expect(Math.abs(actual - expected), `loss at step ${step}: GPU ${actual}, reference ${expected}`).to.be.at.most(lossRtol * Math.abs(expected));
      losses.push(actual);
    }
    const trained = await session.getParams();
    for (const [name, weights] of Object.entries(reference.params)) expectClose(trained[name]!.data, weights.data, 1e-4, weightAtol);
    return losses;
  } finally {
    session.destroy();
  }
}

describe('fine-tuning an imported ONNX MLP', () => {
  it('trains on the GPU: the loss falls, and every step and weight matches the reference interpreter', async function () {
    this.timeout(60000);
    const model = importOnnx(mlpBytes(features, hidden, classes), { dims: { batch }, trainable: true });
    expect(Object.keys(model.params).sort()).to.deep.equal(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    const labels = model.graph.input('labels', [batch], 'i32');
    const program = trainingProgram(model.graph, {
      loss: model.outputs['logits']!.softmaxCrossEntropy(labels),
      optimizer: sgd({ lr: 0.5 }),
    });
    const feeds = { input: testData(batch * features, 5, -1, 1), labels: [0, 1, 2, 2, 1, 0] };
    const losses = await trainMatchingReference(program, model.params, feeds, 5, 1e-5, 1e-6);
    expect(losses[4]!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]! * 0.8);
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
    const feeds = { X: testData(steps * lstmBatch * inputs, 5, -1, 1), target: testData(lstmBatch * units, 6, -0.5, 0.5) };
    const losses = await trainMatchingReference(program, model.params, feeds, 6, 1e-4, 1e-5);
    expect(losses[5]!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]! * 0.8);
  });
});
