/**
 * A small plan with a symbolic dim, written by hand (plan format v3), so the plan check,
 * the memory planner and the Session are tested on symbolic sizes independently of the
 * code generator: x: f32[batch,4] is scaled by a param w[4], then +1, then ×2 (c), and a
 * second entry picks x[r, labels[r]] per row. Every kernel reads `batch` from the size
 * block; the scale kernel folds x into y past the device's per-dimension limit.
 */

import { DEFAULT_LIMITS } from '../compiler/limits.js';
import type { Plan, PlanKernel } from '../compiler/plan-format.js';

const SIZE_BLOCK = ['struct KilnDims { batch: u32 }', '@group(1) @binding(0) var<uniform> kiln_dims: KilnDims;'];

function kernel(name: string, reads: readonly [number, string][], write: [number, string], body: string, workgroups: PlanKernel['workgroups'], extra: Partial<PlanKernel> = {}): PlanKernel {
  const declared = [...reads.map(([, type], b) => `@group(0) @binding(${b}) var<storage, read> in${b}: array<${type}>;`), `@group(0) @binding(${reads.length}) var<storage, read_write> out: array<${write[1]}>;`];
  const readsDims = body.includes('kiln_dims.');
  const wgsl = [
    `// ${name}`,
    ...(readsDims ? SIZE_BLOCK : []),
    ...declared,
    '@compute @workgroup_size(64)',
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {',
    '  let i = (wid.y * nwg.x + wid.x) * 64u + lid;',
    `  ${body}`,
    '}',
    '',
  ].join('\n');
  return {
    name,
    wgsl,
    bindings: [...reads.map(([buffer]) => ({ buffer, access: 'read' as const })), { buffer: write[0], access: 'read_write' as const }],
    workgroups,
    workgroupSize: [64, 1, 1],
    workgroupStorageBytes: 0,
    nodes: [write[0]],
    ops: [name.replace(/^k\d+_/, '')],
    ...(readsDims ? { readsDims: true } : {}),
    ...extra,
  };
}

const perElement = { size: '4*batch', per: 64 } as const;

/** The plan (without memory planning: pass it to planMemory for shared allocations). */
export function symbolicPlan(): Plan {
  return {
    format: 'kiln-plan',
    version: 3,
    limits: { ...DEFAULT_LIMITS },
    name: 'symbolic',
    dims: ['batch'],
    buffers: [
      { id: 0, name: 'x', role: 'input', dtype: 'f32', shape: ['batch', 4], bytes: '16*batch' },
      { id: 1, name: 'w', role: 'param', dtype: 'f32', shape: [4], bytes: 16 },
      { id: 2, name: '%2', role: 'transient', dtype: 'f32', shape: ['batch', 4], bytes: '16*batch' },
      { id: 3, name: '%3', role: 'transient', dtype: 'f32', shape: ['batch', 4], bytes: '16*batch' },
      { id: 4, name: '%4', role: 'transient', dtype: 'f32', shape: ['batch', 4], bytes: '16*batch' },
      { id: 5, name: 'labels', role: 'input', dtype: 'i32', shape: ['batch'], bytes: '4*batch', valueRange: { min: 0, max: 3, reason: 'column of a row' } },
      { id: 6, name: '%6', role: 'transient', dtype: 'f32', shape: ['batch'], bytes: '4*batch' },
    ],
    kernels: [
      kernel('init_1_w', [], [1, 'f32'], 'if (i < 4u) { out[i] = f32(i + 1u) * 0.5; }', [1, 1, 1], { kind: 'init' }),
      kernel('k2_scale', [[0, 'f32'], [1, 'f32']], [2, 'f32'], 'if (i >= 4u * kiln_dims.batch) { return; } out[i] = in0[i] * in1[i % 4u];', [perElement, 1, 1], { foldX: true }),
      kernel('k3_addOne', [[2, 'f32']], [3, 'f32'], 'if (i >= 4u * kiln_dims.batch) { return; } out[i] = in0[i] + 1.0;', [perElement, 1, 1], { foldX: true }),
      kernel('k4_double', [[3, 'f32']], [4, 'f32'], 'if (i >= 4u * kiln_dims.batch) { return; } out[i] = in0[i] * 2.0;', [perElement, 1, 1], { foldX: true }),
      kernel('k6_pick', [[0, 'f32'], [5, 'i32']], [6, 'f32'], 'if (i >= kiln_dims.batch) { return; } out[i] = in0[i * 4u + u32(in1[i])];', [{ size: 'batch', per: 64 }, 1, 1]),
    ],
    entries: {
      init: { inputs: {}, outputs: {}, dispatches: [0], copies: [] },
      forward: { inputs: { x: 0 }, outputs: { c: 4, flat: 4 }, outputShapes: { flat: ['4*batch'] }, dispatches: [1, 2, 3], copies: [] },
      score: { inputs: { x: 0, labels: 5 }, outputs: { s: 6 }, dispatches: [4], copies: [] },
    },
  };
}

/** What `forward` computes for x (row-major [n,4]): ((x · w) + 1) · 2 with w = [0.5, 1, 1.5, 2]. */
export function symbolicForward(x: ArrayLike<number>): number[] {
  return Array.from(x, (v, i) => Math.fround(Math.fround(Math.fround(v * (((i % 4) + 1) * 0.5)) + 1) * 2));
}
