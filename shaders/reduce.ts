/**
 * Reductions (sum, mean, max, min, prod, logsumexp, argmax, argmin) over any set of
 * axes: one invocation per output element, looping over its group. The input's axes
 * are first coalesced (size-1 axes dropped, neighbours that are contiguous in memory
 * merged), so a reduction over the trailing axes is one loop walking contiguous memory
 * and a reduction over leading axes lets neighbouring invocations read neighbouring
 * elements. Long groups, or a few groups of medium length, go to the tree kernel of
 * reduce-tree.ts instead (suffix `_tree`): a workgroup per output, or per few outputs;
 * a tuning table can choose otherwise per shape class (compiler/codegen/tuning.ts).
 *
 * What each reduction computes (its start, combine, finalize, NaN behaviour) is its
 * `Reducer` (compiler/codegen/reducer.ts), given by the op; this file only arranges loops.
 *
 * Also here: the fill kernel that writes the value of an empty reduction (sum 0, prod 1,
 * mean NaN, logsumexp −∞; an empty matmul is an empty sum).
 */

import type { DType } from '../compiler/dtype.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { KernelBindings, literal, load, perElementKernel, sizeForChoices, store, unravel, wgslSize } from '../compiler/codegen/wgsl.js';
import type { Epilogue, KernelSpec, Prologue } from '../compiler/codegen/kernel.js';
import type { Reducer } from '../compiler/codegen/reducer.js';
import { emptyValue, finalizeWgsl, foldPasses, reducerHelpers } from '../compiler/codegen/reducer.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf, stridesOf } from '../compiler/shape.js';
import type { Dim } from '../compiler/dims.js';
import { dimMul, dimProduct } from '../compiler/dims.js';
import type { Run } from './reduce-tree.js';
import { treeReduceKernel, treeWorkgroupSize } from './reduce-tree.js';
// Declared in reduce-tree.ts, which this module imports (so the two do not import each other).
export type { Run } from './reduce-tree.js';
import type { ReduceStrategy, TuningTable } from '../compiler/codegen/tuning.js';
import { reduceStrategyFor } from '../compiler/codegen/tuning.js';


/** A kernel writing `value` to every element of node `id`'s buffer (nothing when it is empty). */
export function fillKernel(spec: {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  readonly id: number;
  readonly size: Dim;
  readonly dtype: DType;
  readonly value: number;
  /** The plan's dims (`LoweringContext.dims`), for a symbolic size. */
  readonly dims?: readonly string[];
}): KernelSpec {
  const name = `${spec.name}_fill`;
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name,
    header: [...spec.header, `reduces over nothing: every element is ${spec.value}`],
    limits: spec.limits,
    decls: [bindings.storage(spec.id, 'out', spec.dtype, 'read_write')],
    invocations: spec.size,
    body: [`out[i] = ${store(literal(spec.value, spec.dtype), spec.dtype)};`],
    ...(spec.dims ? { dims: spec.dims } : {}),
  });
  return { name, ...kernel, bindings: bindings.list };
}

/**
 * Drops size-1 axes and merges each axis into the one before it when the pair is one
 * contiguous range (outer stride = inner stride · inner size). Row-major order is kept,
 * so a flat index over the runs is the flat index over the original axes.
 */
export function coalesce(shape: Shape, strides: readonly Dim[]): Run[] {
  const runs: Run[] = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const stride = strides[axis]!;
    const last = runs[runs.length - 1];
    // Dims are interned, so a symbolic product compares with ===.
    if (last && last.stride === dimMul(stride, size)) runs[runs.length - 1] = { size: dimMul(last.size, size), stride };
    else runs.push({ size, stride });
  });
  return runs;
}

export interface ReduceProblem {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  /** What the reduction computes (the op's reducer). */
  readonly reducer: Reducer;
  /** Node ids of the input and the output. */
  readonly ids: readonly [number, number];
  /** The input's shape and dtype; the output is the kept axes (keepdims does not change the layout). */
  readonly shape: Shape;
  readonly dtype: DType;
  /** Reduced axes, sorted. */
  readonly axes: readonly number[];
  /** Fused elementwise consumers: each result goes through `kiln_epilogue(i, value)` instead of a store. */
  readonly epilogue?: Epilogue;
  /** Fused elementwise producers: input element j is `kiln_prologue(j)` instead of a read of x. */
  readonly prologue?: Prologue;
  /** The adapter's measured choice of tree or one invocation per output, by shape class. */
  readonly tuning?: TuningTable;
  /** Forces the tree or the one-invocation-per-output kernel (benchmarks compare them); default: by shape and tuning. */
  readonly strategy?: 'tree' | 'perOutput';
  /** The plan's dims (`LoweringContext.dims`): needed when a size is symbolic. */
  readonly dims?: readonly string[];
}

