/**
 * GatherND, ScatterND, ScatterElements and the window functions as the importer composes
 * them, checked on the reference interpreter beyond what the ONNX backend tests cover:
 * every reduction, integer data, gradients through a scatter, and the refusals.
 */

import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { importOnnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose, values } from '../helpers.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';

/** One node on inputs data (float [4, 2]), indices (an initializer) and updates, giving y. */
function scatterModel(op: string, indices: { dims: number[]; values: number[] }, updatesDims: number[], attributes: Record<string, number | string>, dataType = 1): Uint8Array {
  return modelBytes({
    nodes: [node(op, ['data', 'indices', 'updates'], ['y'], attributes, 'scatter')],
    inputs: [value('data', [4, 2], dataType), value('updates', updatesDims, dataType)],
    outputs: [value('y', [4, 2], dataType)],
    initializers: [tensor('indices', indices.dims, indices.values, INT64)],
    opset: 18,
  });
}

const DATA = [1, 2, 3, 4, 5, 6, 7, 8];

describe('ONNX GatherND, ScatterND, ScatterElements and windows', () => {
  it('ScatterND combines rows with every reduction, a row targeted twice included', () => {
    const expected: Record<string, number[]> = {
      none: [1, 2, 30, 40, 5, 6, -1, -2],
      add: [1, 2, 33, 44, 5, 6, 7, 7],
      mul: [1, 2, 90, 160, 5, 6, -7, -16],
      max: [1, 2, 30, 40, 5, 6, 7, 8],
      min: [1, 2, 3, 4, 5, 6, -1, -2],
    };
    for (const [reduction, want] of Object.entries(expected)) {
      // Rows 3 and -3 (row 1) and, for every reduction but none, row 3 twice.
      const rows = reduction === 'none' ? [1, 3] : [1, 3, -1];
      const updates = reduction === 'none' ? [30, 40, -1, -2] : [30, 40, -1, -2, 1, 1];
      const model = importOnnx(scatterModel('ScatterND', { dims: [rows.length, 1], values: rows }, [rows.length, 2], { reduction }));
      const { y } = interpret(model.graph, { feeds: { data: DATA, updates } });
      expect(Array.from(y!.data), reduction).to.deep.equal(want);
    }
  });

  it('ScatterElements scatters integers along an axis, negative indices counted from its end', () => {
    const model = importOnnx(scatterModel('ScatterElements', { dims: [2, 1], values: [1, -2] }, [2, 1], { axis: 1, reduction: 'add' }, 6));
    const { y } = interpret(model.graph, { feeds: { data: DATA, updates: [10, 20] } });
    expect(Array.from(y!.data)).to.deep.equal([1, 12, 23, 4, 5, 6, 7, 8]);
  });

  it('passes gradients to the data the scatter keeps and to the updates it writes', () => {
    const model = importOnnx(scatterModel('ScatterElements', { dims: [1, 2], values: [2, 0] }, [1, 2], { axis: 0 }));
    const y = model.outputs['y']!;
    const weights = y.graph.constant([1, 2, 3, 4, 5, 6, 7, 8], { shape: [4, 2] });
    const [dData, dUpdates] = grad(y.mul(weights).sum(), [model.inputs['data']!, model.inputs['updates']!]);
    const feeds = { data: DATA, updates: [-1, -2] };
    expectClose(values(dData!, { feeds }), [1, 0, 3, 4, 0, 6, 7, 8]);
    expectClose(values(dUpdates!, { feeds }), [5, 2]);
  });

  it('refuses a scatter whose one-hot composition would be too large, and an unknown reduction', () => {
    const big = modelBytes({
      nodes: [node('ScatterElements', ['data', 'indices', 'updates'], ['y'], {}, 'big')],
      inputs: [value('data', [5000]), value('indices', [4000], INT64), value('updates', [4000])],
      outputs: [value('y', [5000])],
    });
    expect(() => importOnnx(big)).to.throw(
      OnnxUnsupportedError,
      "ScatterElements node 'big' (opset 13): kiln composes a scatter from the one-hot matrix of its targets: 4000 updates into 5000 rows of 1 would build 20000000 elements, over the limit of 16777216.",
    );
    const odd = scatterModel('ScatterND', { dims: [1, 1], values: [0] }, [1, 2], { reduction: 'sub' });
    expect(() => importOnnx(odd)).to.throw(OnnxError, "ScatterND node 'scatter' (opset 18): reduction 'sub' is not one of none, add, mul, max, min.");
  });

  it('GatherND reads index tuples within each batch, negative indices counted from the end', () => {
    const model = importOnnx(
      modelBytes({
        nodes: [node('GatherND', ['data', 'indices'], ['y'], { batch_dims: 1 })],
        inputs: [value('data', [2, 3, 2])],
        outputs: [value('y', [2, 2])],
        initializers: [tensor('indices', [2, 2, 2], [0, 1, -1, 0, 1, 1, 2, -1], INT64)],
      }),
    );
    const { y } = interpret(model.graph, { feeds: { data: [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15] } });
    expect(Array.from(y!.data)).to.deep.equal([1, 4, 13, 15]);
  });

  it('computes a window at import from its size, and refuses an integer window', () => {
    const window = (attributes: Record<string, number>): Uint8Array =>
      modelBytes({
        nodes: [node('HannWindow', ['size'], ['y'], attributes, 'hann')],
        inputs: [],
        outputs: [value('y', [4])],
        initializers: [tensor('size', [], [4], INT64)],
        opset: 17,
      });
    expectClose(interpret(importOnnx(window({})).graph)['y']!.data, [0, 0.5, 1, 0.5]);
    expectClose(interpret(importOnnx(window({ periodic: 0 })).graph)['y']!.data, [0, 0.75, 0.75, 0]);
    expect(() => importOnnx(window({ output_datatype: 6 }))).to.throw(OnnxUnsupportedError, "HannWindow node 'hann' (opset 17): output_datatype i32: kiln computes windows as floats.");
  });
});
