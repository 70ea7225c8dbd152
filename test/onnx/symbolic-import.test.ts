/**
 * ONNX models with a dynamic batch import with a symbolic batch: one graph for every batch
 * size, whose shape computations (Shape → Gather → Unsqueeze → Concat → Reshape) are carried
 * at import as sizes. Checked against ONNX Runtime at batch 1 and 5, against the import with
 * the batch bound, and through an export back to ONNX.
 */

import { expect } from 'chai';
import { exportOnnx } from '../../compiler/onnx/export/index.js';
import { SymbolicValueError, importOnnx, onnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { formatType } from '../../compiler/shape.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';
import { maxAbsDifference, runInOrt } from './ort-helpers.js';

const FEATURES = 4;

/**
 * h = relu(x·W + b) [batch, 3]; y = h reshaped to [batch, 3, 1] by a shape computed from
 * Shape(x); z = x reshaped to [2·batch, 2] (Shape(x)[0] · 2); s = Size(x) as a float, added to h.
 */
function dynamicBatchModel(): Uint8Array {
  const w = Array.from({ length: FEATURES * 3 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
  return modelBytes({
    nodes: [
      node('MatMul', ['x', 'W'], ['xw']),
      node('Add', ['xw', 'b'], ['pre']),
      node('Relu', ['pre'], ['h']),
      node('Shape', ['x'], ['shape']),
      node('Gather', ['shape', 'zero'], ['n'], { axis: 0 }),
      node('Unsqueeze', ['n', 'axes0'], ['n1']),
      node('Concat', ['n1', 'tail'], ['target'], { axis: 0 }),
      node('Reshape', ['h', 'target'], ['y']),
      node('Mul', ['n1', 'two'], ['n2']),
      node('Concat', ['n2', 'two'], ['halves'], { axis: 0 }),
      node('Reshape', ['x', 'halves'], ['z']),
      node('Size', ['x'], ['size']),
      node('Cast', ['size'], ['sizeF'], { to: onnx.TensorProto.DataType.FLOAT }),
      node('Add', ['h', 'sizeF'], ['s']),
    ],
    inputs: [value('x', ['batch', FEATURES])],
    outputs: [value('y', ['batch', 3, 1]), value('z', ['2batch', 2]), value('s', ['batch', 3])],
    initializers: [
      tensor('W', [FEATURES, 3], w),
      tensor('b', [3], [0.1, -0.2, 0.3]),
      tensor('zero', [], [0], INT64),
      tensor('axes0', [1], [0], INT64),
      tensor('tail', [2], [3, 1], INT64),
      tensor('two', [1], [2], INT64),
    ],
  });
}

const inputFor = (batch: number): Float32Array => Float32Array.from({ length: batch * FEATURES }, (_, i) => Math.sin(i * 1.3) * 2);

describe('importOnnx: dynamic dims as symbolic dims', () => {
  it('imports a dim_param batch as a symbolic dim and carries Shape/Gather/Concat/Mul/Size through to Reshape', () => {
    const model = importOnnx(dynamicBatchModel());
    expect(formatType(model.inputs['x']!.node)).to.equal('f32[batch,4]');
    expect(formatType(model.outputs['y']!.node)).to.equal('f32[batch,3,1]');
    expect(formatType(model.outputs['z']!.node)).to.equal('f32[2*batch,2]');
    expect(formatType(model.outputs['s']!.node)).to.equal('f32[batch,3]');
    expect(model.symbolicDims).to.deep.equal({ batch: "dim_param 'batch'" });
  });

  it('binds the batch with dims, then the graph is static', () => {
    const model = importOnnx(dynamicBatchModel(), { dims: { batch: 5 } });
    expect(formatType(model.outputs['z']!.node)).to.equal('f32[10,2]');
    expect(model.symbolicDims).to.deep.equal({});
  });

  for (const batch of [1, 5]) {
    it(`gives ONNX Runtime's results at batch ${batch}, as the import with the batch bound does`, async () => {
      const x = inputFor(batch);
      const symbolic = interpret(importOnnx(dynamicBatchModel()).graph, { feeds: { x } });
      const bound = interpret(importOnnx(dynamicBatchModel(), { dims: { batch } }).graph, { feeds: { x } });
      const ort = await runInOrt(dynamicBatchModel(), { x: { shape: [batch, FEATURES], dtype: 'f32', data: x } });
      for (const name of ['y', 'z', 's']) {
        expect([...symbolic[name]!.shape], name).to.deep.equal(ort[name]!.shape);
        expect(maxAbsDifference(symbolic[name]!.data, ort[name]!.data), name).to.be.below(1e-5);
        expect(Array.from(symbolic[name]!.data), name).to.deep.equal(Array.from(bound[name]!.data));
      }
    });
  }

  it('exports the symbolic graph with the batch as a dim_param, and ONNX Runtime runs it at two batch sizes', async () => {
    const model = importOnnx(dynamicBatchModel());
    const bytes = exportOnnx(model.graph);
    const input = onnx.ModelProto.decode(bytes).graph!.input!.find((i) => i.name === 'x')!;
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).to.deep.equal(['batch', 4]);
    for (const batch of [2, 7]) {
      const x = inputFor(batch);
      const expected = interpret(model.graph, { feeds: { x } });
      const actual = await runInOrt(bytes, { x: { shape: [batch, FEATURES], dtype: 'f32', data: x } });
      for (const name of ['y', 'z', 's']) {
        expect(actual[name]!.shape, name).to.deep.equal([...expected[name]!.shape]);
        expect(maxAbsDifference(actual[name]!.data, expected[name]!.data), name).to.be.below(1e-5);
      }
    }
  });

  it("folds PyTorch's expand pattern (Where(Equal(shape, -1), 1, shape)) on symbolic sizes", async () => {
    const bytes = modelBytes({
      nodes: [
        node('Shape', ['y'], ['shape']),
        node('Equal', ['shape', 'minusOne'], ['unknown']),
        node('Where', ['unknown', 'ones', 'shape'], ['target']),
        node('Expand', ['x', 'target'], ['big']),
        node('Add', ['big', 'y'], ['out']),
      ],
      inputs: [value('x', ['batch', 1]), value('y', ['batch', 3])],
      outputs: [value('out', ['batch', 3])],
      initializers: [tensor('minusOne', [2], [-1, -1], INT64), tensor('ones', [2], [1, 1], INT64)],
    });
    const model = importOnnx(bytes);
    expect(formatType(model.outputs['out']!.node)).to.equal('f32[batch,3]');
    const [x, y] = [Float32Array.from([1, 2, 3]), Float32Array.from({ length: 9 }, (_, i) => i)];
    const ort = await runInOrt(bytes, { x: { shape: [3, 1], dtype: 'f32', data: x }, y: { shape: [3, 3], dtype: 'f32', data: y } });
    expect(Array.from(interpret(model.graph, { feeds: { x, y } })['out']!.data)).to.deep.equal(ort['out']!.data);
  });

  it('names dims: a dim_param made an identifier, one with no name unk_N; the ONNX name or the kiln name binds it', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['x', 'x'], ['y'])],
      inputs: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch size' }, {}, { dimValue: 2 }] } } } }],
      outputs: [value('y', ['batch size', 'n', 2])],
    });
    const model = importOnnx(bytes);
    expect(formatType(model.inputs['x']!.node)).to.equal('f32[batch_size,unk_0,2]');
    expect(model.symbolicDims).to.deep.equal({ batch_size: "dim_param 'batch size'", unk_0: "input 'x' axis 1 (no dim_param)" });
    expect(formatType(importOnnx(bytes, { dims: { 'batch size': 3, 'x:1': 4 } }).inputs['x']!.node)).to.equal('f32[3,4,2]');
    expect(formatType(importOnnx(bytes, { dims: { batch_size: 3 } }).inputs['x']!.node)).to.equal('f32[3,unk_0,2]');
  });

  it('refuses a value it needs as numbers that holds or is computed from a symbolic size, naming the node and the dims to bind', () => {
    const range = modelBytes({
      nodes: [node('Shape', ['x'], ['shape']), node('Gather', ['shape', 'zero'], ['n'], { axis: 0 }), node('Range', ['zero', 'n', 'one'], ['r'], {}, 'positions')],
      inputs: [value('x', ['batch', 2])],
      outputs: [value('r', ['batch'], INT64)],
      initializers: [tensor('zero', [], [0], INT64), tensor('one', [], [1], INT64)],
    });
    expect(() => importOnnx(range)).to.throw(
      SymbolicValueError,
      "Range node 'positions' (opset 13): input 1 'n' (limit) holds the symbolic size [batch], but kiln needs its values when the model is imported; bind the dims to sizes with importOnnx(bytes, {dims: {batch: size}}).",
    );
    expect(importOnnx(range, { dims: { batch: 3 } }).outputs['r']!.shape).to.deep.equal([3]);
    // batch / 3 is no size: it is computed at run time, and a Reshape to it names the dim.
    const third = modelBytes({
      nodes: [
        node('Shape', ['x'], ['shape']),
        node('Div', ['shape', 'three'], ['parts']),
        node('Reshape', ['x', 'parts'], ['y'], {}, 'split'),
      ],
      inputs: [value('x', ['batch'])],
      outputs: [value('y', ['n'])],
      initializers: [tensor('three', [1], [3], INT64)],
    });
    expect(() => importOnnx(third)).to.throw(SymbolicValueError, "Reshape node 'split' (opset 13): input 1 'parts' (shape) is computed at run time from the symbolic dim 'batch'");
  });
});
