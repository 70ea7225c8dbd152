import { expect } from 'chai';
import { ArgumentError, OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { StaticValueError, importOnnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose } from '../helpers.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';

/** y = relu(x + b), with b an initializer. */
const addRelu = (opset = 13): Uint8Array =>
  modelBytes({
    nodes: [node('Add', ['x', 'b'], ['sum'], {}, 'add'), node('Relu', ['sum'], ['y'], {}, 'relu')],
    inputs: [value('x', ['batch', 3])],
    outputs: [value('y', ['batch', 3])],
    initializers: [tensor('b', [3], [1, -2, 0.5])],
    opset,
  });

describe('importOnnx', () => {
  it('imports a model as a graph with named inputs and outputs, initializers as constants', () => {
    const model = importOnnx(addRelu(), { dims: { batch: 2 } });
    expect(Object.keys(model.inputs)).to.deep.equal(['x']);
    expect(model.inputs['x']!.shape).to.deep.equal([2, 3]);
    expect(model.graph.nodesOfRole('param')).to.have.length(0);
    const { y } = interpret(model.graph, { feeds: { x: [1, 1, 1, -1, 5, -1] } });
    expectClose(y!.data, [2, 0, 1.5, 0, 3, 0]);
  });

  it('makes initializers trainable params on request, returning their values for setParams', () => {
    const all = importOnnx(addRelu(), { dims: { batch: 1 }, trainable: true });
    expect(all.graph.nodesOfRole('param').map((n) => n.name)).to.deep.equal(['b']);
    expect(Array.from(all.params['b']!)).to.deep.equal([1, -2, 0.5]);
    const { y } = interpret(all.graph, { feeds: { x: [0, 0, 0] }, params: all.params });
    expectClose(y!.data, [1, 0, 0.5]);
    expect(importOnnx(addRelu(), { dims: { batch: 1 }, trainable: [] }).graph.nodesOfRole('param')).to.have.length(0);
    expect(() => importOnnx(addRelu(), { dims: { batch: 1 }, trainable: ['w'] })).to.throw(ArgumentError, "trainable names 'w' are not initializers of the model. Initializers: b.");
  });

  it('does not treat an initializer listed among the graph inputs (IR < 4) as an input', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['x', 'b'], ['y'])],
      inputs: [value('x', [3]), value('b', [3])],
      outputs: [value('y', [3])],
      initializers: [tensor('b', [3], [1, 2, 3])],
    });
    expect(Object.keys(importOnnx(bytes).inputs)).to.deep.equal(['x']);
  });

  it('imports a dynamic dimension as a symbolic dim unless dims binds it, and rejects dims that name none', () => {
    const model = importOnnx(addRelu());
    expect(String(model.inputs['x']!.shape)).to.equal('batch,3');
    expect(model.symbolicDims).to.deep.equal({ batch: "dim_param 'batch'" });
    expect(importOnnx(addRelu(), { dims: { batch: 2 } }).symbolicDims).to.deep.equal({});
    expect(() => importOnnx(addRelu(), { dims: { batch: 2, batsh: 3 } })).to.throw(ArgumentError, "importOnnx: dims 'batsh' name no dynamic dimension of the model's inputs.");
  });

  it('rejects truncated bytes as an invalid model', () => {
    const bytes = addRelu();
    expect(() => importOnnx(bytes.subarray(0, bytes.length - 7))).to.throw(OnnxError, 'importOnnx: the bytes are not a valid ONNX model');
  });

  it('names the op type, node name and opset of an unsupported op or attribute', () => {
    const op = modelBytes({ nodes: [node('GridSample', ['x', 'x'], ['y'], {}, 'sampler')], inputs: [value('x', [1])], outputs: [value('y', [1])], opset: 16 });
    expect(() => importOnnx(op)).to.throw(OnnxUnsupportedError, "GridSample node 'sampler' (opset 16): the op GridSample is not supported by kiln's ONNX importer.");
    const attribute = modelBytes({ nodes: [node('Relu', ['x'], ['y'], { fancy: 1 }, 'r')], inputs: [value('x', [1])], outputs: [value('y', [1])] });
    expect(() => importOnnx(attribute)).to.throw(OnnxUnsupportedError, "Relu node 'r' (opset 13): attribute 'fancy' is not supported.");
  });

  it('checks raw_data against the dims, and rejects oversized dims before allocating', () => {
    const raw = (dims: number[], bytes: number): Uint8Array =>
      modelBytes({
        nodes: [node('Add', ['x', 'w'], ['y'])],
        inputs: [value('x', [2])],
        outputs: [value('y', [2])],
        initializers: [{ name: 'w', dims, dataType: 1, rawData: new Uint8Array(bytes) }],
      });
    expect(importOnnx(raw([2], 8)).graph.nodes.length).to.be.greaterThan(0);
    expect(() => importOnnx(raw([2], 7))).to.throw(OnnxError, "initializer 'w': raw_data holds 7 bytes but dims [2] of FLOAT need 8.");
    expect(() => importOnnx(raw([1 << 20, 1 << 20], 8))).to.throw(OnnxError, "initializer 'w': dims [1048576,1048576] declare 1099511627776 elements, more than the 67108864 one tensor may hold.");
  });

  it('gives each node its own opset: Softmax before 13 normalizes the input flattened at axis', () => {
    const softmax = (opset: number): Uint8Array =>
      modelBytes({ nodes: [node('Softmax', ['x'], ['y'], { axis: 1 })], inputs: [value('x', [1, 2, 2])], outputs: [value('y', [1, 2, 2])], opset });
    const feeds = { x: [0, 0, 0, 0] };
    expectClose(interpret(importOnnx(softmax(11)).graph, { feeds })['y']!.data, [0.25, 0.25, 0.25, 0.25]);
    expectClose(interpret(importOnnx(softmax(13)).graph, { feeds })['y']!.data, [0.5, 0.5, 0.5, 0.5]);
  });

  it('folds shape computations at import, so a Reshape to a computed shape is static', () => {
    const bytes = modelBytes({
      nodes: [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'first'], ['batch'], { axis: 0 }),
        node('Unsqueeze', ['batch', 'zero'], ['batch1']),
        node('Concat', ['batch1', 'minusOne'], ['target'], { axis: 0 }),
        node('Reshape', ['x', 'target'], ['y']),
      ],
      inputs: [value('x', [2, 3, 4])],
      outputs: [value('y', [2, 12])],
      initializers: [tensor('first', [], [0], INT64), tensor('zero', [1], [0], INT64), tensor('minusOne', [1], [-1], INT64)],
    });
    const { graph, outputs } = importOnnx(bytes);
    expect(outputs['y']!.shape).to.deep.equal([2, 12]);
    expect(graph.nodes.map((n) => n.op)).to.deep.equal(['input', 'reshape']);
  });

  it('needs shape inputs known at import, and lets the caller fix a model input to a constant', () => {
    const bytes = modelBytes({
      nodes: [node('Reshape', ['x', 'shape'], ['y'], {}, 'reshape')],
      inputs: [value('x', [2, 3]), value('shape', [2], INT64)],
      outputs: [value('y', [3, 2])],
    });
    expect(() => importOnnx(bytes)).to.throw(StaticValueError, "Reshape node 'reshape' (opset 13): input 1 'shape' (shape) must be known when the model is imported");
    expect(importOnnx(bytes, { constants: { shape: [3, 2] } }).outputs['y']!.shape).to.deep.equal([3, 2]);
  });

  it('names the model inputs a run-time shape value is computed from, so the caller knows which to fix', () => {
    const bytes = modelBytes({
      nodes: [node('Cast', ['n'], ['limit'], { to: 6 }), node('Range', ['zero', 'limit', 'one'], ['y'], {}, 'range')],
      inputs: [value('n', [], INT64)],
      outputs: [value('y', [3], INT64)],
      initializers: [tensor('zero', [], [0], INT64), tensor('one', [], [1], INT64)],
    });
    let caught: unknown;
    try {
      importOnnx(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(StaticValueError);
    expect((caught as StaticValueError).message).to.contain("input 1 'limit' (limit) must be known when the model is imported").and.to.contain("fix the model inputs it is computed from with importOnnx(bytes, {constants: {'n': values}})");
    expect((caught as StaticValueError).modelInputs).to.deep.equal(['n']);
    expect(Array.from(interpret(importOnnx(bytes, { constants: { n: [3] } }).graph)['y']!.data)).to.deep.equal([0, 1, 2]);
  });

  it('narrows INT64 to i32 only when the values fit', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['x', 'big'], ['y'])],
      inputs: [value('x', [1], INT64)],
      outputs: [value('y', [1], INT64)],
      initializers: [tensor('big', [1], [2 ** 40], INT64)],
    });
    expect(() => importOnnx(bytes)).to.throw(OnnxUnsupportedError, "value 'big': the integer 1099511627776 does not fit kiln's i32");
  });
});
