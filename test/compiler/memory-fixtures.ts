/**
 * Plans written by hand for the memory planner's tests: a few buffers and kernels whose
 * bindings are all that matters, so liveness and sharing are read off the test itself.
 */

import { DEFAULT_LIMITS } from '../../compiler/limits.js';
import type { BufferRole, Plan, PlanAccess, PlanEntry, PlanKernel } from '../../compiler/plan-format.js';

/** [name, role, bytes]. */
export type BufferRow = readonly [string, BufferRole, number];

export interface KernelRow {
  readonly bindings: readonly number[];
  /** Positions in `bindings` the kernel writes (`read_write`); the others it only reads. */
  readonly writes?: readonly number[];
  readonly elementwise?: boolean;
  /** Default: a comment and the bindings' declarations (which the plan check matches; without an output, it cannot be folded in place). */
  readonly wgsl?: string;
}

export type EntryRow = Partial<PlanEntry> & { readonly dispatches: readonly number[] };

const access = (k: KernelRow, b: number): PlanAccess => (k.writes?.includes(b) ? 'read_write' : 'read');

export function handPlan(buffers: readonly BufferRow[], kernels: readonly KernelRow[], entries: Readonly<Record<string, EntryRow>>): Plan {
  const entry = (row: EntryRow): PlanEntry => ({ inputs: {}, outputs: {}, copies: [], ...row });
  return {
    format: 'kiln-plan',
    version: 3,
    limits: { ...DEFAULT_LIMITS },
    name: 'hand',
    buffers: buffers.map(([name, role, bytes], id) => ({
      id,
      name,
      role,
      dtype: 'f32',
      shape: [bytes / 4],
      bytes,
      ...(role === 'const' ? { data: [0] } : {}),
    })),
    kernels: kernels.map(
      (k, i): PlanKernel => ({
        name: `k${i}`,
        wgsl: k.wgsl ?? [`// k${i}`, ...k.bindings.map((_, b) => `@group(0) @binding(${b}) var<storage, ${access(k, b)}> b${b}: array<f32>;`)].join('\n'),
        bindings: k.bindings.map((buffer, b) => ({ buffer, access: access(k, b) })),
        workgroups: [1, 1, 1],
        workgroupSize: [64, 1, 1],
        workgroupStorageBytes: 0,
        nodes: [],
        ops: [],
        ...(k.elementwise ? { elementwise: true } : {}),
      }),
    ),
    entries: Object.fromEntries([['init', entry({ dispatches: [] })], ...Object.entries(entries).map(([name, row]) => [name, entry(row)])]),
  };
}

/** WGSL in the generic emitter's form: `out[i] = in0[i] - in1[i] …` over `inputs` read bindings and one output. */
export function elementwiseWgsl(inputs: number): string {
  const reads = Array.from({ length: inputs }, (_, k) => `in${k}[i]`);
  return [
    '// kiln kernel k_sub',
    ...reads.map((_, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<f32>;`),
    `@group(0) @binding(${inputs}) var<storage, read_write> out: array<f32>;`,
    '',
    '@compute @workgroup_size(64)',
    'fn main(@builtin(global_invocation_id) id: vec3u) {',
    '  let i = id.x;',
    `  out[i] = ${reads.join(' - ')};`,
    '}',
    '',
  ].join('\n');
}
