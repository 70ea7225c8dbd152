import { expect } from 'chai';
import type { Shape } from '../../compiler/shape.js';
import { grad } from '../../compiler/autodiff.js';
import { OnnxError, OnnxUnsupportedError } from '../../compiler/errors.js';
import { StaticValueError, importOnnx, onnx } from '../../compiler/onnx/index.js';
import { evaluateNodes, interpret } from '../../compiler/reference.js';
import { expectClose, testData } from '../helpers.js';
import { INT64, modelBytes, node, tensor, value } from './model-builder.js';

const INT32 = onnx.TensorProto.DataType.INT32;
const ATTRIBUTE = onnx.AttributeProto.AttributeType;

interface ResizeSpec {
  shape: number[];
  out: number[];
  attributes?: Record<string, number | number[] | string>;
  /** FLOAT attributes (the model builder writes whole numbers as INT). */
  floats?: Record<string, number>;
  scales?: number[];
  sizes?: number[];
  roi?: number[];
  opset?: number;
  elemType?: number;
}

/** A one-node Resize model (opset 13 by default) with roi, scales and sizes as initializers. */
function resizeModel(spec: ResizeSpec): Uint8Array {
  const opset = spec.opset ?? 13;
  const initializers = [];
  if (spec.roi) initializers.push(tensor('roi', [spec.roi.length], spec.roi));
  if (spec.scales) initializers.push(tensor('scales', [spec.scales.length], spec.scales));
  if (spec.sizes) initializers.push(tensor('sizes', [spec.sizes.length], spec.sizes, INT64));
  const inputs = opset < 11 ? ['x', 'scales'] : ['x', spec.roi ? 'roi' : '', spec.scales ? 'scales' : '', spec.sizes ? 'sizes' : ''];
  const resize = node('Resize', inputs, ['y'], spec.attributes ?? {}, 'resize');
  for (const [name, f] of Object.entries(spec.floats ?? {})) resize.attribute!.push({ name, type: ATTRIBUTE.FLOAT, f });
  return modelBytes({
    nodes: [resize],
    inputs: [value('x', spec.shape, spec.elemType)],
    outputs: [value('y', spec.out, spec.elemType)],
    initializers,
    opset,
  });
}

function run(spec: ResizeSpec, x: number[]): { shape: readonly number[]; data: ArrayLike<number> } {
  const { graph } = importOnnx(resizeModel(spec));
  return interpret(graph, { feeds: { x } })['y']!;
}

const GRID = [1, 2, 3, 4];
const SIXTEEN = Array.from({ length: 16 }, (_, i) => i + 1);

