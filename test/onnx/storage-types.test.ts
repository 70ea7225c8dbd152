import { expect } from 'chai';
import type { onnx as onnxTypes } from 'onnx-proto';
import { OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { importOnnx, knownFromTensor, onnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { expectClose } from '../helpers.js';
import { FLOAT, modelBytes, node, value } from './model-builder.js';

const TYPE = onnx.TensorProto.DataType;

/** A tensor whose values are given as raw little-endian bytes. */
function raw(name: string, dims: number[], dataType: number, bytes: number[]): onnxTypes.ITensorProto {
  return { name, dims, dataType, rawData: new Uint8Array(bytes) };
}

/** y = x + w, with x and y of `type` and the initializer w as given. */
function addModel(type: number, w: onnxTypes.ITensorProto, dims: number[]): Uint8Array {
  return modelBytes({ nodes: [node('Add', ['x', 'w'], ['y'])], inputs: [value('x', dims, type)], outputs: [value('y', dims, type)], initializers: [w] });
}

function quantizeModel(opType: string, inputs: onnxTypes.IValueInfoProto[], initializers: onnxTypes.ITensorProto[], attributes: Record<string, number> = {}): Uint8Array {
  const names = [inputs[0]!.name!, ...initializers.map((t) => t.name!)];
  return modelBytes({ nodes: [node(opType, names, ['y'], attributes, 'q')], inputs, outputs: [value('y', inputs[0]!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)))], initializers });
}

describe('ONNX storage types held as f32 and i32', () => {
  it('reads 8/16-bit and unsigned integers from raw_data and typed fields as i32', () => {
    const int8 = addModel(TYPE.INT8, raw('w', [3], TYPE.INT8, [0x80, 5, 0x7f]), [3]);
    const model = importOnnx(int8);
    expect(model.inputs['x']!.dtype).to.equal('i32');
    expect(Array.from(interpret(model.graph, { feeds: { x: [1, 2, 3] } })['y']!.data)).to.deep.equal([-127, 7, 130]);
    const read = (tensor: onnxTypes.ITensorProto): number[] => Array.from(knownFromTensor(tensor, 'w').data);
    expect(read(raw('w', [2], TYPE.UINT16, [0xff, 0xff, 1, 0]))).to.deep.equal([65535, 1]);
    expect(read(raw('w', [1], TYPE.UINT32, [0, 0, 0, 0x80]))).to.deep.equal([2 ** 31]);
    expect(read({ dims: [2], dataType: TYPE.UINT8, int32Data: [200, 7] })).to.deep.equal([200, 7]);
    expect(read({ dims: [2], dataType: TYPE.UINT64, uint64Data: [3, 2 ** 40] })).to.deep.equal([3, 2 ** 40]);
  });

  it('widens FLOAT16 to f32 exactly, from raw_data or from its bits in int32_data', () => {
    const half = raw('w', [4], TYPE.FLOAT16, [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00]);
    expect(Array.from(knownFromTensor(half, 'w').data)).to.deep.equal([1, -2, 65504, 2 ** -24]);
    expect(Array.from(knownFromTensor({ dims: [2], dataType: TYPE.FLOAT16, int32Data: [0x3555, 0x7c00] }, 'w').data)).to.deep.equal([0.333251953125, Infinity]);
    const model = importOnnx(addModel(TYPE.FLOAT16, half, [4]));
    expect(model.inputs['x']!.dtype).to.equal('f32');
    expectClose(interpret(model.graph, { feeds: { x: [0, 0, 0, 0] } })['y']!.data, [1, -2, 65504, 2 ** -24]);
  });

  it('refuses a value that does not fit i32, and types kiln cannot hold, naming the tensor', () => {
    const big = addModel(TYPE.UINT32, raw('w', [1], TYPE.UINT32, [0, 0, 0, 0x80]), [1]);
    expect(() => importOnnx(big)).to.throw(OnnxUnsupportedError, "value 'w': the integer 2147483648 does not fit kiln's i32; kiln narrows INT64, UINT32 and UINT64 to i32 only when every value fits.");
    const bfloat = modelBytes({ nodes: [node('Relu', ['x'], ['y'])], inputs: [value('x', [1], TYPE.BFLOAT16)], outputs: [value('y', [1], TYPE.BFLOAT16)] });
    expect(() => importOnnx(bfloat)).to.throw(OnnxUnsupportedError, "input 'x': element type BFLOAT16 is not supported; kiln holds FLOAT, DOUBLE and FLOAT16 as f32, the integer types as i32 (values checked) and BOOL.");
    // Computing in a small type (Cast's target) is not storage: kiln would not wrap or round as ONNX does.
    const cast = modelBytes({ nodes: [node('Cast', ['x'], ['y'], { to: TYPE.UINT8 })], inputs: [value('x', [1])], outputs: [value('y', [1], TYPE.UINT8)] });
    expect(() => importOnnx(cast)).to.throw(OnnxUnsupportedError, 'element type UINT8 is not supported; kiln imports FLOAT, DOUBLE (as f32), INT32, INT64');
  });
});

