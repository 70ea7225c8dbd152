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
import { WORKGROUP_SIZE, KernelBindings, grid, workgroupKernelSource, workgroupStorageBytes, literal, perElementKernel, storageType } from '../compiler/codegen/wgsl.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';

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
}

const u = (x: number): string => `${x}u`;

/** Cumulative sum of `shape` along `axis` (exclusive and/or reversed). */
export function scanKernel(p: ScanParams): KernelSpec[] {
  const length = p.shape[p.axis]!;
  const inner = sizeOf(p.shape.slice(p.axis + 1));
  const lines = sizeOf(p.shape.slice(0, p.axis)) * inner;
  if (lines * length === 0) return [];
  // Line `line` is (o, t) = (line / inner, line % inner); its elements sit `inner` apart.
  const base = inner === 1 ? `line * ${u(length)}` : `(line / ${u(inner)}) * ${u(length * inner)} + line % ${u(inner)}`;
  const position = p.reverse ? `${u(length - 1)} - step` : 'step';
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
  if (length <= LONG_SCAN || !chunkTotalsFit) {
    const kernel = perElementKernel({
      name: p.name,
      header: [...p.header, `${what}, one invocation per line`],
      limits: p.limits,
      decls,
      invocations: lines,
      body: ['let line = i;', `let base = ${base};`, `var running = ${zero};`, ...walk('0u', u(length))],
    });
    return [{ name: p.name, ...kernel, bindings: bindings.list }];
  }

  const chunk = Math.ceil(length / WORKGROUP_SIZE);
  // The 2-D folding of `grid`, one workgroup per line.
  const g = grid(lines * WORKGROUP_SIZE, p.limits);
  const body = [
    `let line = wid.y * ${u(g.workgroups[0])} + wid.x;`,
    // Uniform per workgroup, so returning here keeps every barrier in uniform control flow.
    `if (line >= ${u(lines)}) { return; }`,
    `let base = ${base};`,
    `let first = min(lid * ${u(chunk)}, ${u(length)});`,
    `let last = min(first + ${u(chunk)}, ${u(length)});`,
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
      `${what}, one workgroup per line: ${WORKGROUP_SIZE} chunks of ${chunk}, chunk totals scanned in workgroup memory`,
    ],
    decls,
    workgroupMemory: [chunkTotals],
    workgroupSize: WORKGROUP_SIZE,
    body,
  });
  return [{ name: p.name, ...source, workgroups: g.workgroups, bindings: bindings.list }];
}
