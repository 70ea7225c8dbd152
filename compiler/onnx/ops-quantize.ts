/**
 * ONNX linear quantization: DequantizeLinear, QuantizeLinear and DynamicQuantizeLinear,
 * composed at import from kiln's cast, sub, mul, div, round and clip. The 8-bit values
 * are held as i32 (tensor-proto.ts), so a quantized model's weights arrive as integers
 * and leave DequantizeLinear as f32, where the rest of the model computes.
 *
 * Quantizing rounds half to even (kiln's round, as ONNX says) and saturates to the target
 * type's range; the target type is the zero point's, which kiln holds as i32 whatever it
 * was, so QuantizeLinear reads it from the file and needs the zero point known at import.
 */

import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';
import { registerHandlers } from './handler.js';
import { axisOf } from './ops-shape.js';
import { elementTypeName, onnx } from './tensor-proto.js';

const ELEMENT_TYPE = onnx.TensorProto.DataType;

/** The value range of the 8-bit types ONNX quantizes to (before opset 19's float8 types). */
const RANGES: Partial<Record<number, readonly [number, number]>> = {
  [ELEMENT_TYPE.UINT8]: [0, 255],
  [ELEMENT_TYPE.INT8]: [-128, 127],
};

/**
 * The scale or zero point shaped to broadcast against x: a scalar (or one value) applies
 * to the whole tensor; a 1-D tensor of x.shape[axis] values applies per slice along `axis`.
 */
function alongAxis(n: NodeContext, x: Tensor, parameter: Tensor, what: string): Tensor {
  if (parameter.size === 1) return parameter.reshape([]);
  const axis = axisOf(n, n.opset >= 13 ? n.int('axis', 1) : 1, x.rank);
  if (parameter.rank !== 1 || parameter.size !== x.shape[axis]) {
    throw n.invalid(`${what} has shape [${parameter.shape.join(',')}]; per-axis quantization needs [${x.shape[axis]}] (axis ${axis} of [${x.shape.join(',')}])`);
  }
  return parameter.reshape([parameter.size, ...x.shape.slice(axis + 1).map(() => 1)]);
}

function asF32(x: Tensor): Tensor {
  return x.dtype === 'f32' ? x : x.cast('f32');
}

function dequantize(n: NodeContext): Tensor {
  const x = n.input(0);
  if (x.dtype !== 'i32') throw n.invalid(`x is ${x.dtype}; DequantizeLinear takes integers`);
  const scale = alongAxis(n, x, n.input(1), 'x_scale');
  const zero = n.optionalInput(2);
  // In i32 first: exact, as ONNX Runtime subtracts before converting.
  const shifted = zero ? x.sub(alongAxis(n, x, zero, 'x_zero_point')) : x;
  return asF32(shifted).mul(asF32(scale));
}

/** The target type's range: the zero point's element type (UINT8 when it is omitted). */
function targetRange(n: NodeContext): readonly [number, number] {
  if (!n.has(2)) return RANGES[ELEMENT_TYPE.UINT8]!;
  const type = n.constant(2, 'y_zero_point').elementType;
  if (type === undefined) throw n.unsupported('y_zero_point is computed in the model; kiln needs it stored (an initializer or Constant) to know the quantized type');
  const range = RANGES[type];
  if (!range) throw n.unsupported(`quantizing to ${elementTypeName(type)} is not supported; kiln quantizes to UINT8 and INT8`);
  return range;
}

function quantize(n: NodeContext): Tensor {
  const x = asF32(n.input(0));
  const [low, high] = targetRange(n);
  const scale = alongAxis(n, x, asF32(n.input(1)), 'y_scale');
  const zero = n.optionalInput(2);
  const rounded = x.div(scale).round();
  const shifted = zero ? rounded.add(asF32(alongAxis(n, x, zero, 'y_zero_point'))) : rounded;
  return shifted.clip(low, high).cast('i32');
}

/**
 * DynamicQuantizeLinear: UINT8 with the scale and zero point that map [min(x, 0), max(x, 0)]
 * onto [0, 255], as ONNX's formula: scale = (max − min) / 255, zero point = saturate(round(−min / scale)).
 */
function dynamicQuantize(n: NodeContext): Tensor[] {
  const x = n.input(0);
  if (x.dtype !== 'f32') throw n.invalid(`x is ${x.dtype}; DynamicQuantizeLinear takes floats`);
  const low = x.min().minimum(0);
  const high = x.max().maximum(0);
  const scale = high.sub(low).div(255);
  const zero = low.neg().div(scale).round().clip(0, 255);
  const y = x.div(scale).round().add(zero).clip(0, 255).cast('i32');
  return [y, scale, zero.cast('i32')];
}

registerHandlers({
  DequantizeLinear: { attributes: ['axis'], convert: dequantize },
  QuantizeLinear: { attributes: ['axis'], convert: quantize },
  DynamicQuantizeLinear: { convert: dynamicQuantize },
});
