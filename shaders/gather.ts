/**
 * Indexed data movement: `gather` (NumPy `take` along an axis) and its transpose
 * `scatterAdd`. Both view their data as `[outer, axis, inner]` blocks, so one template
 * serves every rank. Indices count from the end when negative; out-of-range ones read 0
 * (gather) or are skipped (scatterAdd), exactly as the reference interpreter does.
 */

import type { KernelSpec, LoweringContext } from '../compiler/codegen/kernel.js';
import { KernelBindings, perElementKernel, wgslSize } from '../compiler/codegen/wgsl.js';
import { sizeOf } from '../compiler/shape.js';
import type { Dim } from '../compiler/dims.js';
import { dimMul, isSymbolic } from '../compiler/dims.js';
import { storedLiteral } from './movement.js';

/** `let name = …;` lines splitting flat `i` of an `[outer, middle, inner]` block into its three coordinates. */
function splitBlock(outer: Dim, middle: Dim, inner: Dim, names: readonly [string, string, string]): string[] {
  const [o, m, t] = names;
  const rows = inner === 1 ? 'i' : `(i / ${wgslSize(inner)})`;
  return [
    ...(outer === 1 ? [] : [`let ${o} = i / ${wgslSize(dimMul(middle, inner))};`]),
    `let ${m} = ${outer === 1 ? rows : `${rows} % ${wgslSize(middle)}`};`,
    ...(inner === 1 ? [] : [`let ${t} = i % ${wgslSize(inner)};`]),
  ];
}

/** `(o * middle + m) * inner + t`, dropping the parts a size-1 outer or inner makes constant. */
function blockOffset(outer: Dim, middle: Dim, inner: Dim, m: string, names: readonly [string, string]): string {
  const [o, t] = names;
  const row = outer === 1 ? m : `${o} * ${wgslSize(middle)} + ${m}`;
  if (inner === 1) return row;
  return `${outer === 1 ? row : `(${row})`} * ${wgslSize(inner)} + ${t}`;
}

/** A size as a WGSL i32 (`10i`, or `i32(kiln_dims.batch)` read from the size block). */
function sizeI32(d: Dim): string {
  return isSymbolic(d) ? `i32(${wgslSize(d)})` : `${d}i`;
}

/**
 * One invocation per output element `[o, j, t]` (j runs over the flattened indices):
 * it resolves index j and copies `x[o, index, t]`, or writes 0 when the index is out of range.
 */
export function gatherKernel(ctx: LoweringContext, axis: number): KernelSpec[] {
  const out = ctx.node;
  const [x, indices] = [ctx.inputs[0]!, ctx.inputs[1]!];
  const size = sizeOf(out.shape);
  if (size === 0) return [];
  const n = x.shape[axis]!;
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const count = sizeOf(indices.shape);
  const body = [
    ...splitBlock(outer, count, inner, ['o', 'j', 't']),
    'let raw = indices[j];',
    // Negative indices count from the end (raw + n cannot overflow: raw < 0 < n).
    `let index = select(raw, raw + ${sizeI32(n)}, raw < 0i);`,
    `if (index >= 0i && index < ${sizeI32(n)}) {`,
    `  out[i] = x[${blockOffset(outer, n, inner, 'u32(index)', ['o', 't'])}];`,
    '} else {',
    `  out[i] = ${storedLiteral(0, out.dtype)};`,
    '}',
  ];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    limits: ctx.limits,
    name: ctx.name,
    header: ctx.header,
    decls: [bindings.storage(x.id, 'x', x.dtype, 'read'), bindings.storage(indices.id, 'indices', 'i32', 'read'), bindings.storage(out.id, 'out', out.dtype, 'read_write')],
    invocations: size,
    body,
    dims: ctx.dims,
  });
  return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
}

/**
 * WGSL has no float atomics, so the sum is gathered, not scattered: one invocation per
 * output element `[o, r, t]` walks all the indices in order and adds `updates[o, j, t]`
 * for each j whose index resolves to r. The result is deterministic and adds in the
 * reference's order (bit-identical f32 sums; i32 wraps as WGSL i32 addition does).
 * Cost: (output elements × index count) index reads, plus one read per update actually
 * added. That is fine for embedding gradients with modest tables and batches; a large
 * table × many indices wants a sort-based two-pass scheme (which needs scratch buffers).
 *
 * Where the row (`inner`) is static and has a divisor from 2 to 16, an invocation owns
 * that many neighbouring elements of one output row instead of one, so each index read
 * and comparison serves all of them: the char transformer's embedding gradient (76 rows
 * of 64, 1024 indices) reads 16× fewer indices. The invocations of a row are neighbours,
 * so they take the same branches. Each invocation still walks every index in order, so
 * a GPU's longest invocation is no longer than before and the sums are the same.
 */
