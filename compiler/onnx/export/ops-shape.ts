/**
 * kiln's layout and indexing ops as ONNX: reshape, transpose, broadcastTo (Expand),
 * slice, concat, pad (interior padding spelled out, as ONNX's Pad has none), gather and
 * oneHot (an Equal against 0..depth−1, which gives kiln's all-zero slice for an index out
 * of range, where ONNX's OneHot counts negative ones from the end).
 */

import { elementTypeOf } from './builder.js';
import type { ExportContext } from './context.js';
import { registerExporters } from './context.js';

function reshapeTo(ctx: ExportContext, value: string, shape: readonly number[]): string {
  const hasZero = shape.includes(0);
  if (hasZero && ctx.opset < 14) throw ctx.refuse('a shape with a zero dimension needs Reshape with allowzero (opset 14 or later)');
  return ctx.op('Reshape', [value, ctx.int64s(shape)], hasZero ? { allowzero: { int: 1 } } : {});
}

function slice(ctx: ExportContext): string {
  const { starts, steps, shape } = ctx.node.attrs as { starts: number[]; steps: number[]; shape: number[] };
  const dims = ctx.type(0).shape;
  const axes = dims.flatMap((d, a) => (starts[a] === 0 && steps[a] === 1 && shape[a] === d ? [] : [a]));
  if (axes.length === 0) return ctx.op('Identity', [ctx.input(0)]);
  // An end before index 0 (a reversed slice reaching the start) is written −(d+1), which ONNX clamps to −1.
  const ends = axes.map((a) => {
    const end = starts[a]! + shape[a]! * steps[a]!;
    return end < 0 ? -(dims[a]! + 1) : end;
  });
  const pick = (values: readonly number[]): string => ctx.int64s(axes.map((a) => values[a]!));
  return ctx.op('Slice', [ctx.input(0), pick(starts), ctx.int64s(ends), ctx.int64s(axes), pick(steps)]);
}

/**
 * `interior` values of `fill` between neighbours along `axis`: each element gets a new axis
 * after it, padded to interior + 1, merged back, and the trailing fill sliced off.
 */
function spreadAxis(ctx: ExportContext, value: string, shape: number[], axis: number, interior: number, fill: string): string {
  const n = shape[axis]!;
  const rank = shape.length;
  const lifted = ctx.op('Unsqueeze', [value, ctx.int64s([axis + 1])]);
  const pads = new Array<number>(2 * (rank + 1)).fill(0);
  pads[rank + 1 + axis + 1] = interior;
  const padded = ctx.op('Pad', [lifted, ctx.int64s(pads), fill]);
  const merged = [...shape];
  merged[axis] = n * (interior + 1);
  const flat = reshapeTo(ctx, padded, merged);
  shape[axis] = n + (n - 1) * interior;
  return ctx.op('Slice', [flat, ctx.int64s([0]), ctx.int64s([shape[axis]!]), ctx.int64s([axis])]);
}

function pad(ctx: ExportContext): string {
  const { before, after, interior, value } = ctx.node.attrs as { before: number[]; after: number[]; interior: number[]; value: number };
  const fill = ctx.constant(value, ctx.node.dtype);
  const shape = [...ctx.type(0).shape];
  let x = ctx.input(0);
  interior.forEach((gap, axis) => {
    if (gap > 0 && shape[axis]! > 1) x = spreadAxis(ctx, x, shape, axis, gap, fill);
  });
  if ([...before, ...after].every((p) => p === 0)) return x === ctx.input(0) ? ctx.op('Identity', [x]) : x;
  return ctx.op('Pad', [x, ctx.int64s([...before, ...after]), fill]);
}

function oneHot(ctx: ExportContext): string {
  const { depth, axis } = ctx.node.attrs as { depth: number; axis: number };
  const rank = ctx.node.shape.length;
  const classes = ctx.values(
    Array.from({ length: depth }, (_, i) => i),
    'i32',
    Array.from({ length: rank }, (_, a) => (a === axis ? depth : 1)),
  );
  const hot = ctx.op('Equal', [ctx.op('Unsqueeze', [ctx.input(0), ctx.int64s([axis])]), classes]);
  return ctx.node.dtype === 'bool' ? hot : ctx.op('Cast', [hot], { to: { int: elementTypeOf(ctx.node.dtype) } });
}

registerExporters({
  reshape: (ctx) => reshapeTo(ctx, ctx.input(0), ctx.node.shape),
  transpose: (ctx) => ctx.op('Transpose', [ctx.input(0)], { perm: { ints: ctx.node.attrs['perm'] as number[] } }),
  broadcastTo: (ctx) => ctx.op('Expand', [ctx.input(0), ctx.int64s(ctx.node.shape)]),
  slice,
  concat: (ctx) => ctx.op('Concat', ctx.reads.map((_, i) => ctx.input(i)), { axis: { int: ctx.node.attrs['axis'] as number } }),
  pad,
  gather: (ctx) => ctx.op('Gather', [ctx.input(0), ctx.input(1)], { axis: { int: ctx.node.attrs['axis'] as number } }),
  oneHot,
});
