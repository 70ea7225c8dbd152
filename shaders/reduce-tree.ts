/**
 * Tree reductions for long groups (or too few outputs to keep a GPU busy): a workgroup
 * reduces a few output elements at once, `threads` invocations per output each folding a
 * strided slice of its group (positions t, t + threads, …), then the partial results meet
 * in workgroup memory, up to 16 at a time, so a tree of 256 has two levels (two barriers,
 * where halving took nine). Only the first invocation of each output runs the epilogue
 * (or stores). The one-invocation-per-output kernel in reduce.ts stays the
 * choice for short groups and many outputs, where it needs no barriers (which reductions
 * take the tree: compiler/codegen/tuning.ts, `reduceStrategyFor`).
 *
 * When the outputs are the contiguous axis and the group is strided (a sum over the batch
 * axis), a workgroup takes several neighbouring outputs, so neighbouring invocations read
 * neighbouring elements.
 */

import type { DType } from '../compiler/dtype.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { WorkgroupArray } from '../compiler/codegen/wgsl.js';
import type { WorkgroupCount } from '../compiler/codegen/wgsl.js';
import { WORKGROUP_SIZE, grid, workgroupKernelSource, workgroupStorageBytes, maxWorkgroupWidth, sizeForChoices, specialFloatHelpers, storageType, unravel, wgslSize } from '../compiler/codegen/wgsl.js';
import { FEW_OUTPUTS } from '../compiler/codegen/tuning.js';
import type { FoldReducer, Reducer } from '../compiler/codegen/reducer.js';
import { combineStatement, finalizeWgsl, foldStart } from '../compiler/codegen/reducer.js';
import { operand } from './elementwise.js';
import type { Dim } from '../compiler/dims.js';
import { dimSub, isSymbolic } from '../compiler/dims.js';

/** An axis (or several merged) as a loop sees it: its extent and its stride in elements. */
export interface Run {
  readonly size: Dim;
  readonly stride: Dim;
}

/** At most this many neighbouring outputs per workgroup, enough for a 64-byte row of f32. */
const MAX_OUTPUTS_PER_WORKGROUP = 16;
/** Each invocation folds at least this many elements before the tree, so barriers stay a small share. */
const MIN_ELEMENTS_PER_THREAD = 4;
/** The largest workgroup used; WebGPU guarantees 256 invocations (and 256 along x). */
const MAX_WORKGROUP = 256;
/**
 * Invocations per output when there are many outputs: they keep a GPU busy already, and
 * fewer invocations per output mean fewer barrier steps (which a CPU adapter runs as
 * context switches: 256 per row made 1024 rows of 1024 6× slower than 64 on SwiftShader).
 */
const THREADS_PER_OUTPUT_WHEN_MANY = 64;
/** The most partial results one invocation combines per tree level: 256 take two levels. */
const MAX_FAN_IN = 16;

/** The reduction as reduce.ts has prepared it: runs, reads and where results go. */
export interface TreeReduction {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  readonly reducer: Reducer;
  /** The dtype of the values reduced (the output's, except for the arg reductions' i32). */
  readonly dtype: DType;
  readonly keptRuns: readonly Run[];
  readonly reducedRuns: readonly Run[];
  readonly groupSize: Dim;
  readonly outSize: Dim;
  /** The value of input element `at` (a buffer read or the prologue). */
  readonly read: (at: string) => string;
  /** Statements defining `base`, the input offset where the group of output element `index` starts. */
  readonly groupStart: (index: string) => string[];
  /** The statement that delivers `value` as output element `index` (a store or the epilogue). */
  readonly deliver: (index: string, value: string) => string;
  readonly decls: readonly string[];
  readonly helpers: readonly string[];
  /** The plan's dims: needed when a size is symbolic. */
  readonly dims?: readonly string[];
}

