import { expect } from 'chai';
import { OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { StaticValueError, importOnnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { sessionFor } from '../gpu/harness.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';

/** TopK of x [2, 5] along `axis` with k an initializer (or a model input when `k` is undefined). */
function topK(k: number | undefined, attributes: Record<string, number> = {}): Uint8Array {
  const out = attributes['axis'] === 0 ? [k ?? 1, 5] : [2, k ?? 1];
  return modelBytes({
    nodes: [node('TopK', ['x', 'k'], ['values', 'indices'], attributes, 'top')],
    inputs: [value('x', [2, 5]), ...(k === undefined ? [value('k', [1], INT64)] : [])],
    outputs: [value('values', out), value('indices', out, INT64)],
    initializers: k === undefined ? [] : [tensor('k', [1], [k], INT64)],
  });
}

describe('ONNX TopK', () => {
  const x = [3, -Infinity, 7, 3, Infinity, -Infinity, 0, -Infinity, 2, -Infinity];

  it('selects the k largest in order, ties to the lower index, infinities included', () => {
    const out = interpret(importOnnx(topK(3)).graph, { feeds: { x } });
    expect(Array.from(out['values']!.data)).to.deep.equal([Infinity, 7, 3, 2, 0, -Infinity]);
    expect(Array.from(out['indices']!.data)).to.deep.equal([4, 2, 0, 3, 1, 0]);
  });

  it('selects the k smallest along a given axis', () => {
    const out = interpret(importOnnx(topK(4, { largest: 0, axis: 1 })).graph, { feeds: { x } });
    expect(Array.from(out['values']!.data)).to.deep.equal([-Infinity, 3, 3, 7, -Infinity, -Infinity, -Infinity, 0]);
    expect(Array.from(out['indices']!.data)).to.deep.equal([1, 0, 3, 2, 0, 2, 4, 1]);
  });

  it('gives the reference’s answer on the GPU', async function () {
    this.timeout(60000);
    for (const attributes of [{}, { largest: 0, axis: 0 }] as Record<string, number>[]) {
      const { graph } = importOnnx(topK(attributes['axis'] === 0 ? 2 : 5, attributes));
      const reference = interpret(graph, { feeds: { x } });
      const { session } = await sessionFor(graph);
      const gpu = await session.forward({ x: Float32Array.from(x) });
      for (const name of ['values', 'indices']) expect(Array.from(gpu[name]!.data), name).to.deep.equal(Array.from(reference[name]!.data));
    }
  });

  it('needs k known at import, within the axis, and refuses k = 0', () => {
    expect(() => importOnnx(topK(undefined))).to.throw(StaticValueError, "TopK node 'top' (opset 13): input 1 'k' (k) must be known when the model is imported");
    expect(() => importOnnx(topK(6))).to.throw(OnnxError, "TopK node 'top' (opset 13): k = 6 is outside [0, 5] (the size of axis 1).");
    expect(() => importOnnx(topK(0))).to.throw(OnnxUnsupportedError, "TopK node 'top' (opset 13): k = 0 gives empty outputs, which kiln does not hold.");
  });
});
