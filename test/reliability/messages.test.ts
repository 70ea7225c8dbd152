/**
 * Input kiln used to ignore silently, and messages that did not say what the user did or
 * how to fix it (issue 19, classes 5 and 8), on the CPU. Each case asserts the typed error
 * and its message, or the behaviour a user expects. The GPU session's cases are in
 * strict-input-gpu.test.ts.
 */

import { expect } from 'chai';
import { ArgumentError, FeedError, KilnError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { importOnnx } from '../../compiler/onnx/index.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { interpret, runEntry } from '../../compiler/reference.js';
import { trainingProgram } from '../../compiler/train.js';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.js';
import { INT64, modelBytes, node, tensor, value } from '../onnx/model-builder.js';

type ErrorClass = new (message: string) => KilnError;

/** y = 2w + x: one param `w`, one input `x`. */
function doubled(): Graph {
  const g = new Graph('doubled');
  g.output('y', g.param('w', [2], { init: 'ones' }).mul(2).add(g.input('x', [2])));
  return g;
}

/** Safetensors bytes whose header holds a tensor named `__proto__` beside `w`. */
function checkpointWithProtoTensor(): Uint8Array {
  const header = JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ['__proto__']: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } });
  const headerBytes = new TextEncoder().encode(header);
  const file = new Uint8Array(8 + headerBytes.length + 12);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  return file;
}

describe('input kiln refuses instead of ignoring', () => {
  const cases: readonly (readonly [string, () => unknown, ErrorClass, string])[] = [
    [
      'a value for a param under a misspelled name (W for w), which the initializer would have replaced',
      () => interpret(doubled(), { feeds: { x: [0, 0] }, params: { W: [5, 5] } }),
      FeedError,
      "interpret: params names 'W', but graph 'doubled' has no param or state by that name (it would have kept its initial value). Params and state: w.",
    ],
    ['a precision kiln does not compute in', () => interpret(doubled(), { feeds: { x: [0, 0] }, precision: 'f16' as never }), ArgumentError, "interpret: precision must be 'f32' or 'f64', got 'f16'."],
    ['precision given to compile, which has no such option', () => compile(doubled(), { precision: 'f16' } as never), ArgumentError, "compile: unknown option 'precision'. Options: fuse, simplify, memory, limits, tuning, check, dims, maxDims."],
    ['a NaN limit', () => compile(doubled(), { limits: { maxBufferSize: NaN } }), ArgumentError, 'compile: limits.maxBufferSize must be a positive integer, got NaN.'],
    ['a limit given as a string', () => compile(doubled(), { limits: { maxStorageBufferBindingSize: '65536' as never } }), ArgumentError, "compile: limits.maxStorageBufferBindingSize must be a positive integer, got the string '65536'."],
    ['a misspelled limit', () => compile(doubled(), { limits: { maxBuferSize: 1 } as never }), ArgumentError, "compile: limits has an unknown key 'maxBuferSize'. Limits kiln uses:"],
  ];
  for (const [what, call, error, message] of cases) {
    it(`refuses ${what}`, () => expect(call).to.throw(error, message));
  }

  it('keeps a checkpoint tensor named __proto__ as a tensor, so a strict load sees a tensor the plan lacks', () => {
    const { tensors } = decodeSafetensors(checkpointWithProtoTensor());
    expect(Object.keys(tensors)).to.deep.equal(['w', '__proto__']);
    expect(Object.getPrototypeOf(tensors)).to.equal(Object.prototype);
    expect(Object.keys(decodeSafetensors(encodeSafetensors({ w: tensors['w']! })).tensors)).to.deep.equal(['w']);
  });
});

describe('messages say what the user did and how to fix it', () => {
  it("names an unfed input called 'constructor' as unfed, not as a function fed by Object.prototype", () => {
    const g = new Graph('g');
    g.output('y', g.input('constructor', [2]).mul(2));
    expect(() => interpret(g, { feeds: {} })).to.throw(FeedError, "input 'constructor' (f32[2]) was not fed. Pass it in feeds.");
    expect(Array.from(interpret(g, { feeds: { constructor: [1, 2] } })['y']!.data)).to.deep.equal([2, 4]);
  });

  it('names an i32 param a training program cannot differentiate, with the fixes', () => {
    const g = new Graph('g');
    const counts = g.param('counts', [2], { dtype: 'i32' });
    const w = g.param('w', [2]);
    const loss = w.mul(counts.cast('f32')).sum();
    expect(() => trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }) })).to.throw(
      ArgumentError,
      "trainingProgram: param 'counts' is i32, and an i32 param cannot be differentiated, so it cannot be trained. Fix: declare it as an f32 param (graph.param('counts', shape)) and cast where an integer is needed, make it a state if it is not trained, or pass params: [...] listing only the float params.",
    );
    expect(() => trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }), params: [w, counts] })).to.throw(ArgumentError, 'or remove it from params.');
    expect(trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }), params: [w] }).params).to.deep.equal([w]);
  });

  it('includes an output declared after trainingProgram in forward, as a user adding it expects', () => {
    const g = new Graph('g');
    const x = g.input('x', [2]);
    const w = g.param('w', [2], { init: 'ones' });
    g.output('early', x.mul(w));
    const program = trainingProgram(g, { loss: x.mul(w).sum(), optimizer: sgd({ lr: 0.1 }) });
    g.output('late', x.add(w));
    expect(Object.keys(program.forward.outputs)).to.deep.equal(['early', 'late']);
    expect(Object.keys(compile(program).entries['forward']!.outputs)).to.deep.equal(['early', 'late']);
    expect(Array.from(runEntry(g, program.forward, { feeds: { x: [1, 2] } }).outputs['late']!.data)).to.deep.equal([2, 3]);
    expect(Object.keys(program.trainStep.outputs)).to.deep.equal(['loss']);
  });

  it('reports an ONNX Reshape to [-1, -1] with the shape as written, not a computed [-12, -1]', () => {
    const reshapeTo = (shape: number[], out: number[]) =>
      importOnnx(modelBytes({ nodes: [node('Reshape', ['x', 'shape'], ['y'], {}, 'to_matrix')], inputs: [value('x', [3, 4])], outputs: [value('y', out)], initializers: [tensor('shape', [2], shape, INT64)] }));
    expect(() => reshapeTo([-1, -1], [3, 4])).to.throw(KilnError, 'shape [-1,-1] has more than one -1; only one dimension can be inferred.');
    expect(() => reshapeTo([5, -1], [5, 2])).to.throw(KilnError, 'shape [3,4] (12 elements) cannot be reshaped to [5,-1]: 12 is not a multiple of 5');
    expect(reshapeTo([-1, 6], [2, 6]).outputs['y']!.shape).to.deep.equal([2, 6]);
  });

  it('names the field of a malformed graph JSON', () => {
    expect(() => Graph.fromJSON({ name: 'g', seed: 0, nodes: 7, outputs: {} } as never)).to.throw(
      KilnError,
      'Graph.fromJSON: nodes must be an array of nodes, got number 7. Pass what graph.toJSON() returned (JSON.parse of a saved graph).',
    );
    const json = doubled().toJSON();
    const edited = { ...json, nodes: json.nodes.map((n) => (n.op === 'mul' ? { ...n, inputs: 'a' } : n)) };
    expect(() => Graph.fromJSON(edited as never)).to.throw(KilnError, 'Graph.fromJSON: nodes[2].inputs must be an array of node ids');
  });
});