describe('ONNX DequantizeLinear, QuantizeLinear and DynamicQuantizeLinear', () => {
  it('dequantizes per axis with int8 zero points: (x − zero point) · scale', () => {
    const bytes = quantizeModel(
      'DequantizeLinear',
      [value('x', [2, 3], TYPE.INT8)],
      [{ name: 'scale', dims: [2], dataType: FLOAT, floatData: [0.5, 2] }, raw('zero', [2], TYPE.INT8, [0xff, 3])],
      { axis: 0 },
    );
    const { graph } = importOnnx(bytes);
    expectClose(interpret(graph, { feeds: { x: [-1, 0, 127, 3, -128, 4] } })['y']!.data, [0, 0.5, 64, 0, -262, 2]);
  });

  it('quantizes rounding half to even and saturating to the zero point’s type', () => {
    const int8 = quantizeModel('QuantizeLinear', [value('x', [6])], [{ name: 'scale', dims: [], dataType: FLOAT, floatData: [0.5] }, raw('zero', [], TYPE.INT8, [1])]);
    const y = interpret(importOnnx(int8).graph, { feeds: { x: [0.25, 0.75, -0.25, 100, -100, 1.25] } })['y']!;
    expect(y.dtype).to.equal('i32');
    expect(Array.from(y.data)).to.deep.equal([1, 3, 1, 127, -128, 3]);
    const uint8 = quantizeModel('QuantizeLinear', [value('x', [3])], [{ name: 'scale', dims: [], dataType: FLOAT, floatData: [1] }]);
    expect(Array.from(interpret(importOnnx(uint8).graph, { feeds: { x: [-3, 2.5, 300] } })['y']!.data)).to.deep.equal([0, 2, 255]);
  });

  it('needs the zero point stored, to know the type it quantizes to', () => {
    const bytes = modelBytes({
      nodes: [node('Add', ['z', 'z'], ['zero']), node('QuantizeLinear', ['x', 'scale', 'zero'], ['y'], {}, 'q')],
      inputs: [value('x', [1])],
      outputs: [value('y', [1], TYPE.UINT8)],
      initializers: [{ name: 'scale', dims: [], dataType: FLOAT, floatData: [1] }, raw('z', [], TYPE.UINT8, [1])],
    });
    expect(() => importOnnx(bytes)).to.throw(OnnxUnsupportedError, "QuantizeLinear node 'q' (opset 13): y_zero_point is computed in the model; kiln needs it stored (an initializer or Constant) to know the quantized type.");
  });

  it('quantizes dynamically onto [0, 255] (ONNX’s example)', () => {
    const bytes = modelBytes({
      nodes: [node('DynamicQuantizeLinear', ['x'], ['y', 'scale', 'zero'])],
      inputs: [value('x', [6])],
      outputs: [value('y', [6], TYPE.UINT8), value('scale', []), value('zero', [], TYPE.UINT8)],
      opset: 11,
    });
    const out = interpret(importOnnx(bytes).graph, { feeds: { x: [0, 2, -3, -2.5, 1.34, 0.5] } });
    expect(Array.from(out['y']!.data)).to.deep.equal([153, 255, 0, 26, 221, 179]);
    expectClose(out['scale']!.data, [0.0196078438]);
    expect(Array.from(out['zero']!.data)).to.deep.equal([153]);
  });
});

describe('ONNX Cast to FLOAT16 and BitShift on unsigned integers held as i32', () => {
  it('casts to FLOAT16 by rounding to the nearest f16 value (ties to even), ±∞ past 65504', () => {
    const bytes = modelBytes({ nodes: [node('Cast', ['x'], ['y'], { to: TYPE.FLOAT16 })], inputs: [value('x', [11])], outputs: [value('y', [11], TYPE.FLOAT16)] });
    const x = [1 / 3, 65519, 65520, -70000, 3 * 2 ** -25, 0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2048.5, -3, NaN];
    const y = Array.from(interpret(importOnnx(bytes).graph, { feeds: { x } })['y']!.data);
    expect(y).to.deep.equal([0.333251953125, 65504, Infinity, -Infinity, 2 ** -23, 0, 1, 1 + 2 ** -9, 2048, -3, NaN]);
  });

  it('shifts left as x·2^y and right as x÷2^y, a right shift of 31 bits or more giving 0', () => {
    const shift = (direction: string, x: number[], y: number[]): number[] => {
      const bytes = modelBytes({
        nodes: [node('BitShift', ['x', 'y'], ['z'], { direction })],
        inputs: [value('x', [x.length], TYPE.UINT32), value('y', [y.length], TYPE.UINT32)],
        outputs: [value('z', [x.length], TYPE.UINT32)],
        opset: 11,
      });
      return Array.from(interpret(importOnnx(bytes).graph, { feeds: { x, y } })['z']!.data);
    };
    expect(shift('LEFT', [16, 1, 7, 3], [1, 30, 0, 2])).to.deep.equal([32, 2 ** 30, 7, 12]);
    expect(shift('RIGHT', [16, 2 ** 30, 7, 2 ** 30], [1, 30, 0, 31])).to.deep.equal([8, 1, 7, 0]);
  });

  it('refuses a float BitShift and an unknown direction, saying why', () => {
    const bitShift = (type: number, direction: string): Uint8Array =>
      modelBytes({
        nodes: [node('BitShift', ['x', 'x'], ['z'], { direction }, 'shift')],
        inputs: [value('x', [2], type)],
        outputs: [value('z', [2], type)],
        opset: 11,
      });
    expect(() => importOnnx(bitShift(FLOAT, 'LEFT'))).to.throw(OnnxUnsupportedError, "BitShift node 'shift' (opset 11): the operands are f32 and f32; BitShift takes integers");
    expect(() => importOnnx(bitShift(TYPE.UINT8, 'UP'))).to.throw(OnnxError, "BitShift node 'shift' (opset 11): attribute 'direction' is 'UP'; it must be 'LEFT' or 'RIGHT'");
  });
});
