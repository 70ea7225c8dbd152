/**
 * A small plan written by hand (y = x·w, trained by copying y into w), so tests of plan
 * tooling (plan-check, printPlan) do not change with codegen. A fresh copy each call:
 * tests corrupt it freely.
 */

import { DEFAULT_LIMITS } from '../compiler/limits.js';
import type { Plan, PlanBinding } from '../compiler/plan-format.js';

/** Binding declarations for `count` buffers: the plan checker matches them against a kernel's bindings. */
/** The plan's bindings of `buffers`, each declared `read_write` (as `declare` writes them). */
function written(buffers: readonly number[]): PlanBinding[] {
  return buffers.map((buffer) => ({ buffer, access: 'read_write' }));
}

function declare(count: number): string {
  return Array.from({ length: count }, (_, b) => `@group(0) @binding(${b}) var<storage, read_write> b${b}: array<f32>;`).join('\n');
}

export function scalePlan(): Plan {
  return {
    format: 'kiln-plan',
    version: 3,
    limits: { ...DEFAULT_LIMITS },
    name: 'scale',
    buffers: [
      { id: 0, name: 'x', role: 'input', dtype: 'f32', shape: [3], bytes: 12 },
      { id: 1, name: 'w', role: 'param', dtype: 'f32', shape: [3], bytes: 12 },
      { id: 2, name: '%2', role: 'transient', dtype: 'f32', shape: [3], bytes: 12 },
      { id: 3, name: '%3', role: 'const', dtype: 'f32', shape: [], bytes: 4, data: [0.5] },
      { id: 4, name: '%4', role: 'const', dtype: 'i32', shape: [6], bytes: 24, data: [1, 2, 3, 4, 5, 6] },
      { id: 5, name: 'step', role: 'state', dtype: 'i32', shape: [], bytes: 4 },
    ],
    kernels: [
      { name: 'init_1_w', wgsl: `// w = 1\n${declare(1)}`, bindings: written([1]), workgroups: [1, 1, 1], workgroupSize: [64, 1, 1], workgroupStorageBytes: 0, nodes: [1], ops: ['param'] },
      { name: 'k2_mul', wgsl: `// y = x * w * 0.5\n${declare(4)}`, bindings: written([0, 1, 3, 2]), workgroups: [1, 1, 1], workgroupSize: [64, 1, 1], workgroupStorageBytes: 0, nodes: [2, 3], ops: ['mul', 'mul'] },
    ],
    entries: {
      init: { inputs: {}, outputs: {}, dispatches: [0], copies: [] },
      forward: { inputs: { x: 0 }, outputs: { y: 2, y2d: 2 }, outputShapes: { y2d: [1, 3] }, dispatches: [1], copies: [] },
      trainStep: { inputs: { x: 0 }, outputs: { y: 2 }, dispatches: [1, 1], copies: [{ from: 2, to: 1 }] },
    },
  };
}