const floorPow2 = (x: number): number => 2 ** Math.floor(Math.log2(Math.max(1, x)));
const ceilPow2 = (x: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/**
 * The workgroup's shape: `outputs` neighbouring outputs × `threads` invocations each, a
 * power of two within the invocation limit and with the partial results (4 bytes each, 8
 * for an index reduction's value and index) within the workgroup-storage limit. A
 * symbolic size is unknown until a run: a symbolic output count counts as many (and
 * bounds no workgroup), a symbolic group bounds no thread count.
 */
export function treeShape(r: Pick<TreeReduction, 'limits' | 'reducer' | 'keptRuns' | 'reducedRuns' | 'groupSize' | 'outSize'>): {
  outputs: number;
  threads: number;
} {
  const size = treeWorkgroupSize(r.limits, r.reducer);
  // Neighbouring outputs share a workgroup only when they sit next to each other in memory and the group does not.
  const outputsAdjacent = r.keptRuns[r.keptRuns.length - 1]?.stride === 1 && r.reducedRuns[r.reducedRuns.length - 1]?.stride !== 1;
  // A symbolic size is taken at sizeForChoices: the kernel loops to the run's size either way.
  const outSize = sizeForChoices(r.outSize);
  const outputs = outputsAdjacent ? Math.min(MAX_OUTPUTS_PER_WORKGROUP, ceilPow2(outSize), size) : 1;
  const cap = outSize >= FEW_OUTPUTS ? THREADS_PER_OUTPUT_WHEN_MANY : size;
  const threads = Math.max(1, Math.min(size / outputs, cap, floorPow2(sizeForChoices(r.groupSize) / MIN_ELEMENTS_PER_THREAD)));
  return { outputs, threads };
}

/**
 * The largest workgroup (a power of two) a tree may use on a device with `limits`: within
 * the invocation limits, with its partial results (a value per invocation, and an index
 * for argmax/argmin) within the workgroup storage. 0 when not even one invocation's fits.
 */
export function treeWorkgroupSize(limits: KernelLimits, reducer: Reducer): number {
  let size = Math.min(MAX_WORKGROUP, floorPow2(maxWorkgroupWidth(limits)));
  // Every element type takes 4 bytes, so the dtype's does not change the size.
  while (size >= 1 && workgroupStorageBytes(partialArrays(reducer, 'f32', size)) > limits.maxComputeWorkgroupStorageSize) size /= 2;
  return size >= 1 ? size : 0;
}

/** The tree's partial results in workgroup memory: a value per invocation, and for argmax/argmin its position. */
function partialArrays(reducer: Reducer, type: WorkgroupArray['elementType'], size: number): WorkgroupArray[] {
  return [{ name: 'partial', elementType: type, length: size }, ...(reducer.kind === 'index' ? [{ name: 'partial_index', elementType: 'u32' as const, length: size }] : [])];
}

/** WGSL for the input offset of group position `position` (the reduced runs, row-major). */
function offsetOf(runs: readonly Run[], position: string): string[] {
  if (runs.length === 1) return [`let at = base + ${runs[0]!.stride === 1 ? position : `${position} * ${wgslSize(runs[0]!.stride)}`};`];
  const coords = unravel(position, runs.map((r) => r.size), 'r');
  return [coords, `let at = base + ${runs.map((r, j) => (r.stride === 1 ? `r${j}` : `r${j} * ${wgslSize(r.stride)}`)).join(' + ')};`];
}

/**
 * The fan-in of each level of the tree over `threads` partial results (a power of two):
 * as few levels as MAX_FAN_IN allows, the bits split evenly (256 = 16·16, 64 = 8·8,
 * 16 = 16). Every level costs a barrier, and a barrier costs a CPU adapter a context
 * switch per few invocations; reading 16 partial results in a row costs a GPU little more
 * than a halving step.
 */
function treeLevels(threads: number): number[] {
  const bits = Math.round(Math.log2(threads));
  const count = Math.ceil(bits / Math.log2(MAX_FAN_IN));
  return Array.from({ length: count }, (_, level) => 2 ** (Math.floor(bits / count) + (level < bits % count ? 1 : 0)));
}

/** Emits the tree kernel's WGSL and dispatch size. */
export function treeReduceKernel(r: TreeReduction): Pick<KernelSpec, 'wgsl' | 'workgroups' | 'foldX' | 'readsDims' | 'workgroupSize' | 'workgroupStorageBytes'> {
  const { reducer, dtype, groupSize, outSize } = r;
  const { outputs, threads } = treeShape(r);
  const size = outputs * threads;
  const u = (x: number): string => `${x}u`;
  // One workgroup per `outputs` outputs: the 2-D folding of `grid` for a static count; a
  // symbolic one the runtime computes per run, folding x into y (the width read from num_workgroups).
  let workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount];
  let groupIndex: string;
  let groupCount: string;
  if (isSymbolic(outSize)) {
    workgroups = [{ size: outSize, per: outputs }, 1, 1];
    groupIndex = 'wid.y * nwg.x + wid.x';
    groupCount = outputs === 1 ? wgslSize(outSize) : `(${wgslSize(outSize)} + ${u(outputs - 1)}) / ${u(outputs)}`;
  } else {
    const groups = Math.ceil(outSize / outputs);
    const g = grid(groups * WORKGROUP_SIZE, r.limits);
    workgroups = g.workgroups;
    const [width] = g.workgroups;
    groupIndex = `wid.y * ${typeof width === 'number' ? u(width) : 'nwg.x'} + wid.x`;
    groupCount = u(groups);
  }
  // Every output's group is whole when the outputs divide evenly into workgroups.
  const even = outputs === 1 || (!isSymbolic(outSize) && outSize % outputs === 0);
  const type = storageType(dtype);

  // Each invocation's slice of the group; `visit` folds value `v` at group position `position`.
  const slice = (visit: string[]): string[] => [
    `for (var position = thread; position < ${wgslSize(groupSize)}; position += ${u(threads)}) {`,
    ...offsetOf(r.reducedRuns, 'position').map((l) => `  ${l}`),
    `  let v = ${r.read('at')};`,
    ...visit.map((l) => `  ${l}`),
    '}',
  ];
  // Partial results meet in a tree of at most MAX_FAN_IN per level (see treeLevels); the
  // last level's invocation delivers, so a barrier follows it only when every invocation
  // reads the result back (`everyoneReads`: the shift of logsumexp).
  const tree = (combine: string[], everyoneReads = false): string[] => {
    const lines = ['workgroupBarrier();'];
    let width = threads;
    treeLevels(threads).forEach((fanIn, level, levels) => {
      width /= fanIn;
      lines.push(
        `if (thread < ${u(width)}) {`,
        `  for (var j = 1u; j < ${u(fanIn)}; j++) {`,
        `    let other = lid + j * ${u(width * outputs)};`,
        ...combine.map((l) => `    ${l}`),
        '  }',
        '}',
      );
      if (level < levels.length - 1 || everyoneReads) lines.push('workgroupBarrier();');
    });
    return lines;
  };

  const body: string[] = [
    `let group = ${groupIndex};`,
    // Uniform per workgroup, so returning here keeps every barrier in uniform control flow.
    `if (group >= ${groupCount}) { return; }`,
    `let thread = ${outputs === 1 ? 'lid' : `lid / ${u(outputs)}`};`,
    `let index = ${outputs === 1 ? 'group' : `group * ${u(outputs)} + lid % ${u(outputs)}`};`,
    // Past the last output an invocation still joins the barriers, reducing the last group again.
    ...(even ? ['let clamped = index;'] : [`let clamped = min(index, ${wgslSize(dimSub(outSize, 1))});`]),
    ...r.groupStart('clamped'),
  ];
  const first = r.read('base');
  let result: string;
  if (reducer.kind === 'fold') {
    // One pass: each invocation folds its slice into `acc`, then the partial results meet as a tree.
    const pass = (fold: FoldReducer, acc: string, value: string, everyoneReads = false): void => {
      body.push(`var ${acc} = ${foldStart(fold, first, dtype)};`, ...slice([combineStatement(fold.combine.wgsl, acc, value, dtype)]));
      body.push(`partial[lid] = ${acc};`, ...tree([combineStatement(fold.combine.wgsl, 'partial[lid]', 'partial[other]', dtype)], everyoneReads));
    };
    if (reducer.shift) {
      // Two trees: the group's shift (max), read back by every invocation, then the shifted fold.
      pass(reducer.shift.reducer, 'acc', 'v', true);
      body.push(`let group_max = partial[lid % ${u(outputs)}];`, 'workgroupBarrier();');
      pass(reducer, 'total', reducer.shift.wgsl('v', 'group_max'));
    } else {
      pass(reducer, 'acc', 'v');
    }
    result = finalizeWgsl(reducer, 'partial[lid]', { count: groupSize, shift: 'group_max' });
  } else {
    // Slices are walked in order and ties go to the lower position, so the first of tied
    // values wins; two NaNs tie too (neither is better), so the first NaN wins.
    const better = (v: string, best: string): string => reducer.better.wgsl(v, best, dtype);
    body.push(`var best = ${first};`, 'var best_index = 0u;');
    body.push(...slice([`if (${better('v', 'best')}) {`, '  best = v;', '  best_index = position;', '}']));
    body.push('partial[lid] = best;', 'partial_index[lid] = best_index;');
    body.push(
      ...tree([
        `if (${operand(better('partial[other]', 'partial[lid]'))} || (!${operand(better('partial[lid]', 'partial[other]'))} && partial_index[other] < partial_index[lid])) {`,
        '  partial[lid] = partial[other];',
        '  partial_index[lid] = partial_index[other];',
        '}',
      ]),
    );
    result = 'i32(partial_index[lid])';
  }
  body.push(`if (thread == 0u${even ? '' : ` && index < ${wgslSize(outSize)}`}) {`, `  ${r.deliver('index', result)}`, '}');

  const helpers = [...r.helpers, ...specialFloatHelpers(body.join('\n'))];
  const source = workgroupKernelSource({
    name: r.name,
    header: [
      ...r.header,
      `${reducer.op} over groups of ${groupSize}: ${threads} invocations per output, ` +
        `${outputs > 1 ? `${outputs} neighbouring outputs per workgroup, ` : ''}partial results combined as a tree in workgroup memory`,
    ],
    decls: r.decls,
    workgroupMemory: partialArrays(reducer, type, size),
    helpers,
    workgroupSize: size,
    body,
    ...(r.dims ? { dims: r.dims } : {}),
  });
  return { ...source, workgroups, ...(isSymbolic(outSize) ? { foldX: true } : {}) };
}
