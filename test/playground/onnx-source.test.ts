/**
 * An .onnx file opened in the playground (playground/worker/onnx-source.ts): its dynamic
 * dims listed before import, bound to the sizes asked for, seeded random feeds valid for
 * each input, a training program when it has a scalar `loss`, and clear errors for a file
 * that is not ONNX or uses an op kiln does not import. Models: one kiln exports itself (a
 * symbolic batch and a loss) and files from ONNX's backend tests (libonnx-testdata).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Graph, OnnxError, OnnxUnsupportedError, compile, trainingProgram, sgd } from '../../index.js';
import type { HostTensor, TrainingProgram } from '../../index.js';
import { exportOnnx } from '../../compiler/onnx/export/index.js';
import { interpret } from '../../compiler/reference.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { NODE_TESTS } from '../../scripts/onnx-backend-test.js';
import { dynamicDims, modelOfOnnx } from '../../playground/worker/onnx-source.js';
import { testData } from '../helpers.js';

const [FEATURES, CLASSES] = [4, 3];

/** A classifier over a symbolic batch, its logits and its mean cross-entropy `loss` (when `withLoss`) as outputs, exported by kiln. */
function exportedClassifier(withLoss: boolean): { bytes: Uint8Array; params: Record<string, Float32Array> } {
  const g = new Graph('classifier', { seed: 1 });
  const x = g.input('x', ['batch', FEATURES]);
  const w = g.param('w', [FEATURES, CLASSES], { init: 'glorotUniform' });
  const b = g.param('b', [CLASSES]);
  const logits = x.matmul(w).add(b);
  g.output('logits', logits);
  const params = { w: Float32Array.from(testData(FEATURES * CLASSES, 5, -1, 1)), b: Float32Array.from(testData(CLASSES, 6, -0.1, 0.1)) };
  if (!withLoss) return { bytes: exportOnnx(g, { params }), params };
  const labels = g.input('labels', ['batch'], 'i32');
  const loss = logits.softmaxCrossEntropy(labels);
  g.output('loss', loss);
  return { bytes: exportOnnx(trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }) }), { params }), params };
}

function backendTest(name: string): Uint8Array {
  return readFileSync(join(NODE_TESTS, `test_${name}`, 'model.onnx'));
}

function tensorOf(feeds: Readonly<Record<string, unknown>>, name: string): HostTensor {
  return feeds[name] as HostTensor;
}

