/**
 * Pooling kernels for channel-first tensors ([N, C, spatial…], 1 to 3 spatial axes),
 * shapes and window geometry baked in. Each window is walked by helper functions whose
 * loops are clipped to the input (padding holds no element), in row-major window order,
 * so arg-max ties and sums come out as in the reference interpreter.
 *
 * - `pooledKernel`: one invocation per output element (maxPool, maxPoolGather, avgPool).
 * - `poolGradKernel`: where windows tile the input (stride = kernel, the common case), one
 *   invocation per window (pool-windows-unrolled.ts); otherwise one invocation per input
 *   element, summing the cotangents of the windows that hold it. The sum is gathered, not
 *   scattered (WGSL has no float atomics), so it is deterministic and adds in the
 *   reference's order. A max-pool gradient finds
 *   each such window's arg-max again: about (k/s)^d windows × k^d reads per element
 *   (3×3 windows, stride 2: 4 × 9), and no scratch buffer of arg-max indices.
 */

import type { KernelSpec, LoweringContext } from '../compiler/codegen/kernel.js';
import { KernelBindings, offsetExpr, perElementKernel, unravel } from '../compiler/codegen/wgsl.js';
import { sizeOf, stridesOf } from '../compiler/shape.js';
import type { IndexReducer } from '../compiler/codegen/reducer.js';
import type { PoolWindows } from './pool-windows-unrolled.js';
import { MAX_UNROLLED_TAPS, tiledPoolGradKernel, windowsTile } from './pool-windows-unrolled.js';

export type { PoolWindows } from './pool-windows-unrolled.js';

/**
 * What a pooling computes over each window: its arg-max's element (`max`), or the element
 * of input 1 there (`maxGather`), by argmax's preference `better` (the op's: a NaN beats
 * every number), or the window's average.
 */
export type WindowReduction = { readonly kind: 'max' | 'maxGather'; readonly better: IndexReducer['better'] } | { readonly kind: 'avg' | 'avgIncludePad' };

/** ` + 3i`, ` - 3i` or nothing: an i32 constant added to an expression. */
function plus(value: number): string {
  if (value === 0) return '';
  return value > 0 ? ` + ${value}i` : ` - ${-value}i`;
}

const axesOf = (w: PoolWindows): number[] => w.kernel.map((_, a) => a);

/** `o0: i32, o1: i32`: a window's coordinates as helper parameters. */
const windowParams = (w: PoolWindows): string => axesOf(w).map((a) => `o${a}: i32`).join(', ');

/** `o0, o1` (or `i32(o0), i32(o1)` for u32 coordinates): a window's coordinates as call arguments. */
const windowArgs = (w: PoolWindows, cast = false): string => axesOf(w).map((a) => (cast ? `i32(o${a})` : `o${a}`)).join(', ');

/** `let start0 = …;`: where each axis of window (o0, …) starts, padding counted. */
const startLines = (w: PoolWindows): string[] => axesOf(w).map((a) => `let start${a} = o${a} * ${w.stride[a]}i${plus(-w.padBefore[a]!)};`);

/** Nested loops over the input elements of window (o0, …), in row-major order, around `inner`. */
function windowLoops(w: PoolWindows, inner: readonly string[]): string[] {
  let lines = [...inner];
  for (const a of axesOf(w).reverse()) {
    lines = [
      `for (var p${a} = max(start${a}, 0i); p${a} < min(start${a} + ${w.kernel[a]}i, ${w.inputSize[a]}i); p${a} += 1i) {`,
      ...lines.map((line) => `  ${line}`),
      '}',
    ];
  }
  return [...startLines(w), ...lines];
}

/** The in-plane offset of input element (p0, …). */
const inputOffset = (w: PoolWindows): string => offsetExpr(axesOf(w).map((a) => `u32(p${a})`), stridesOf(w.inputSize));

/** The in-plane offset of output element (o0, …) (i32 coordinates). */
const outputOffset = (w: PoolWindows): string => offsetExpr(axesOf(w).map((a) => `u32(o${a})`), stridesOf(w.outputSize));

const helper = (comment: string, signature: string, body: readonly string[]): string =>
  ['', `// ${comment}`, `fn ${signature} {`, ...body.map((line) => `  ${line}`), '}'].join('\n');

/** `window_argmax(base, o…)`: the flat index in x of the window's first best element by `better`. */
function argmaxHelper(w: PoolWindows, better: IndexReducer['better']): string {
  return helper('The flat index in x of the first maximum of window (o…) in the plane at base; a NaN beats every number.', `window_argmax(base: u32, ${windowParams(w)}) -> u32`, [
    'var best = 0.0f;',
    'var best_at = 0u;',
    'var found = false;',
    ...windowLoops(w, [
      `let at = base + ${inputOffset(w)};`,
      'let v = x[at];',
      `if (!found || ${better.wgsl('v', 'best', 'f32')}) {`,
      '  best = v;',
      '  best_at = at;',
      '  found = true;',
      '}',
    ]),
    'return best_at;',
  ]);
}

/** `window_sum(base, o…)`: the sum of x over the window. */
function sumHelper(w: PoolWindows): string {
  return helper('The sum of x over window (o…) in the plane at base.', `window_sum(base: u32, ${windowParams(w)}) -> f32`, [
    'var total = 0.0f;',
    ...windowLoops(w, [`total += x[base + ${inputOffset(w)}];`]),
    'return total;',
  ]);
}

