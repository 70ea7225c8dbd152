/**
 * kiln's reductions as ONNX: sum, mean, max, min, prod and logsumexp over a list of axes
 * (ReduceSum takes its axes as an input from opset 13, the others from opset 18), argmax
 * and argmin (ONNX gives int64: cast to kiln's i32), and cumsum.
 */

import { elementTypeOf } from './builder.js';
import type { ExportContext, OpExporter } from './context.js';
import { registerExporters } from './context.js';

/** A reduction over `axes` of read 0; an empty axis list reduces nothing (ONNX would reduce everything). */
function reduceAxes(ctx: ExportContext, opType: string, axes: readonly number[], keepdims: boolean, axesInputSince: number): string {
  if (axes.length === 0) return ctx.op('Identity', [ctx.input(0)]);
  const keep = { keepdims: { int: keepdims ? 1 : 0 } };
  if (ctx.opset >= axesInputSince) return ctx.op(opType, [ctx.input(0), ctx.int64s(axes)], keep);
  return ctx.op(opType, [ctx.input(0)], { ...keep, axes: { ints: axes } });
}

const reduce = (opType: string, axesInputSince = 18): OpExporter => (ctx) =>
  reduceAxes(ctx, opType, ctx.node.attrs['axes'] as number[], ctx.node.attrs['keepdims'] as boolean, axesInputSince);

/** ArgMax/ArgMin along an axis, or over the flattened tensor when the axis is null. */
const argReduce = (opType: string): OpExporter => (ctx) => {
  const axis = ctx.node.attrs['axis'] as number | null;
  const keepdims = ctx.node.attrs['keepdims'] as boolean;
  const x = ctx.type(0);
  const source = axis === null ? ctx.op('Reshape', [ctx.input(0), ctx.int64s([-1])]) : ctx.input(0);
  const index = ctx.op(opType, [source], { axis: { int: axis ?? 0 }, keepdims: { int: keepdims ? 1 : 0 } });
  const shaped = axis === null && keepdims && x.shape.length !== 1 ? ctx.op('Reshape', [index, ctx.int64s(x.shape.map(() => 1))]) : index;
  return ctx.op('Cast', [shaped], { to: { int: elementTypeOf('i32') } });
};

function cumsum(ctx: ExportContext): string {
  const { axis, exclusive, reverse } = ctx.node.attrs as { axis: number; exclusive: boolean; reverse: boolean };
  return ctx.op('CumSum', [ctx.input(0), ctx.int64(axis)], { exclusive: { int: exclusive ? 1 : 0 }, reverse: { int: reverse ? 1 : 0 } });
}

registerExporters({
  sum: reduce('ReduceSum', 13),
  mean: reduce('ReduceMean'),
  max: reduce('ReduceMax'),
  min: reduce('ReduceMin'),
  prod: reduce('ReduceProd'),
  logsumexp: reduce('ReduceLogSumExp'),
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),
  cumsum,
});
