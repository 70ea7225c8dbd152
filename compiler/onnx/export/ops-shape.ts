/**
 * kiln's layout and indexing ops as ONNX: reshape, transpose, broadcastTo (Expand),
 * slice, concat, pad (interior padding spelled out, as ONNX's Pad has none), gather and
 * oneHot (an Equal against 0..depth−1, which gives kiln's all-zero slice for an index out
 * of range, where ONNX's OneHot counts negative ones from the end).
 */

import type { Dim } from '../../dims.js';
import { isSymbolic } from '../../dims.js';
import type { Shape } from '../../shape.js';
import { isStaticShape } from '../../shape.js';
import type { OnnxAttributes } from './builder.js';
import { elementTypeOf } from './builder.js';
import type { ExportContext } from './context.js';
import { registerExporters } from './context.js';

/**
 * Reshape of `value` (shape `from`, when known) to `shape`. A symbolic size is written 0
 * where the input has it at the same index (ONNX copies it), else -1 where it is the only
 * one left (ONNX infers it); otherwise the shape is computed from the inputs' sizes.
 */
function reshapeTo(ctx: ExportContext, value: string, shape: Shape, from?: Shape): string {
  const hasZero = shape.includes(0);
  if (hasZero && ctx.opset < 14) throw ctx.refuse('a shape with a zero dimension needs Reshape with allowzero (opset 14 or later)');
  const allowZero: OnnxAttributes = hasZero ? { allowzero: { int: 1 } } : {};
  if (isStaticShape(shape)) return ctx.op('Reshape', [value, ctx.int64s(shape)], allowZero);
  const copied = shape.map((d, i) => (!hasZero && isSymbolic(d) && from?.[i] === d ? 0 : d));
  const left = copied.flatMap((d, i) => (isSymbolic(d) ? [i] : []));
  if (hasZero || left.length > 1) return ctx.op('Reshape', [value, ctx.shape(shape)], allowZero);
  return ctx.op('Reshape', [value, ctx.int64s(copied.map((d) => (isSymbolic(d) ? -1 : d)))]);
}

/** Expand to `shape`: a symbolic size the input has at the aligned axis is written 1 (Expand keeps the input's). */
function expandTo(ctx: ExportContext): string {
  const from = ctx.type(0).shape;
  const offset = ctx.node.shape.length - from.length;
  const target = ctx.node.shape.map((d, i) => (isSymbolic(d) && from[i - offset] === d ? 1 : d));
  return ctx.op('Expand', [ctx.input(0), ctx.shape(target)]);
}

function slice(ctx: ExportContext): string {
  const { starts, steps, shape } = ctx.node.attrs as { starts: number[]; steps: number[]; shape: Dim[] };
  const dims = ctx.type(0).shape;
  const axes = dims.flatMap((d, a) => (starts[a] === 0 && steps[a] === 1 && shape[a] === d ? [] : [a]));
  if (axes.length === 0) return ctx.op('Identity', [ctx.input(0)]);
  // An end before index 0 (a reversed slice reaching the start) is written −(d+1), which ONNX clamps to −1.
  const ends = axes.map((a) => {
    const [size, dim] = ctx.staticShape([shape[a]!, dims[a]!], `Slice's ends are written as numbers (axis ${a})`) as [number, number];
    const end = starts[a]! + size * steps[a]!;
    return end < 0 ? -(dim + 1) : end;
  });
  const pick = (values: readonly number[]): string => ctx.int64s(axes.map((a) => values[a]!));
  return ctx.op('Slice', [ctx.input(0), pick(starts), ctx.int64s(ends), ctx.int64s(axes), pick(steps)]);
}

/**
 * `interior` values of `fill` between neighbours along `axis`: each element gets a new axis
 * after it, padded to interior + 1, merged back, and the trailing fill sliced off.
 */
function spreadAxis(ctx: ExportContext, value: string, shape: Dim[], axis: number, interior: number, fill: string): string {
  const [n] = ctx.staticShape([shape[axis]!], `interior padding spreads axis ${axis}`) as [number];
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
    if (gap > 0 && shape[axis]! !== 1 && shape[axis]! !== 0) x = spreadAxis(ctx, x, shape, axis, gap, fill);
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

/** A size as a scalar value (dimSize): read from the inputs' shapes, cast from int64 to the node's dtype. */
function dimSize(ctx: ExportContext): string {
  const { size } = ctx.node.attrs as { size: Dim };
  const scalar = ctx.op('Reshape', [ctx.size(size), ctx.int64s([])]);
  return ctx.op('Cast', [scalar], { to: { int: elementTypeOf(ctx.node.dtype) } });
}

registerExporters({
  dimSize,
  reshape: (ctx) => reshapeTo(ctx, ctx.input(0), ctx.node.shape, ctx.type(0).shape),
  transpose: (ctx) => ctx.op('Transpose', [ctx.input(0)], { perm: { ints: ctx.node.attrs['perm'] as number[] } }),
  broadcastTo: expandTo,
  slice,
  concat: (ctx) => ctx.op('Concat', ctx.reads.map((_, i) => ctx.input(i)), { axis: { int: ctx.node.attrs['axis'] as number } }),
  pad,
  gather: (ctx) => ctx.op('Gather', [ctx.input(0), ctx.input(1)], { axis: { int: ctx.node.attrs['axis'] as number } }),
  oneHot,
});
