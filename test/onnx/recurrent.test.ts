/**
 * ONNX LSTM, GRU and RNN imported as unrolled kiln ops, checked against ONNX Runtime (the
 * CPU engine, a second implementation of the spec) on the attributes the backend node
 * tests leave out: both directions, layout 1, initial states, shorter sequence_lens,
 * clip, peepholes, input_forget, linear_before_reset and parameterized activations.
 */

import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import type { onnx as onnxTypes } from 'onnx-proto';
import { OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { importOnnx, onnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose, testData } from '../helpers.js';
import { modelBytes, node, tensor, value } from './model-builder.js';

const INT32 = onnx.TensorProto.DataType.INT32;
const ATTR = onnx.AttributeProto.AttributeType;

type Extra = { floats?: Record<string, number[]>; strings?: Record<string, string[]>; clip?: number };

/** Float-list, string-list and float attributes, which the model builder does not write. */
function withExtras(n: onnxTypes.INodeProto, extra: Extra): onnxTypes.INodeProto {
  const more: onnxTypes.IAttributeProto[] = [
    ...Object.entries(extra.floats ?? {}).map(([name, floats]) => ({ name, type: ATTR.FLOATS, floats })),
    ...Object.entries(extra.strings ?? {}).map(([name, list]) => ({ name, type: ATTR.STRINGS, strings: list.map((s) => new TextEncoder().encode(s)) })),
    ...(extra.clip === undefined ? [] : [{ name: 'clip', type: ATTR.FLOAT, f: extra.clip }]),
  ];
  return { ...n, attribute: [...(n.attribute ?? []), ...more] };
}

interface Case {
  op: 'LSTM' | 'GRU' | 'RNN';
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
  attributes?: Record<string, number | string>;
  extra?: Extra;
  /** Which optional inputs to give: B, sequence_lens (values), initial_h, initial_c, P. */
  bias?: boolean;
  lengths?: number[];
  initial?: boolean;
  peepholes?: boolean;
  outputs?: readonly string[];
}

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;

/** Host values of shape `dims` with their axes permuted (as a Transpose by `perm`). */
function permuted(data: ArrayLike<number>, dims: readonly number[], perm: readonly number[]): number[] {
  const strides = dims.map((_, a) => dims.slice(a + 1).reduce((p, d) => p * d, 1));
  const out = dims.map((_, a) => dims[perm[a]!]!);
  return Array.from({ length: data.length }, (_, i) => {
    let [rest, offset] = [i, 0];
    for (let a = out.length - 1; a >= 0; a--) {
      offset += (rest % out[a]!) * strides[perm[a]!]!;
      rest = Math.floor(rest / out[a]!);
    }
    return data[offset]!;
  });
}

/** The model of one case (X is an input, the rest initializers) and X's values; the values are those of layout 0, transposed for layout 1. */
function caseModel(c: Case): { bytes: Uint8Array; x: number[] } {
  const directions = c.attributes?.['direction'] === 'bidirectional' ? 2 : 1;
  const layout1 = c.attributes?.['layout'] === 1;
  const rows = GATES[c.op] * c.hidden;
  const xShape = layout1 ? [c.batch, c.steps, c.inputSize] : [c.steps, c.batch, c.inputSize];
  const stateShape = layout1 ? [c.batch, directions, c.hidden] : [directions, c.batch, c.hidden];
  const initializers = [tensor('W', [directions, rows, c.inputSize], testData(directions * rows * c.inputSize, 1, -0.7, 0.7)), tensor('R', [directions, rows, c.hidden], testData(directions * rows * c.hidden, 2, -0.7, 0.7))];
  const inputs = ['X', 'W', 'R', '', '', '', '', ''];
  if (c.bias) {
    initializers.push(tensor('B', [directions, 2 * rows], testData(directions * 2 * rows, 3, -0.5, 0.5)));
    inputs[3] = 'B';
  }
  if (c.lengths) {
    initializers.push({ name: 'lens', dims: [c.batch], dataType: INT32, int32Data: c.lengths });
    inputs[4] = 'lens';
  }
  if (c.initial) {
    const state = (seed: number): number[] => {
      const values = testData(directions * c.batch * c.hidden, seed, -1, 1);
      return layout1 ? permuted(values, [directions, c.batch, c.hidden], [1, 0, 2]) : values;
    };
    initializers.push(tensor('h0', stateShape, state(4)));
    inputs[5] = 'h0';
    if (c.op === 'LSTM') {
      initializers.push(tensor('c0', stateShape, state(5)));
      inputs[6] = 'c0';
    }
  }
  if (c.peepholes) {
    initializers.push(tensor('P', [directions, 3 * c.hidden], testData(directions * 3 * c.hidden, 6, -0.5, 0.5)));
    inputs[7] = 'P';
  }
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outputs = c.outputs ?? (c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);
  const recurrent = withExtras(node(c.op, inputs, outputs, { hidden_size: c.hidden, ...c.attributes }, 'cell'), c.extra ?? {});
  const bytes = modelBytes({
    nodes: [recurrent],
    inputs: [value('X', xShape)],
    outputs: outputs.filter((o) => o !== '').map((o) => value(o, [])),
    initializers,
    opset: 14,
  });
  const x = testData(c.steps * c.batch * c.inputSize, 7, -1.5, 1.5);
  return { bytes, x: layout1 ? permuted(x, [c.steps, c.batch, c.inputSize], [1, 0, 2]) : x };
}

/**
 * Runs the case in kiln's reference interpreter and in ONNX Runtime; every output agrees.
 * ONNX Runtime's CPU kernels refuse layout 1: it runs the layout-0 model, and its outputs
 * are transposed to layout 1 ([batch, seq, directions, hidden], [batch, directions, hidden]).
 */
async function agreesWithOnnxRuntime(c: Case): Promise<void> {
  const { bytes, x } = caseModel(c);
  const model = importOnnx(bytes);
  const kiln = interpret(model.graph, { feeds: { X: x } });
  const layout1 = c.attributes?.['layout'] === 1;
  const reference = layout1 ? caseModel({ ...c, attributes: { ...c.attributes, layout: 0 } }) : { bytes, x };
  const session = await ort.InferenceSession.create(reference.bytes, { logSeverityLevel: 3 });
  const expected = await session.run({ X: new ort.Tensor('float32', Float32Array.from(reference.x), [c.steps, c.batch, c.inputSize]) });
  for (const name of Object.keys(model.outputs)) {
    const { dims, data } = expected[name]!;
    const perm = dims.length === 4 ? [2, 0, 1, 3] : [1, 0, 2];
    const [shape, values] = layout1 ? [perm.map((a) => dims[a]!), permuted(data as Float32Array, dims, perm)] : [[...dims], data as Float32Array];
    expect(kiln[name]!.shape, name).to.deep.equal(shape);
    expectClose(kiln[name]!.data, values, 1e-5, 1e-5);
  }
}

describe('ONNX recurrent layers (LSTM, GRU, RNN) against ONNX Runtime', () => {
  const shape = { steps: 5, batch: 3, inputSize: 4, hidden: 3 };

  it('LSTM: bidirectional, layout 1, biases, initial states, peepholes, shorter sequences, every output', async () => {
    await agreesWithOnnxRuntime({ op: 'LSTM', ...shape, attributes: { direction: 'bidirectional', layout: 1 }, bias: true, initial: true, peepholes: true, lengths: [5, 2, 4] });
  });

  it('LSTM: reverse with clip and input_forget; forward with HardSigmoid, LeakyRelu and ScaledTanh taking their alphas and betas in order', async () => {
    await agreesWithOnnxRuntime({ op: 'LSTM', ...shape, attributes: { direction: 'reverse', input_forget: 1 }, extra: { clip: 0.8 }, bias: true, initial: true });
    await agreesWithOnnxRuntime({
      op: 'LSTM',
      ...shape,
      bias: true,
      extra: { strings: { activations: ['HardSigmoid', 'LeakyRelu', 'ScaledTanh'] }, floats: { activation_alpha: [0.3, 0.2, 0.9], activation_beta: [0.4, 1.3] } },
    });
  });

  it('GRU: bidirectional with and without linear_before_reset, shorter sequences, layout 1', async () => {
    for (const linear_before_reset of [0, 1]) {
      await agreesWithOnnxRuntime({ op: 'GRU', ...shape, attributes: { direction: 'bidirectional', linear_before_reset }, bias: true, initial: true, lengths: [3, 5, 1] });
    }
    await agreesWithOnnxRuntime({ op: 'GRU', ...shape, attributes: { layout: 1, direction: 'reverse' }, bias: true, outputs: ['', 'Y_h'] });
  });

  it('RNN: reverse with Relu, bidirectional with one activation per direction, clip', async () => {
    await agreesWithOnnxRuntime({ op: 'RNN', ...shape, attributes: { direction: 'reverse' }, extra: { strings: { activations: ['Relu'] } }, bias: true, initial: true });
    await agreesWithOnnxRuntime({ op: 'RNN', ...shape, attributes: { direction: 'bidirectional' }, extra: { strings: { activations: ['Tanh', 'Sigmoid'] }, clip: 0.5 }, lengths: [1, 5, 3] });
  });

  it('masks sequence_lens given at run time as well', () => {
    const bytes = modelBytes({
      nodes: [node('RNN', ['X', 'W', 'R', '', 'lens'], ['Y', 'Y_h'], { hidden_size: 1 })],
      inputs: [value('X', [3, 2, 1]), value('lens', [2], INT32)],
      outputs: [value('Y', [3, 1, 2, 1]), value('Y_h', [1, 2, 1])],
      initializers: [tensor('W', [1, 1, 1], [1]), tensor('R', [1, 1, 1], [1])],
    });
    const model = importOnnx(bytes);
    // tanh of running sums: entry 0 runs 3 steps, entry 1 runs 1 (then holds its state, and Y is 0).
    const { Y, Y_h } = interpret(model.graph, { feeds: { X: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], lens: [3, 1] } });
    const h1 = Math.tanh(0.1);
    const h2 = Math.tanh(0.3 + h1);
    const h3 = Math.tanh(0.5 + h2);
    expectClose(Y!.data, [h1, Math.tanh(0.2), h2, 0, h3, 0], 1e-6, 1e-6);
    expectClose(Y_h!.data, [h3, Math.tanh(0.2)], 1e-6, 1e-6);
  });

  it('refuses what it cannot express, naming the node and the reason', () => {
    const model = (c: Partial<Case>): Uint8Array => caseModel({ op: 'LSTM', ...shape, ...c }).bytes;
    expect(() => importOnnx(model({ attributes: { direction: 'sideways' } }))).to.throw(OnnxError, "LSTM node 'cell' (opset 14): direction 'sideways'; it is forward, reverse or bidirectional.");
    expect(() => importOnnx(model({ extra: { strings: { activations: ['Sigmoid', 'Gelu', 'Tanh'] } } }))).to.throw(OnnxUnsupportedError, "LSTM node 'cell' (opset 14): activation 'Gelu'; kiln knows relu, tanh, sigmoid");
    expect(() => importOnnx(model({ extra: { strings: { activations: ['Sigmoid', 'Tanh'] } } }))).to.throw(OnnxError, 'activations lists 2 functions; the op takes 3 per direction, 3 in all.');
    expect(() => importOnnx(model({ extra: { strings: { activations: ['Affine', 'Tanh', 'Tanh'] } } }))).to.throw(OnnxError, "activation 'Affine' needs its alpha, and activation_alpha has none left for it.");
    expect(() => importOnnx(model({ lengths: [5, 6, 1] }))).to.throw(OnnxError, 'sequence_lens holds 6, outside [0, 5].');
  });
});
