/**
 * Data-movement kernels: strided copies (transpose, broadcastTo, slice), pad and concat.
 * They move stored values as they are (bool stays u32 0/1, f32 keeps -0 and NaN
 * payloads), so one template serves every dtype. One invocation per output element:
 * each reads at most one input element, so writes never race and no pass needs a
 * scratch buffer. Empty outputs emit no kernel.
 */

import type { DType } from '../compiler/dtype.js';
import type { KernelSpec, LoweringContext } from '../compiler/codegen/kernel.js';
import { KernelBindings, literal, perElementKernel, unravel, wgslSize } from '../compiler/codegen/wgsl.js';
import { sizeOf, stridesOf } from '../compiler/shape.js';
import type { Dim } from '../compiler/dims.js';
import { dimAdd, dimMul, isSymbolic } from '../compiler/dims.js';

/** A kernel reading the node's one input `x` and writing `out`, one invocation per output element. */
function unaryKernel(ctx: LoweringContext, size: Dim, body: readonly string[]): KernelSpec {
  const [x] = ctx.inputs;
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name: ctx.name,
    header: ctx.header,
    limits: ctx.limits,
    decls: [bindings.storage(x!.id, 'x', x!.dtype, 'read'), bindings.storage(ctx.node.id, 'out', ctx.node.dtype, 'read_write')],
    invocations: size,
    body,
    dims: ctx.dims,
  });
  return { name: ctx.name, ...kernel, bindings: bindings.list };
}

/** A value of `dtype` as its buffer stores it (bool as u32 0/1), for writing without conversion. */
export function storedLiteral(value: number, dtype: DType): string {
  return dtype === 'bool' ? (value !== 0 ? '1u' : '0u') : literal(value, dtype);
}


/** The sign of a stride: a symbolic one's is its terms' (a slice's step times sizes, so they agree). */
function signOf(s: Dim): number {
  return isSymbolic(s) ? Math.sign(s.terms[0]!.coefficient) : Math.sign(s);
}

/**
 * `base + c0 * s0 + …` for strides of either sign. Positive terms come before negative
 * ones, so the u32 sum never dips below zero on the way to a valid (non-negative) offset.
 */
function signedOffset(base: Dim, coords: readonly string[], strides: readonly Dim[]): string {
  const magnitude = (s: Dim): Dim => (signOf(s) < 0 ? dimMul(s, -1) : s);
  const term = (c: string, s: Dim): string => (magnitude(s) === 1 ? c : `${c} * ${wgslSize(magnitude(s))}`);
  const plus = coords.flatMap((c, a) => (signOf(strides[a]!) > 0 ? [term(c, strides[a]!)] : []));
  const minus = coords.flatMap((c, a) => (signOf(strides[a]!) < 0 ? [term(c, strides[a]!)] : []));
  const head = [...(base !== 0 || plus.length === 0 ? [wgslSize(base)] : []), ...plus].join(' + ');
  return [head, ...minus].join(' - ');
}

/**
 * A gather by strides: output element c reads input element `base + Σ c[a]·strides[a]`.
 * Transpose (permuted strides), broadcastTo (stride 0 on repeated axes) and slice
 * (start offset, step-scaled strides, negative for backward steps) are all this kernel.
 */
export function stridedCopyKernel(ctx: LoweringContext, read: { base: Dim; strides: readonly Dim[] }): KernelSpec[] {
  const out = ctx.node;
  const size = sizeOf(out.shape);
  if (size === 0) return [];
  const coords = out.shape.map((_, a) => `c${a}`);
  const moves = read.strides.some((s) => s !== 0);
  const body = [
    ...(moves ? [unravel('i', out.shape, 'c')] : []),
    `out[i] = x[${moves ? signedOffset(read.base, coords, read.strides) : wgslSize(read.base)}];`,
  ];
  return [unaryKernel(ctx, size, body)];
}

/**
 * Constant pad with interior padding: output element c holds input element x where, on
 * every axis, c = before + x·(interior + 1); every other element holds the fill value.
 */