describe('ONNX Resize and Upsample (composed from gathers and weighted sums)', () => {
  it('interpolates linearly with half_pixel and align_corners coordinates', () => {
    const halfPixel = run({ shape: [1, 1, 2, 2], out: [1, 1, 4, 4], scales: [1, 1, 2, 2], attributes: { mode: 'linear' } }, GRID);
    expect(halfPixel.shape).to.deep.equal([1, 1, 4, 4]);
    expectClose(halfPixel.data, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    const corners = run({ shape: [1, 1, 2, 2], out: [1, 1, 4, 4], scales: [1, 1, 2, 2], attributes: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } }, GRID);
    expectClose(Array.from(corners.data).slice(0, 4), [1, 4 / 3, 5 / 3, 2]);
  });

  it('rounds nearest ties down or up as nearest_mode says', () => {
    const tie = (nearest: string): ArrayLike<number> =>
      run({ shape: [1, 4], out: [1, 8], sizes: [1, 8], attributes: { coordinate_transformation_mode: 'asymmetric', nearest_mode: nearest } }, GRID).data;
    expect(Array.from(tie('round_prefer_floor'))).to.deep.equal([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(Array.from(tie('round_prefer_ceil'))).to.deep.equal([1, 2, 2, 3, 3, 4, 4, 4]);
    expect(Array.from(tie('ceil'))).to.deep.equal([1, 2, 2, 3, 3, 4, 4, 4]);
  });

  it("matches ONNX's cubic downsampling (a = -0.75; test_resize_downsample_scales_cubic's expected values)", () => {
    const y = run({ shape: [1, 1, 4, 4], out: [1, 1, 3, 3], scales: [1, 1, 0.8, 0.8], attributes: { mode: 'cubic' } }, SIXTEEN);
    expectClose(y.data, [1.47119140625, 2.78125, 4.08251953125, 6.71142578125, 8.021484375, 9.32275390625, 11.91650390625, 13.2265625, 14.52783203125], 1e-6);
  });

  it('extrapolates outside the region of tf_crop_and_resize', () => {
    const y = run(
      { shape: [1, 4], out: [1, 5], sizes: [1, 5], roi: [0, -0.5, 1, 1.5], attributes: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' }, floats: { extrapolation_value: 9 } },
      GRID,
    );
    expectClose(y.data, [9, 1, 2.5, 4, 9]);
  });

  it('resizes only the given axes (opset 18), keeping the aspect ratio when asked', () => {
    const last = run({ shape: [1, 3], out: [1, 6], scales: [2], attributes: { axes: [-1], coordinate_transformation_mode: 'asymmetric' }, opset: 18 }, [1, 2, 3]);
    expect(Array.from(last.data)).to.deep.equal([1, 1, 2, 2, 3, 3]);
    const shape = (policy: string): Shape =>
      importOnnx(resizeModel({ shape: [1, 1, 2, 4], out: [1, 1, 3, 6], sizes: [3, 4], attributes: { axes: [2, 3], keep_aspect_ratio_policy: policy }, opset: 18 })).outputs['y']!.shape;
    expect(shape('not_smaller')).to.deep.equal([1, 1, 3, 6]);
    expect(shape('not_larger')).to.deep.equal([1, 1, 2, 4]);
  });

  it('follows opset 10 and Upsample: asymmetric, nearest rounding down when upsampling and up when downsampling', () => {
    const down = run({ shape: [1, 1, 2, 4], out: [1, 1, 1, 2], scales: [1, 1, 0.6, 0.6], opset: 10 }, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(down.data)).to.deep.equal([1, 3]);
    const upsample = node('Upsample', ['x'], ['y']);
    upsample.attribute!.push({ name: 'scales', type: ATTRIBUTE.FLOATS, floats: [1, 2.5] });
    const upsample7 = modelBytes({ nodes: [upsample], inputs: [value('x', [1, 2])], outputs: [value('y', [1, 5])], opset: 7 });
    expect(Array.from(interpret(importOnnx(upsample7).graph, { feeds: { x: [1, 2] } })['y']!.data)).to.deep.equal([1, 1, 1, 2, 2]);
  });

  it('copies integers with nearest, and leaves an unchanged axis alone', () => {
    const { graph } = importOnnx(resizeModel({ shape: [2, 2], out: [2, 4], scales: [1, 2], elemType: INT32 }));
    expect(graph.nodes.filter((n) => n.op === 'gather')).to.have.length(1);
    expect(Array.from(interpret(graph, { feeds: { x: [1, 2, 3, 4] } })['y']!.data)).to.deep.equal([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('is differentiable: the gradient is the transposed interpolation', () => {
    const { graph, inputs, outputs } = importOnnx(resizeModel({ shape: [1, 1, 2, 3], out: [1, 1, 3, 5], sizes: [1, 1, 3, 5], attributes: { mode: 'linear' } }));
    const weights = graph.constant(testData(15, 3, 0.5, 1.5), { shape: [1, 1, 3, 5] });
    const loss = outputs['y']!.mul(weights).sum();
    const [dx] = grad(loss, [inputs['x']!]);
    const base = testData(6, 5, -1, 1);
    const lossAt = (x: number[]): number => evaluateNodes(graph, [loss.id], { feeds: { x }, precision: 'f64' })[0]!.data[0]!;
    const analytic = evaluateNodes(graph, [dx!.id], { feeds: { x: base }, precision: 'f64' })[0]!.data;
    const eps = 1e-6;
    const numeric = base.map((_, i) => (lossAt(base.map((v, j) => (j === i ? v + eps : v))) - lossAt(base.map((v, j) => (j === i ? v - eps : v)))) / (2 * eps));
    expectClose(analytic, numeric, 1e-6, 1e-7);
  });

  it('refuses what it cannot express, with the reason', () => {
    const linearInts = resizeModel({ shape: [2, 2], out: [2, 4], scales: [1, 2], elemType: INT32, attributes: { mode: 'linear' } });
    expect(() => importOnnx(linearInts)).to.throw(OnnxUnsupportedError, "Resize node 'resize' (opset 13): the input is i32; kiln interpolates f32 only (nearest without extrapolation copies any type).");
    const antialias = resizeModel({ shape: [1, 4], out: [1, 2], scales: [1, 0.5], attributes: { mode: 'linear', antialias: 1 }, opset: 18 });
    expect(() => importOnnx(antialias)).to.throw(OnnxUnsupportedError, 'antialias=1 (a filter widened by the downsampling factor) is not supported; export with antialias=0.');
    const cubic10 = resizeModel({ shape: [1, 4], out: [1, 8], scales: [1, 2], attributes: { mode: 'cubic' }, opset: 10 });
    expect(() => importOnnx(cubic10)).to.throw(OnnxUnsupportedError, "mode 'cubic' is not one kiln imports (nearest, linear).");
    const both = resizeModel({ shape: [1, 4], out: [1, 8], scales: [1, 2], sizes: [1, 8] });
    expect(() => importOnnx(both)).to.throw(OnnxError, 'exactly one of scales and sizes must be given.');
    const runtime = modelBytes({
      nodes: [node('Resize', ['x', '', 'scales'], ['y'], {}, 'resize')],
      inputs: [value('x', [1, 4]), value('scales', [2])],
      outputs: [value('y', [1, 8])],
    });
    expect(() => importOnnx(runtime)).to.throw(StaticValueError, "input 2 'scales' (scales) must be known when the model is imported");
    expect(Array.from(interpret(importOnnx(runtime, { constants: { scales: [1, 2] } }).graph, { feeds: { x: GRID } })['y']!.data)).to.deep.equal([1, 1, 2, 2, 3, 3, 4, 4]);
  });
});
