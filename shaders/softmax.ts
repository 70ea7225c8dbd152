/**
 * Kernels of the nn ops: softmax and logSoftmax along any axis, one invocation per row
 * (the 1-D slice along the axis) in three passes over it — its max, the sum of exp(x −
 * max), then the results — so logits of ±1e4 neither overflow nor lose accuracy; and
 * oneHot, one invocation per output element.
 */

import type { DType } from '../compiler/dtype.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { KernelBindings, literal, perElementKernel, store, wgslSize } from '../compiler/codegen/wgsl.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { FoldReducer, RowNormalize } from '../compiler/codegen/reducer.js';
import { foldPasses, reducerHelpers } from '../compiler/codegen/reducer.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';
import type { Dim } from '../compiler/dims.js';
import { dimMul } from '../compiler/dims.js';

interface NodeKernel {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  /** Node ids of the input and the output. */
  readonly ids: readonly [number, number];
  /** The plan's dims (`LoweringContext.dims`): needed when a size is symbolic. */
  readonly dims?: readonly string[];
}

/** A tensor seen as [outer, length, inner] around `axis`. */
function around(shape: Shape, axis: number): { outer: Dim; length: Dim; inner: Dim } {
  return { outer: sizeOf(shape.slice(0, axis)), length: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

/**
 * softmax or logSoftmax of f32 `shape` along `axis`: the row's fold by the op's `reducer`
 * (logsumexp's: its max, then the sum of exp(x − max)), then each element by the op's
 * `element` rule, the same pieces the row kernel and the reference use.
 */
export function softmaxKernel(
  p: NodeKernel & { readonly shape: Shape; readonly axis: number; readonly reducer: FoldReducer; readonly element: RowNormalize },
): KernelSpec[] {
  const { outer, length, inner } = around(p.shape, p.axis);
  const rows = dimMul(outer, inner);
  if (rows === 0 || length === 0) return [];
  // Row i is (o, t) = (i / inner, i % inner); its elements sit `inner` apart from x[o·length·inner + t].
  const base = inner === 1 ? `i * ${wgslSize(length)}` : outer === 1 ? 'i' : `(i / ${wgslSize(inner)}) * ${wgslSize(dimMul(length, inner))} + i % ${wgslSize(inner)}`;
  const at = inner === 1 ? 'base + j' : `base + j * ${wgslSize(inner)}`;
  const loop = (visit: (v: string) => string[]): string[] => [`for (var j = 0u; j < ${wgslSize(length)}; j++) {`, ...visit(`x[${at}]`).map((l) => `  ${l}`), '}'];
  const fold = { total: 'total', shift: 'row_max' };
  const body = [
    `let base = ${base};`,
    ...foldPasses(p.reducer, { acc: fold.total, shift: fold.shift }, 'x[base]', 'f32', loop),
    ...loop((v) => [`out[${at}] = ${p.element.wgsl(v, fold)};`]),
  ];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name: p.name,
    header: [...p.header, `${rows} rows of ${length}, one invocation per row`],
    limits: p.limits,
    decls: [bindings.storage(p.ids[0], 'x', 'f32', 'read'), bindings.storage(p.ids[1], 'out', 'f32', 'read_write')],
    invocations: rows,
    body,
    helpers: [...new Set([...reducerHelpers(p.reducer, 'f32', false), ...p.element.helpers])],
    ...(p.dims ? { dims: p.dims } : {}),
  });
  return [{ name: p.name, ...kernel, bindings: bindings.list }];
}

/**
 * oneHot of i32 `indices` with the new axis of size `depth` at `axis` of the output:
 * output element (o, d, t) is 1 where indices[o, t] == d. An index outside [0, depth)
 * equals no d, so its row is all zeros.
 */
export function oneHotKernel(
  p: NodeKernel & { readonly indices: Shape; readonly depth: number; readonly axis: number; readonly dtype: DType },
): KernelSpec[] {
  const inner = sizeOf(p.indices.slice(p.axis));
  const size = dimMul(sizeOf(p.indices), p.depth);
  if (size === 0) return [];
  // Output element i is (o, d, t) with o·inner + t the index it reads.
  const body = [
    `let d = ${inner === 1 ? 'i' : `(i / ${wgslSize(inner)})`} % ${p.depth}u;`,
    `let index = indices[${inner === 1 ? `i / ${p.depth}u` : `(i / ${wgslSize(dimMul(p.depth, inner))}) * ${wgslSize(inner)} + i % ${wgslSize(inner)}`}];`,
    `out[i] = ${store(p.dtype === 'bool' ? 'index == i32(d)' : `select(${literal(0, p.dtype)}, ${literal(1, p.dtype)}, index == i32(d))`, p.dtype)};`,
  ];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name: p.name,
    header: p.header,
    limits: p.limits,
    decls: [bindings.storage(p.ids[0], 'indices', 'i32', 'read'), bindings.storage(p.ids[1], 'out', p.dtype, 'read_write')],
    invocations: size,
    body,
    ...(p.dims ? { dims: p.dims } : {}),
  });
  return [{ name: p.name, ...kernel, bindings: bindings.list }];
}
