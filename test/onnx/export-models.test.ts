/**
 * The example models, trained a few steps on the reference interpreter, exported and run
 * in ONNX Runtime on the same inputs: their outputs match kiln's to 1e-4.
 */

import { expect } from 'chai';
import { exportOnnx } from '../../compiler/onnx/export/index.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { charTransformer } from '../../examples/models/char-transformer.js';
import { leNet } from '../../examples/models/lenet.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { testData } from '../helpers.js';
import { maxAbsDifference, runInOrt } from './ort-helpers.js';
import type { OrtValue } from './ort-helpers.js';

/** Trains `steps` steps on the reference, exports with the trained params, and returns ORT's difference from the reference's forward pass. */
async function exportedDifference(program: TrainingProgram, input: OrtValue, labels: OrtValue, steps: number): Promise<number> {
  const reference = new ReferenceSession(program);
  const [inputName, labelName] = program.graph.nodesOfRole('input').map((n) => n.name!);
  const feeds = { [inputName!]: input, [labelName!]: labels };
  for (let step = 0; step < steps; step++) reference.trainStep(feeds);
  const expected = reference.forward({ [inputName!]: input })['logits']!;
  const bytes = exportOnnx(program, { params: reference.params });
  const actual = (await runInOrt(bytes, { [inputName!]: input }))['logits']!;
  expect(actual.shape).to.deep.equal([...expected.shape]);
  return maxAbsDifference(actual.data, expected.data);
}

describe('exportOnnx: the example models run in ONNX Runtime as in kiln', () => {
  it('the seed MLP, trained 3 steps, matches to 1e-4', async function () {
    this.timeout(60000);
    const batch = 4;
    const images = { shape: [batch, 784], dtype: 'f32' as const, data: Float32Array.from(testData(batch * 784, 1, 0, 1)) };
    const difference = await exportedDifference(seedMlp({ batch, lr: 0.05 }), images, { shape: [batch], dtype: 'i32', data: Int32Array.of(1, 7, 3, 0) }, 3);
    console.log(`      seed MLP: max |ORT − kiln| = ${difference.toExponential(2)}`);
    expect(difference).to.be.at.most(1e-4);
  });

  it('LeNet, trained 2 steps, matches to 1e-4', async function () {
    this.timeout(120000);
    const batch = 2;
    const images = { shape: [batch, 1, 28, 28], dtype: 'f32' as const, data: Float32Array.from(testData(batch * 784, 2, 0, 1)) };
    const difference = await exportedDifference(leNet({ batch }), images, { shape: [batch], dtype: 'i32', data: Int32Array.of(4, 9) }, 2);
    console.log(`      LeNet: max |ORT − kiln| = ${difference.toExponential(2)}`);
    expect(difference).to.be.at.most(1e-4);
  });

  it('the char transformer, trained 2 steps, matches to 1e-4', async function () {
    this.timeout(120000);
    const [vocab, batch, context] = [11, 2, 8];
    const tokens = { shape: [batch, context], dtype: 'i32' as const, data: Int32Array.from(testData(batch * context, 3, 0, vocab), Math.floor) };
    const targets = { shape: [batch, context], dtype: 'i32' as const, data: Int32Array.from(testData(batch * context, 4, 0, vocab), Math.floor) };
    const program = charTransformer({ vocab, batch, context, width: 16, heads: 2, layers: 2 });
    const difference = await exportedDifference(program, tokens, targets, 2);
    console.log(`      char transformer: max |ORT − kiln| = ${difference.toExponential(2)}`);
    expect(difference).to.be.at.most(1e-4);
  });
});