export function scatterAddKernel(ctx: LoweringContext, attrs: { axis: number; size: Dim }): KernelSpec[] {
  const out = ctx.node;
  const indices = ctx.inputs[1]!;
  const total = sizeOf(out.shape);
  if (total === 0) return [];
  const { axis, size } = attrs;
  const outer = sizeOf(out.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  const count = sizeOf(indices.shape);
  const zero = storedLiteral(0, out.dtype);
  if (count === 0) {
    // Nothing is added: bind only the output (auto layouts drop bindings a shader never reads).
    const bindings = new KernelBindings();
    const kernel = perElementKernel({
      limits: ctx.limits,
      name: ctx.name,
      header: ctx.header,
      decls: [bindings.storage(out.id, 'out', out.dtype, 'read_write')],
      invocations: total,
      body: [`out[i] = ${zero};`],
      dims: ctx.dims,
    });
    return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
  }
  const chunk = typeof inner === 'number' ? largestDivisor(inner, MAX_ROW_CHUNK) : 1;
  if (chunk > 1) return chunkedScatterAdd(ctx, { outer, size, inner: inner as number, count, chunk });
  const body = [
    ...splitBlock(outer, size, inner, ['o', 'row', 't']),
    `var sum = ${zero};`,
    `for (var j = 0u; j < ${wgslSize(count)}; j += 1u) {`,
    '  let raw = indices[j];',
    // Out-of-range indices resolve outside [0, size) and so never match a row: skipped.
    `  if (select(raw, raw + ${sizeI32(size)}, raw < 0i) == i32(row)) {`,
    `    sum += updates[${blockOffset(outer, count, inner, 'j', ['o', 't'])}];`,
    '  }',
    '}',
    'out[i] = sum;',
  ];
  return scatterKernel(ctx, ctx.header, total, body);
}

/** A scatterAdd kernel: `body` once per invocation, reading updates and indices, writing out. */
function scatterKernel(ctx: LoweringContext, header: readonly string[], invocations: Dim, body: readonly string[]): KernelSpec[] {
  const [updates, indices] = [ctx.inputs[0]!, ctx.inputs[1]!];
  const out = ctx.node;
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    limits: ctx.limits,
    name: ctx.name,
    header,
    decls: [
      bindings.storage(updates.id, 'updates', updates.dtype, 'read'),
      bindings.storage(indices.id, 'indices', 'i32', 'read'),
      bindings.storage(out.id, 'out', out.dtype, 'read_write'),
    ],
    invocations,
    body,
    dims: ctx.dims,
  });
  return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
}

/** Most neighbouring output elements one scatterAdd invocation sums (registers). */
const MAX_ROW_CHUNK = 16;

/** The largest divisor of `n` up to `most` (1 when n is 0). */
function largestDivisor(n: number, most: number): number {
  for (let d = Math.min(n, most); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** scatterAdd with `chunk` neighbouring elements of an output row per invocation (see scatterAddKernel). */
function chunkedScatterAdd(ctx: LoweringContext, s: { outer: Dim; size: Dim; inner: number; count: Dim; chunk: number }): KernelSpec[] {
  const out = ctx.node;
  const { outer, size, inner, count, chunk } = s;
  const chunks = inner / chunk;
  const zero = storedLiteral(0, out.dtype);
  const elements = Array.from({ length: chunk }, (_, k) => k);
  const rows = chunks === 1 ? 'i' : `(i / ${chunks}u)`;
  const body = [
    ...(chunks === 1 ? ['let t0 = 0u;'] : [`let t0 = (i % ${chunks}u) * ${chunk}u;`]),
    ...(outer === 1 ? [] : [`let o = ${rows} / ${wgslSize(size)};`]),
    `let row = ${outer === 1 ? rows : `${rows} % ${wgslSize(size)}`};`,
    ...elements.map((k) => `var sum${k} = ${zero};`),
    `for (var j = 0u; j < ${wgslSize(count)}; j += 1u) {`,
    '  let raw = indices[j];',
    // Out-of-range indices resolve outside [0, size) and so never match a row: skipped.
    `  if (select(raw, raw + ${sizeI32(size)}, raw < 0i) == i32(row)) {`,
    `    let at = ${blockOffset(outer, count, inner, 'j', ['o', 't0'])};`,
    ...elements.map((k) => `    sum${k} += updates[${k === 0 ? 'at' : `at + ${k}u`}];`),
    '  }',
    '}',
    `let to = ${blockOffset(outer, size, inner, 'row', ['o', 't0'])};`,
    ...elements.map((k) => `out[${k === 0 ? 'to' : `to + ${k}u`}] = sum${k};`),
  ];
  return scatterKernel(ctx, [...ctx.header, `${chunk} neighbouring elements of a row per invocation`], dimMul(dimMul(outer, size), chunks), body);
}
