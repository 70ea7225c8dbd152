/**
 * Pooling windows walked with their taps unrolled (each window's input elements listed at
 * generation time, bounds checks only on taps that can fall into padding), for the
 * kernels of shaders/pool.ts whose windows are small enough to list.
 *
 * `tiledPoolGradKernel` is the gradient of a pooling whose windows tile the input: stride
 * equal to the kernel on every axis (so no two windows share an element) and every input
 * element in a window. There each element's gradient comes from exactly one window, so one
 * invocation per window (not per input element) writes its whole window: the cotangent at
 * its arg-max and zeros elsewhere (max), or its share of the cotangent everywhere (avg).
 * The arg-max is found once per window instead of once per element of it (4× fewer reads
 * for 2×2 windows), without loops or atomics, and each element is written once, so the
 * result is the per-element kernel's, bit for bit.
 */

import type { KernelSpec, LoweringContext } from '../compiler/codegen/kernel.js';
import { KernelBindings, offsetExpr, perElementKernel, unravel } from '../compiler/codegen/wgsl.js';
import { sizeOf, stridesOf } from '../compiler/shape.js';
import type { IndexReducer } from '../compiler/codegen/reducer.js';

/** The windows of one pooling over one [spatial…] plane (one image, one channel). */
export interface PoolWindows {
  readonly inputSize: readonly number[];
  readonly outputSize: readonly number[];
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
}

/** Most taps a window may have for its taps to be unrolled. */
export const MAX_UNROLLED_TAPS = 64;

/** Whether the windows of `w` tile its input: none overlaps another, and together they hold every element. */
export function windowsTile(w: PoolWindows): boolean {
  return w.kernel.every((k, a) => w.stride[a] === k && w.outputSize[a]! * k - w.padBefore[a]! >= w.inputSize[a]!);
}

/** One input element of window (o…): its in-plane offset (u32), and when it may lie in padding, where it does not. */
interface WindowTap {
  readonly offset: string;
  readonly inside?: string;
}

/**
 * The taps of window (o0, o1, …) (u32 coordinates in scope), in row-major window order,
 * with the `let` statements they read. A tap that can fall into padding reads a coordinate
 * clamped into the plane (its read stays in bounds) and carries the check that drops it.
 */
function windowTaps(w: PoolWindows): { setup: string[]; taps: WindowTap[] } {
  const setup: string[] = [];
  // Per axis and tap along it: the coordinate's name and its check, if any.
  const perAxis = w.kernel.map((k, a) =>
    Array.from({ length: k }, (_, t) => {
      const shift = t - w.padBefore[a]!;
      const low = shift < 0;
      const high = (w.outputSize[a]! - 1) * w.stride[a]! + shift >= w.inputSize[a]!;
      const start = w.stride[a] === 1 ? `o${a}` : `o${a} * ${w.stride[a]}u`;
      if (!low && !high) {
        setup.push(`let p${a}_${t} = ${shift === 0 ? start : `${start} + ${shift}u`};`);
        return { name: `p${a}_${t}`, inside: undefined };
      }
      const start32 = w.stride[a] === 1 ? `i32(o${a})` : `i32(o${a}) * ${w.stride[a]}i`;
      const checks = [...(low ? [`q${a}_${t} >= 0i`] : []), ...(high ? [`q${a}_${t} < ${w.inputSize[a]}i`] : [])];
      setup.push(
        `let q${a}_${t} = ${shift === 0 ? start32 : shift > 0 ? `${start32} + ${shift}i` : `${start32} - ${-shift}i`};`,
        `let in${a}_${t} = ${checks.join(' && ')};`,
        `let p${a}_${t} = u32(clamp(q${a}_${t}, 0i, ${w.inputSize[a]! - 1}i));`,
      );
      return { name: `p${a}_${t}`, inside: `in${a}_${t}` };
    }),
  );
  let taps: { names: string[]; checks: string[] }[] = [{ names: [], checks: [] }];
  for (const axis of perAxis) {
    taps = taps.flatMap((tap) => axis.map((c) => ({ names: [...tap.names, c.name], checks: [...tap.checks, ...(c.inside ? [c.inside] : [])] })));
  }
  const strides = stridesOf(w.inputSize);
  return {
    setup,
    taps: taps.map((tap) => ({ offset: offsetExpr(tap.names, strides), ...(tap.checks.length > 0 ? { inside: tap.checks.join(' && ') } : {}) })),
  };
}