/** `window_divisor(o…)`: what an average divides the window's sum by. */
function divisorHelper(w: PoolWindows, includePad: boolean): string {
  const counts = axesOf(w).map((a) => {
    const end = `start${a} + ${w.kernel[a]}i`;
    return includePad
      ? `(min(${end}, ${w.inputSize[a]! + w.padAfter[a]!}i) - start${a})`
      : `(min(${end}, ${w.inputSize[a]}i) - max(start${a}, 0i))`;
  });
  const comment = includePad
    ? 'Window (o…)\'s input and padding elements (not the part of a ceil-mode window past the padding).'
    : 'The number of input elements in window (o…).';
  return helper(comment, `window_divisor(${windowParams(w)}) -> f32`, [...startLines(w), `return f32(${counts.join(' * ')});`]);
}

/** Splits flat `i` into `plane` and the coordinates `${prefix}0…` within a plane of `size`. */
function planeCoords(size: readonly number[], prefix: string): string[] {
  return [`let plane = i / ${sizeOf(size)}u;`, `let within = i % ${sizeOf(size)}u;`, unravel('within', size, prefix)];
}

/**
 * One invocation per output element [n, c, o…]: the maximum of its window (`max`), the
 * values at the window's arg-max in x (`maxGather`, input 1), or the window's average.
 */
export function pooledKernel(ctx: LoweringContext, w: PoolWindows, reduction: WindowReduction): KernelSpec[] {
  const out = ctx.node;
  // [N, C, o…]: a symbolic batch (N, or N·C) only sets how many planes there are.
  const total = sizeOf(out.shape);
  if (total === 0) return [];
  const x = ctx.inputs[0]!;
  const base = `plane * ${sizeOf(w.inputSize)}u`;
  const args = `${base}, ${windowArgs(w, true)}`;
  const value = reduction.kind !== 'avg' && reduction.kind !== 'avgIncludePad'
    ? `${reduction.kind === 'max' ? 'x' : 'values'}[window_argmax(${args})]`
    : `window_sum(${args}) / window_divisor(${windowArgs(w, true)})`;
  const reads = reduction.kind === 'maxGather' ? [x, ctx.inputs[1]!] : [x];
  const names = reduction.kind === 'maxGather' ? ['x', 'values'] : ['x'];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    limits: ctx.limits,
    name: ctx.name,
    header: ctx.header,
    decls: [...names.map((name, k) => bindings.storage(reads[k]!.id, name, 'f32', 'read')), bindings.storage(out.id, 'out', 'f32', 'read_write')],
    helpers: 'better' in reduction ? [...reduction.better.helpers('f32'), argmaxHelper(w, reduction.better)] : [sumHelper(w), divisorHelper(w, reduction.kind === 'avgIncludePad')],
    invocations: total,
    body: [...planeCoords(w.outputSize, 'o'), `out[i] = ${value};`],
    dims: ctx.dims,
  });
  return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
}

/**
 * One invocation per input element [n, c, p…]: the sum, over the windows holding it, of
 * the window's cotangent dy when the element is the window's arg-max (`max`; inputs x,
 * dy), or of dy over the window's divisor (`avg…`; input dy).
 */
export function poolGradKernel(ctx: LoweringContext, w: PoolWindows, reduction: WindowReduction & { readonly kind: 'max' | 'avg' | 'avgIncludePad' }): KernelSpec[] {
  const out = ctx.node;
  const total = sizeOf(out.shape);
  if (total === 0) return [];
  const isMax = reduction.kind === 'max';
  if (windowsTile(w) && sizeOf(w.kernel) <= MAX_UNROLLED_TAPS) {
    return tiledPoolGradKernel(ctx, w, 'better' in reduction ? { kind: 'max', better: reduction.better } : { kind: 'avg', divisor: divisorHelper(w, reduction.kind === 'avgIncludePad') });
  }
  const reads = isMax ? [ctx.inputs[0]!, ctx.inputs[1]!] : [ctx.inputs[0]!];
  const names = isMax ? ['x', 'dy'] : ['dy'];
  const cotangent = `dy[plane * ${sizeOf(w.outputSize)}u + ${outputOffset(w)}]`;
  const add = isMax
    ? [`if (window_argmax(plane * ${sizeOf(w.inputSize)}u, ${windowArgs(w)}) == i) {`, `  total += ${cotangent};`, '}']
    : [`total += ${cotangent} / window_divisor(${windowArgs(w)});`];
  let loops = add;
  for (const a of axesOf(w).reverse()) {
    loops = [`for (var o${a} = first${a}; o${a} <= last${a}; o${a} += 1i) {`, ...loops.map((line) => `  ${line}`), '}'];
  }
  // Window o holds p when o·s − b ≤ p < o·s − b + k: o from ⌊(p + b − k) / s⌋ + 1 (0 when
  // p + b < k, where i32 division would round toward zero) to ⌊(p + b) / s⌋, within range.
  const ranges = axesOf(w).flatMap((a) => {
    const [k, s, b] = [w.kernel[a]!, w.stride[a]!, w.padBefore[a]!];
    return [
      `let first${a} = select(0i, (i32(p${a})${plus(b - k)}) / ${s}i + 1i, i32(p${a}) >= ${k - b}i);`,
      `let last${a} = min((i32(p${a})${plus(b)}) / ${s}i, ${w.outputSize[a]! - 1}i);`,
    ];
  });
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    limits: ctx.limits,
    name: ctx.name,
    header: ctx.header,
    decls: [...names.map((name, k) => bindings.storage(reads[k]!.id, name, 'f32', 'read')), bindings.storage(out.id, 'out', 'f32', 'read_write')],
    helpers: 'better' in reduction ? [...reduction.better.helpers('f32'), argmaxHelper(w, reduction.better)] : [divisorHelper(w, reduction.kind === 'avgIncludePad')],
    invocations: total,
    body: [...planeCoords(w.inputSize, 'p'), ...ranges, 'var total = 0.0f;', ...loops, 'out[i] = total;'],
    dims: ctx.dims,
  });
  return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
}