export function padKernel(
  ctx: LoweringContext,
  attrs: { before: readonly Dim[]; after: readonly Dim[]; interior: readonly number[]; value: number },
): KernelSpec[] {
  const out = ctx.node;
  const x = ctx.inputs[0]!;
  const size = sizeOf(out.shape);
  if (size === 0) return [];
  const fill = storedLiteral(attrs.value, out.dtype);
  if (sizeOf(x.shape) === 0) {
    // Nothing to place: all fill. Only the output is bound (auto layouts drop bindings a shader never reads).
    const bindings = new KernelBindings();
    const kernel = perElementKernel({
      limits: ctx.limits,
      name: ctx.name,
      header: ctx.header,
      decls: [bindings.storage(out.id, 'out', out.dtype, 'read_write')],
      invocations: size,
      body: [`out[i] = ${fill};`],
      dims: ctx.dims,
    });
    return [{ name: ctx.name, ...kernel, bindings: bindings.list }];
  }
  const lines = [unravel('i', out.shape, 'c')];
  const conditions: string[] = [];
  const sourceCoords = x.shape.map((n, a) => {
    const [before, gap, after] = [attrs.before[a]!, attrs.interior[a]! + 1, attrs.after[a]!];
    let position = `c${a}`;
    // A symbolic width (a slice's gradient over a symbolic axis) may be positive: it is checked.
    if (isSymbolic(before) || before > 0) {
      conditions.push(`c${a} >= ${wgslSize(before)}`);
      // Wraps when c < before; the condition above (&& short-circuits) discards that case.
      lines.push(`let p${a} = c${a} - ${wgslSize(before)};`);
      position = `p${a}`;
    }
    let coord = position;
    if (gap > 1) {
      conditions.push(`${position} % ${gap}u == 0u`);
      lines.push(`let src${a} = ${position} / ${gap}u;`);
      coord = `src${a}`;
    }
    // Without after-padding the coordinate cannot run past the operand's last element.
    if (isSymbolic(after) || after > 0) conditions.push(`${coord} < ${wgslSize(n)}`);
    return coord;
  });
  const read = `x[${signedOffset(0, sourceCoords, stridesOf(x.shape))}]`;
  const body =
    conditions.length === 0
      ? [...lines, `out[i] = ${read};`]
      : [...lines, `if (${conditions.join(' && ')}) {`, `  out[i] = ${read};`, '} else {', `  out[i] = ${fill};`, '}'];
  return [unaryKernel(ctx, size, body)];
}

/**
 * Concat as one kernel per operand, each copying its operand into its stretch of the
 * shared output. Every kernel binds two buffers, so any number of operands works within
 * maxStorageBuffersPerShaderStage; the runtime dispatches a node's kernels in order in one
 * pass, and the stretches are disjoint. In row-major order the output is `outer` rows of
 * the operands' runs (`axis size × inner` elements each) laid side by side.
 */
export function concatKernels(ctx: LoweringContext, axis: number): KernelSpec[] {
  const out = ctx.node;
  const outer = sizeOf(out.shape.slice(0, axis));
  const row = sizeOf(out.shape.slice(axis));
  const specs: KernelSpec[] = [];
  let at: Dim = 0;
  let axisStart: Dim = 0;
  ctx.inputs.forEach((part, k) => {
    const run = sizeOf(part.shape.slice(axis));
    const [start, from] = [at, axisStart];
    at = dimAdd(at, run);
    axisStart = dimAdd(axisStart, part.shape[axis]!);
    const size = sizeOf(part.shape);
    if (size === 0) return;
    const name = `${ctx.name}_part${k}`;
    const header = [...ctx.header, `operand ${k} (%${part.id}) fills axis ${axis} at [${from}, ${axisStart})`];
    const shifted = (index: string): string => (start === 0 ? index : `${wgslSize(start)} + ${index}`);
    const to = outer === 1 ? shifted('i') : `(i / ${wgslSize(run)}) * ${wgslSize(row)} + ${shifted(`i % ${wgslSize(run)}`)}`;
    const bindings = new KernelBindings();
    const kernel = perElementKernel({
      limits: ctx.limits,
      name,
      header,
      decls: [bindings.storage(part.id, 'part', part.dtype, 'read'), bindings.storage(out.id, 'out', out.dtype, 'read_write')],
      invocations: size,
      body: [`out[${to}] = part[i];`],
      dims: ctx.dims,
    });
    specs.push({ name, ...kernel, bindings: bindings.list });
  });
  return specs;
}
