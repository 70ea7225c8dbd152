/**
 * The cumulative-sum kernel. A tensor is seen as lines along the scanned axis
 * ([outer, length, inner] around it). Short lines take one invocation each, walking the
 * line in order. Long lines take a workgroup each: every invocation sums a contiguous
 * chunk, the chunk totals are scanned in workgroup memory (Hillis–Steele, log₂ 64 steps),
 * and each invocation walks its chunk again from its offset, writing the results — two
 * reads of the line, but 64 invocations share its length.
 */

import type { DType } from '../compiler/dtype.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import type { WorkgroupArray } from '../compiler/codegen/wgsl.js';
import type { WorkgroupCount } from '../compiler/codegen/wgsl.js';
import { WORKGROUP_SIZE, KernelBindings, grid, workgroupKernelSource, workgroupStorageBytes, literal, perElementKernel, storageType, wgslSize } from '../compiler/codegen/wgsl.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';
import { dimMul, dimSub, isSymbolic } from '../compiler/dims.js';

/**
 * Lines longer than this are scanned by a workgroup: past it, one invocation's serial walk
 * is longer than the two chunked walks plus six barriers.
 */
export const LONG_SCAN = 256;

export interface ScanParams {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  /** Node ids of the input and the output. */
  readonly ids: readonly [number, number];
  readonly shape: Shape;
  readonly dtype: DType;
  readonly axis: number;
  readonly exclusive: boolean;
  readonly reverse: boolean;
  /** The plan's dims (`LoweringContext.dims`): needed when a size is symbolic. */
  readonly dims?: readonly string[];
}

const u = wgslSize;

/** Cumulative sum of `shape` along `axis` (exclusive and/or reversed). */
export function scanKernel(p: ScanParams): KernelSpec[] {
  const length = p.shape[p.axis]!;
  const inner = sizeOf(p.shape.slice(p.axis + 1));
  const lines = dimMul(sizeOf(p.shape.slice(0, p.axis)), inner);
  if (lines === 0 || length === 0) return [];
  // Line `line` is (o, t) = (line / inner, line % inner); its elements sit `inner` apart.
  const base = inner === 1 ? `line * ${u(length)}` : `(line / ${u(inner)}) * ${u(dimMul(length, inner))} + line % ${u(inner)}`;
  const position = p.reverse ? `${u(dimSub(length, 1))} - step` : 'step';
  const at = `base + ${inner === 1 ? position : `(${position}) * ${u(inner)}`}`;
  // Walks steps [from, to) of the line from `running`, storing before (exclusive) or after adding each element.
  const walk = (from: string, to: string): string[] => [
    `for (var step = ${from}; step < ${to}; step++) {`,
    `  let at = ${at};`,
    '  let value = x[at];',
    ...(p.exclusive ? ['  out[at] = running;', '  running += value;'] : ['  running += value;', '  out[at] = running;']),
    '}',
  ];
  const zero = literal(0, p.dtype);
  const bindings = new KernelBindings();
  const decls = [bindings.storage(p.ids[0], 'x', p.dtype, 'read'), bindings.storage(p.ids[1], 'out', p.dtype, 'read_write')];
  const what = `${p.exclusive ? 'exclusive' : 'inclusive'}${p.reverse ? ' reversed' : ''} cumsum of ${lines} lines of ${length}`;

  // Without workgroup storage for the chunk totals, a long line is walked by one invocation too (slower, as exact).
  const chunkTotals: WorkgroupArray = { name: 'chunk_totals', elementType: storageType(p.dtype), length: WORKGROUP_SIZE };
  const chunkTotalsFit = workgroupStorageBytes([chunkTotals]) <= p.limits.maxComputeWorkgroupStorageSize;
  // A symbolic line may be long: it takes the workgroup scan, which serves any length.
  if ((!isSymbolic(length) && length <= LONG_SCAN) || !chunkTotalsFit) {
    const kernel = perElementKernel({
      name: p.name,
      header: [...p.header, `${what}, one invocation per line`],
      limits: p.limits,
      decls,
      invocations: lines,
      body: ['let line = i;', `let base = ${base};`, `var running = ${zero};`, ...walk('0u', u(length))],
      ...(p.dims ? { dims: p.dims } : {}),
    });
    return [{ name: p.name, ...kernel, bindings: bindings.list }];
  }

  // A symbolic length's chunk is computed per run.
  const chunk = isSymbolic(length) ? `((${u(length)} + ${u(WORKGROUP_SIZE - 1)}) / ${u(WORKGROUP_SIZE)})` : u(Math.ceil(length / WORKGROUP_SIZE));
  // One workgroup per line: the 2-D folding of `grid` for a static count; a symbolic one
  // the runtime computes per run, folding x into y (the width read from num_workgroups).
  let workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount];
  let width: string;
  if (isSymbolic(lines)) {
    workgroups = [{ size: lines, per: 1 }, 1, 1];
    width = 'nwg.x';
  } else {
    const g = grid(lines * WORKGROUP_SIZE, p.limits);
    const [x] = g.workgroups;
    workgroups = g.workgroups;
    width = typeof x === 'number' ? u(x) : 'nwg.x';
  }
  const body = [
    `let line = wid.y * ${width} + wid.x;`,
    // Uniform per workgroup, so returning here keeps every barrier in uniform control flow.
    `if (line >= ${u(lines)}) { return; }`,
    `let base = ${base};`,
    `let first = min(lid * ${chunk}, ${u(length)});`,
    `let last = min(first + ${chunk}, ${u(length)});`,
    `var chunk_total = ${zero};`,
    'for (var step = first; step < last; step++) {',
    `  chunk_total += x[${at}];`,
    '}',
    'chunk_totals[lid] = chunk_total;',
    'workgroupBarrier();',
    // Inclusive scan of the chunk totals: after the step of width w, slot t holds the sum of slots t−2w+1 … t.
    `for (var width = 1u; width < ${u(WORKGROUP_SIZE)}; width <<= 1u) {`,
    `  var earlier = ${zero};`,
    '  if (lid >= width) { earlier = chunk_totals[lid - width]; }',
    '  workgroupBarrier();',
    '  chunk_totals[lid] += earlier;',
    '  workgroupBarrier();',
    '}',
    `var running = ${zero};`,
    'if (lid > 0u) { running = chunk_totals[lid - 1u]; }',
    ...walk('first', 'last'),
  ];
  const source = workgroupKernelSource({
    name: p.name,
    header: [
      ...p.header,
      `${what}, one workgroup per line: ${WORKGROUP_SIZE} chunks of ${isSymbolic(length) ? `ceil(${length} / ${WORKGROUP_SIZE})` : Math.ceil(length / WORKGROUP_SIZE)}, chunk totals scanned in workgroup memory`,
    ],
    decls,
    workgroupMemory: [chunkTotals],
    workgroupSize: WORKGROUP_SIZE,
    body,
    ...(p.dims ? { dims: p.dims } : {}),
  });
  return [{ name: p.name, ...source, workgroups, ...(isSymbolic(lines) ? { foldX: true } : {}), bindings: bindings.list }];
}
