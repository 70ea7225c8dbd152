import { expect } from 'chai';
import { ArgumentError, OnnxError, OnnxUnsupportedError, ShapeError } from '../../compiler/errors.js';
import { importOnnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose } from '../helpers.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';

/** `count` ConstantOfShape nodes of `dims` each, summed into y (so every one is used). */
function constantsOfShape(count: number, dims: readonly number[]): Uint8Array {
  const names = Array.from({ length: count }, (_, i) => `c${i}`);
  return modelBytes({
    nodes: [
      ...names.map((name) => node('ConstantOfShape', ['shape'], [name], {}, `fill_${name}`)),
      node('Sum', names, ['total'], {}, 'sum'),
      node('Add', ['x', 'total'], ['y'], {}, 'add'),
    ],
    inputs: [value('x', [...dims])],
    outputs: [value('y', [...dims])],
    initializers: [tensor('shape', [dims.length], [...dims], INT64)],
  });
}

describe('importOnnx: what a model may not do', () => {
  it('bounds the elements a model computes at import in all, naming the node that goes over and the budget', () => {
    const bomb = constantsOfShape(20, [2048, 4096]);
    expect(bomb.length).to.be.below(4096);
    expect(() => importOnnx(bomb)).to.throw(
      OnnxError,
      "ConstantOfShape node 'fill_c2' (opset 13): computing its 8388608 elements at import would bring what this model computes at import to 25165824 elements, " +
        'over the budget of 16777232 (2^24 plus 8 per element the model holds in initializers and Constant values). ' +
        'A model this small should not need that much computed on the host; if it does, raise the budget with importOnnx(bytes, {maxFoldedElements: 25165824}).',
    );
  });

  it('lets the caller set the fold budget, and checks it', () => {
    // Three fills of 16 elements, then the folded Sum: its three constants and two adds, 80 more.
    const small = constantsOfShape(3, [4, 4]);
    expect(importOnnx(small, { maxFoldedElements: 128 }).outputs['y']!.shape).to.deep.equal([4, 4]);
    expect(() => importOnnx(small, { maxFoldedElements: 127 })).to.throw(OnnxError, "Sum node 'sum' (opset 13): computing its 80 elements at import would bring what this model computes at import to 128 elements, over the budget of 127 (maxFoldedElements).");
    expect(() => importOnnx(small, { maxFoldedElements: 47 })).to.throw(OnnxError, "ConstantOfShape node 'fill_c2' (opset 13): computing its 16 elements at import would bring what this model computes at import to 48 elements");
    expect(() => importOnnx(small, { maxFoldedElements: -1 })).to.throw(ArgumentError, 'importOnnx: maxFoldedElements must be a non-negative integer, got -1.');
  });

  it('charges folded values (an initializer transposed at import) against the budget too', () => {
    const bytes = modelBytes({
      nodes: [node('Transpose', ['w'], ['wt'], { perm: [1, 0] }, 'flip'), node('MatMul', ['x', 'wt'], ['y'], {}, 'mm')],
      inputs: [value('x', [1, 3])],
      outputs: [value('y', [1, 2])],
      initializers: [tensor('w', [2, 3], [1, 2, 3, 4, 5, 6])],
    });
    expectClose(interpret(importOnnx(bytes).graph, { feeds: { x: [1, 0, 0] } })['y']!.data, [1, 4]);
    // Folding the transpose evaluates the initializer's constant and its transpose: 12 elements.
    expect(() => importOnnx(bytes, { maxFoldedElements: 11 })).to.throw(OnnxError, "Transpose node 'flip' (opset 13): computing its 12 elements at import");
  });

  it('names the ONNX node when a kiln op refuses what the model asks of it', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['x', 'b'], ['y'], {}, 'my_add')],
      inputs: [value('x', [2, 3])],
      outputs: [value('y', [2, 3])],
      initializers: [tensor('b', [4], [1, 2, 3, 4])],
    });
    let caught: unknown;
    try {
      importOnnx(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(OnnxError);
    expect((caught as Error).message).to.match(/^Add node 'my_add' \(opset 13\): add\(/);
    expect((caught as Error).cause).to.be.instanceOf(ShapeError);
    const unnamed = modelBytes({ nodes: [node('MatMul', ['x', 'x'], ['y'])], inputs: [value('x', [2, 3])], outputs: [value('y', [2, 3])] });
    expect(() => importOnnx(unnamed)).to.throw(OnnxError, "MatMul node '#0' (opset 13): matmul(");
  });

  it('refuses a graph with two inputs of one name instead of dropping one', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['x', 'x'], ['y'])],
      inputs: [value('x', [2]), value('x', [3])],
      outputs: [value('y', [2])],
    });
    expect(() => importOnnx(bytes)).to.throw(OnnxError, "importOnnx: the graph declares two inputs named 'x'; ONNX names each value once, so one would be dropped. Rename one of them in the model.");
  });

  it('refuses two initializers of one name, and a node output that redefines a value', () => {
    const initializers = modelBytes({
      nodes: [node('Add', ['x', 'b'], ['y'])],
      inputs: [value('x', [1])],
      outputs: [value('y', [1])],
      initializers: [tensor('b', [1], [1]), tensor('b', [1], [2])],
    });
    expect(() => importOnnx(initializers)).to.throw(OnnxError, "importOnnx: the model has two initializers named 'b'; ONNX names each value once, so one would be lost. Rename or remove one.");
    const redefined = modelBytes({
      nodes: [node('Relu', ['x'], ['h'], {}, 'first'), node('Neg', ['x'], ['h'], {}, 'second'), node('Abs', ['h'], ['y'])],
      inputs: [value('x', [1])],
      outputs: [value('y', [1])],
    });
    expect(() => importOnnx(redefined)).to.throw(OnnxError, "Neg node 'second' (opset 13): output 0 'h' names a value already defined; ONNX defines each value once. Rename the output in the model.");
  });

  it('applies an opset-6 PReLU slope of one value per channel along axis 1', () => {
    const prelu = (opset: number, slopeDims: number[], slope: number[]): Uint8Array =>
      modelBytes({
        nodes: [node('PRelu', ['x', 'slope'], ['y'], {}, 'prelu')],
        inputs: [value('x', [1, 2, 1, 2])],
        outputs: [value('y', [1, 2, 1, 2])],
        initializers: [tensor('slope', slopeDims, slope)],
        opset,
      });
    const feeds = { x: [-1, -1, -1, -1] };
    // Opset 6: channel 0 (the first two elements) by 0.5, channel 1 by 2.
    expectClose(interpret(importOnnx(prelu(6, [2], [0.5, 2])).graph, { feeds })['y']!.data, [-0.5, -0.5, -2, -2]);
    // Opset 7 on: NumPy broadcasting, along the last axis.
    expectClose(interpret(importOnnx(prelu(7, [2], [0.5, 2])).graph, { feeds })['y']!.data, [-0.5, -2, -0.5, -2]);
    expectClose(interpret(importOnnx(prelu(6, [1], [0.25])).graph, { feeds })['y']!.data, [-0.25, -0.25, -0.25, -0.25]);
    expect(() => importOnnx(prelu(6, [2, 1], [0.5, 2]))).to.throw(
      OnnxUnsupportedError,
      "PRelu node 'prelu' (opset 6): a slope of shape [2,1] for an input of shape [1,2,1,2]: before opset 7 the slope is one value, one per channel (axis 1) or one per element; re-export the model with opset 7 or later.",
    );
  });
});