/**
 * Tree or one invocation per output, by shape class and tuning. A symbolic size is
 * unknown until a run: the choice is made at `sizeForChoices` (both kernels loop to the
 * run's size), so a plan for any batch chooses as the static plan for 64 does.
 */
function strategyFor(tuning: TuningTable | undefined, groupSize: Dim, outSize: Dim): ReduceStrategy {
  return reduceStrategyFor(tuning, sizeForChoices(groupSize), sizeForChoices(outSize));
}

/**
 * Nested loops over the reduced runs (outermost first), calling `visit(value, position)`
 * for each element: `value` reads it, `position` is its flat index within the group.
 */
function loopOver(runs: readonly Run[], start: string, visit: (value: string, position: string) => string[], read: (at: string) => string): string[] {
  const lines: string[] = [];
  let at = start;
  const positions: string[] = [];
  runs.forEach((run, j) => {
    const indent = '  '.repeat(j);
    lines.push(`${indent}for (var r${j} = 0u; r${j} < ${wgslSize(run.size)}; r${j}++) {`);
    const next = `${at === '0u' ? '' : `${at} + `}${run.stride === 1 ? `r${j}` : `r${j} * ${wgslSize(run.stride)}`}`;
    positions.push(`r${j}`);
    lines.push(`${indent}  let at${j} = ${next};`);
    at = `at${j}`;
  });
  const later = (j: number): Dim => dimProduct(runs.slice(j + 1).map((r) => r.size));
  const position = positions.map((r, j) => (later(j) === 1 ? r : `${r} * ${wgslSize(later(j))}`)).join(' + ') || '0u';
  const indent = '  '.repeat(runs.length);
  lines.push(`${indent}let v = ${read(at)};`, ...visit('v', position).map((l) => `${indent}${l}`));
  for (let j = runs.length - 1; j >= 0; j--) lines.push(`${'  '.repeat(j)}}`);
  // A group of one element has no loop; its own scope still keeps `v` local to this pass.
  return runs.length > 0 ? lines : ['{', ...lines.map((l) => `  ${l}`), '}'];
}

/**
 * Drops a helper function block (a whole `fn … }` entry) already declared earlier: a
 * prologue and an epilogue each bring the helpers they need, and WGSL refuses a function
 * declared twice (kiln_inf, say, when both hold an infinity).
 */