/**
 * Statements leaving in `best_t` the index (in `taps`) of the window's first best element
 * of x by `better`, for taps read at `base` plus their offset; branch-free (selects), so
 * invocations run it in lockstep.
 */
function unrolledArgmax(taps: readonly WindowTap[], base: string, better: IndexReducer['better']): string[] {
  // `found` is only needed while the taps so far may all have been padding.
  let certain = false;
  const lines: string[] = [];
  taps.forEach((tap, t) => {
    lines.push(`let v${t} = x[${base} + ${tap.offset}];`);
    if (t === 0) {
      lines.push(`var best = v0;`, `var best_t = 0u;`);
      if (tap.inside) lines.push(`var found = ${tap.inside};`);
      certain = !tap.inside;
      return;
    }
    const wins = certain ? better.wgsl(`v${t}`, 'best', 'f32') : `(!found || ${better.wgsl(`v${t}`, 'best', 'f32')})`;
    lines.push(`let take${t} = ${tap.inside ? `${tap.inside} && ${wins}` : wins};`);
    lines.push(`best = select(best, v${t}, take${t});`, `best_t = select(best_t, ${t}u, take${t});`);
    if (!certain) lines.push(tap.inside ? `found = found || ${tap.inside};` : 'found = true;');
    certain ||= !tap.inside;
  });
  return lines;
}

/**
 * One invocation per window [n, c, o…] of a pooling whose windows tile the input (see the
 * module comment): writes every input element of its window. `divisor` is the average's
 * `window_divisor` helper (absent for max).
 */
export function tiledPoolGradKernel(
  ctx: LoweringContext,
  w: PoolWindows,
  reduction: { readonly kind: 'max'; readonly better: IndexReducer['better'] } | { readonly kind: 'avg'; readonly divisor: string },
): KernelSpec[] {
  const out = ctx.node;
  const isMax = reduction.kind === 'max';
  const dy = isMax ? ctx.inputs[1]! : ctx.inputs[0]!;
  const windows = sizeOf(dy.shape);
  if (sizeOf(out.shape) === 0) return [];
  const { setup, taps } = windowTaps(w);
  const base = 'base';
  const write = (tap: WindowTap, value: string): string => {
    const store = `out[${base} + ${tap.offset}] = ${value};`;
    return tap.inside ? `if (${tap.inside}) { ${store} }` : store;
  };
  const coords = w.kernel.map((_, a) => `i32(o${a})`).join(', ');
  const body = [
    `let plane = i / ${sizeOf(w.outputSize)}u;`,
    `let within = i % ${sizeOf(w.outputSize)}u;`,
    unravel('within', w.outputSize, 'o'),
    `let ${base} = plane * ${sizeOf(w.inputSize)}u;`,
    ...setup,
    ...(isMax
      ? ['let gradient = dy[i];', ...unrolledArgmax(taps, base, reduction.better), ...taps.map((tap, t) => write(tap, `select(0.0f, gradient, best_t == ${t}u)`))]
      : [`let share = dy[i] / window_divisor(${coords});`, ...taps.map((tap) => write(tap, 'share'))]),
  ];
  const names = isMax ? ['x', 'dy'] : ['dy'];
  const reads = isMax ? [ctx.inputs[0]!, dy] : [dy];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    limits: ctx.limits,
    name: ctx.name,
    header: [...ctx.header, `windows tile the input: one invocation per window writes its ${taps.length} elements`],
    decls: [...names.map((name, k) => bindings.storage(reads[k]!.id, name, 'f32', 'read')), bindings.storage(out.id, 'out', 'f32', 'read_write')],
    helpers: isMax ? [...reduction.better.helpers('f32')] : [reduction.divisor],
    invocations: windows,
    body,
    dims: ctx.dims,
  });
  return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
}