describe('playground: opening an .onnx file', () => {
  describe('a model kiln exported, with a symbolic batch and a loss', () => {
    const { bytes, params } = exportedClassifier(true);

    it('lists its dynamic dims before importing it', () => {
      expect(dynamicDims(bytes)).to.deep.equal([{ name: 'batch', where: "dim_param 'batch'" }]);
    });

    it('imports as a training program with the batch bound, its weights as params, and feeds of that batch', () => {
      const source = modelOfOnnx(bytes, { batch: 8 }, 'classifier.onnx');
      const program = source.model as TrainingProgram;
      expect(program.trainStep, 'a training program').to.not.equal(undefined);
      expect(program.params.map((p) => p.node.name).sort()).to.deep.equal(['b', 'w']);
      expect(source.params['w']).to.deep.equal(params['w']);
      const feeds = source.feeds(0);
      expect(tensorOf(feeds, 'x')).to.deep.include({ dtype: 'f32', shape: [8, FEATURES] });
      const labels = tensorOf(feeds, 'labels');
      expect(labels).to.deep.include({ dtype: 'i32', shape: [8] });
      expect(Math.min(...labels.data)).to.be.at.least(0);
      expect(Math.max(...labels.data)).to.be.below(CLASSES);
      expect(source.inputs).to.deep.equal(['x: f32[8,4], uniform in [-1, 1)', `labels: i32[8], integers in [0, ${CLASSES})`]);
      expect(Object.keys(compile(program).entries)).to.include('trainStep');
    });

    it('trains: SGD on one step’s feeds lowers the loss', () => {
      const source = modelOfOnnx(bytes, { batch: 8 });
      const session = new ReferenceSession(source.model as TrainingProgram);
      session.setParams(source.params);
      const feeds = source.feeds(0);
      const losses = Array.from({ length: 60 }, () => session.trainStep(feeds)['loss']!.data[0]!);
      expect(losses.at(-1)!).to.be.below(losses[0]! * 0.97);
    });

    it('feeds repeat for a step and change from one step to the next', () => {
      const source = modelOfOnnx(bytes, { batch: 2 });
      expect(tensorOf(source.feeds(3), 'x').data).to.deep.equal(tensorOf(modelOfOnnx(bytes, { batch: 2 }).feeds(3), 'x').data);
      expect(tensorOf(source.feeds(3), 'x').data).to.not.deep.equal(tensorOf(source.feeds(4), 'x').data);
    });

    it('refuses a missing or impossible size, naming the dim', () => {
      expect(() => modelOfOnnx(bytes, {}, 'classifier.onnx')).to.throw("classifier.onnx: give a size for each dynamic dim; missing batch (dim_param 'batch').");
      expect(() => modelOfOnnx(bytes, { batch: 0 }, 'classifier.onnx')).to.throw("classifier.onnx: the size of dim 'batch' must be a whole number from 1, got 0.");
    });
  });

  it('imports a model without a loss for inference, computing what kiln computed', () => {
    const { bytes, params } = exportedClassifier(false);
    const source = modelOfOnnx(bytes, { batch: 5 });
    expect(source.model).to.be.instanceOf(Graph);
    expect(source.params).to.deep.equal({});
    const feeds = source.feeds(0);
    const imported = interpret(source.model as Graph, { feeds })['logits'];
    const g = new Graph('again');
    const x = g.input('x', [5, FEATURES]);
    g.output('logits', x.matmul(g.param('w', [FEATURES, CLASSES])).add(g.param('b', [CLASSES])));
    const expected = interpret(g, { feeds, params })['logits'];
    expect(Array.from(imported.data).map((v) => v.toFixed(5))).to.deep.equal(Array.from(expected.data).map((v) => v.toFixed(5)));
  });

  describe("ONNX's backend test files", () => {
    it('a Gather: its indices lie within the gathered axis', () => {
      const source = modelOfOnnx(backendTest('gather_0'), {});
      expect(dynamicDims(backendTest('gather_0'))).to.deep.equal([]);
      const indices = tensorOf(source.feeds(0), 'indices');
      expect(indices.dtype).to.equal('i32');
      expect(Math.max(...indices.data)).to.be.below(5);
      expect(source.inputs).to.deep.equal(['data: f32[5,4,3,2], uniform in [-1, 1)', 'indices: i32[3], integers in [0, 5)']);
      expect(Object.keys(compile(source.model).entries)).to.deep.equal(['init', 'forward']);
    });

    it('a SoftmaxCrossEntropyLoss: its labels are classes of the scores', () => {
      const source = modelOfOnnx(backendTest('sce_mean'), {});
      expect(source.inputs).to.deep.equal(['x: f32[3,5], uniform in [-1, 1)', 'y: i32[3], integers in [0, 5)']);
    });

    it('a convolution compiles to kernels and its feeds fit its input', () => {
      const source = modelOfOnnx(backendTest('conv_with_autopad_same'), {});
      const forward = compile(source.model).entries['forward']!;
      expect(forward.dispatches.length).to.be.above(0);
      expect(tensorOf(source.feeds(0), 'x').shape).to.deep.equal([1, 1, 5, 5]);
    });

    it('an op kiln does not import: the error names it, the file and the fix', () => {
      expect(() => modelOfOnnx(backendTest('nonmaxsuppression_suppress_by_IOU'), {}, 'nms.onnx'))
        .to.throw(OnnxUnsupportedError, "nms.onnx: NonMaxSuppression node '#0' (opset 11): the op NonMaxSuppression is not supported by kiln's ONNX importer. Fix: export the model without it");
    });
  });

  it('a file that is not ONNX: the error says so, and what to open', () => {
    const text = new TextEncoder().encode('name,age\nada,36\n');
    expect(() => dynamicDims(text, 'people.csv')).to.throw(OnnxError, 'people.csv is not an ONNX model');
    expect(() => modelOfOnnx(Uint8Array.of(0xff, 0xff, 0xff), {}, 'noise.bin')).to.throw(OnnxError, 'noise.bin is not an ONNX model: its bytes do not decode as one');
  });
});