function withoutRepeatedHelpers(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((line) => {
    if (!/^\s*fn [\s\S]*}\s*$/.test(line)) return true;
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

/** Emits the reduction kernel (a fill for an empty group; nothing for an empty output). */
export function reduceKernel(p: ReduceProblem): KernelSpec[] {
  const { reducer, shape, axes, dtype } = p;
  const strides = stridesOf(shape);
  const kept = shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const outSize = sizeOf(kept.map((a) => shape[a]!));
  const outDtype: DType = reducer.kind === 'index' ? 'i32' : dtype;
  if (outSize === 0) return [];
  const groupSize = sizeOf(axes.map((a) => shape[a]!));
  if (groupSize === 0) {
    const value = emptyValue(reducer);
    if (value === undefined) throw new RangeError(`reduceKernel: ${reducer.op} of an empty group has no value`);
    if (p.epilogue) return [epilogueOfConstant(p.name, p.header, p.limits, p.epilogue, outSize, literal(value, outDtype), p.dims)];
    return [fillKernel({ name: p.name, header: p.header, limits: p.limits, id: p.ids[1], size: outSize, dtype: outDtype, value, ...(p.dims ? { dims: p.dims } : {}) })];
  }

  // Where the group of output element i starts: the kept coordinates of i under the input's strides.
  const keptRuns = coalesce(
    kept.map((a) => shape[a]!),
    kept.map((a) => strides[a]!),
  );
  const reducedRuns = coalesce(
    axes.map((a) => shape[a]!),
    axes.map((a) => strides[a]!),
  );
  const groupStart = (index: string): string[] => {
    if (keptRuns.length === 0) return ['let base = 0u;'];
    if (keptRuns.length === 1) return [`let base = ${keptRuns[0]!.stride === 1 ? index : `${index} * ${wgslSize(keptRuns[0]!.stride)}`};`];
    return [unravel(index, keptRuns.map((r) => r.size), 'c'), `let base = ${keptRuns.map((r, j) => (r.stride === 1 ? `c${j}` : `c${j} * ${wgslSize(r.stride)}`)).join(' + ')};`];
  };
  const read = (at: string): string => (p.prologue ? `kiln_prologue(${at})` : load('x', at, dtype));
  const declared = new KernelBindings();
  const decls = withoutRepeatedHelpers([
    ...(p.prologue ? declared.fused(p.prologue) : [declared.storage(p.ids[0], 'x', dtype, 'read')]),
    ...(p.epilogue ? declared.fused(p.epilogue) : [declared.storage(p.ids[1], 'out', outDtype, 'read_write')]),
  ]);
  const bindings = declared.list;
  const suffix = `${p.prologue ? '_prologue' : ''}${p.epilogue ? '_epilogue' : ''}`;
  const deliver = (index: string, value: string): string => (p.epilogue ? `kiln_epilogue(${index}, ${value});` : `out[${index}] = ${store(value, outDtype)};`);
  const helpers = reducerHelpers(reducer, dtype);
  // A device whose workgroup storage cannot hold a tree's partial results gets one invocation per output.
  if ((p.strategy ?? strategyFor(p.tuning, groupSize, outSize)) === 'tree' && treeWorkgroupSize(p.limits, reducer) > 0) {
    const name = `${p.name}_tree${suffix}`;
    const tree = treeReduceKernel({
      name,
      header: p.header,
      limits: p.limits,
      reducer,
      dtype,
      keptRuns,
      reducedRuns,
      groupSize,
      outSize,
      read,
      groupStart,
      deliver,
      decls,
      helpers,
      ...(p.dims ? { dims: p.dims } : {}),
    });
    return [{ name, ...tree, bindings }];
  }
  const body = groupStart('i');
  const loop = (visit: (value: string, position: string) => string[]): string[] => loopOver(reducedRuns, 'base', visit, read);
  const first = read('base');
  let result: string;
  if (reducer.kind === 'fold') {
    // A shifted reducer (logsumexp) folds its shift into group_max, then the shifted values into total.
    const names = reducer.shift ? { acc: 'total', shift: 'group_max' } : { acc: 'acc', shift: 'group_max' };
    body.push(...foldPasses(reducer, names, first, dtype, loop));
    result = finalizeWgsl(reducer, names.acc, { count: groupSize, shift: names.shift });
  } else {
    body.push(`var best = ${first};`, 'var best_index = 0u;');
    body.push(...loop((v, position) => [`if (${reducer.better.wgsl(v, 'best', dtype)}) {`, `  best = ${v};`, `  best_index = ${position};`, '}']));
    result = 'i32(best_index)';
  }
  body.push(deliver('i', result));
  const kernel = perElementKernel({
    name: p.name,
    header: [...p.header, `${reducer.op} over groups of ${groupSize}, one invocation per output element`],
    limits: p.limits,
    decls,
    invocations: outSize,
    body,
    helpers,
    ...(p.dims ? { dims: p.dims } : {}),
  });
  return [{ name: `${p.name}${suffix}`, ...kernel, bindings }];
}

/** A kernel that runs an epilogue on a constant for every output element (an empty reduction or matmul). */
export function epilogueOfConstant(
  name: string,
  header: readonly string[],
  limits: KernelLimits,
  epilogue: Epilogue,
  size: Dim,
  value: string,
  dims?: readonly string[],
): KernelSpec {
  const bindings = new KernelBindings();
  const kernel = perElementKernel({ name, header, limits, decls: bindings.fused(epilogue), invocations: size, body: [`kiln_epilogue(i, ${value});`], ...(dims ? { dims } : {}) });
  return { name: `${name}_epilogue`, ...kernel, bindings: bindings.list };
}
