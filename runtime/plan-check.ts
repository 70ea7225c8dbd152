/**
 * Checks a plan before the runtime trusts it: a plan is JSON that may have been shipped,
 * stored or hand-edited, so every id, size and name it holds is verified first, and a bad
 * one is reported by where it is, not by a GPU validation error later.
 */

import { GraphError } from '../compiler/errors.js';
import type { Plan } from '../compiler/plan-format.js';
import { PLAN_FORMAT, PLAN_VERSION } from '../compiler/plan-format.js';

const ROLES = new Set(['input', 'param', 'state', 'const', 'transient']);
const DTYPES = new Set(['f32', 'i32', 'bool']);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function validatePlan(plan: Plan): void {
  const fail = (where: string, problem: string): never => {
    throw new GraphError(`invalid plan: ${where}: ${problem}. Recompile it with this version of kiln.`);
  };
  if (plan === null || typeof plan !== 'object') fail('plan', 'not an object');
  if (plan.format !== PLAN_FORMAT) fail('format', `expected '${PLAN_FORMAT}', got ${JSON.stringify(plan.format)}`);
  if (plan.version !== PLAN_VERSION) fail('version', `expected ${PLAN_VERSION}, got ${JSON.stringify(plan.version)}`);
  if (!Array.isArray(plan.buffers) || !Array.isArray(plan.kernels) || typeof plan.entries !== 'object' || plan.entries === null) {
    fail('plan', 'buffers, kernels and entries are required');
  }
  plan.buffers.forEach((b, i) => {
    const where = `buffers[${i}]`;
    if (b.id !== i) fail(where, `id ${b.id} does not match its position`);
    if (typeof b.name !== 'string') fail(where, 'name must be a string');
    if (!ROLES.has(b.role)) fail(where, `unknown role ${JSON.stringify(b.role)}`);
    if (!DTYPES.has(b.dtype)) fail(where, `unknown dtype ${JSON.stringify(b.dtype)}`);
    if (!Array.isArray(b.shape) || !b.shape.every(isCount)) fail(where, 'shape must be non-negative integers');
    const count = b.shape.reduce((a, d) => a * d, 1);
    if (!isCount(b.bytes) || b.bytes < Math.max(4, count * 4) || b.bytes % 4 !== 0) {
      fail(where, `bytes ${b.bytes} cannot hold ${count} elements`);
    }
    if (b.data !== undefined) {
      if (b.role !== 'const') fail(where, 'only const buffers carry data');
      if (!Array.isArray(b.data) || (b.data.length !== 1 && b.data.length !== count) || !b.data.every((v) => typeof v === 'number')) {
        fail(where, `data must be 1 or ${count} numbers`);
      }
    } else if (b.role === 'const') {
      fail(where, 'a const buffer needs data');
    }
  });
  const bufferId = (where: string, id: unknown): void => {
    if (!isCount(id) || id >= plan.buffers.length) fail(where, `buffer id ${JSON.stringify(id)} does not exist`);
  };
  plan.kernels.forEach((k, i) => {
    const where = `kernels[${i}] (${String(k?.name)})`;
    if (typeof k.name !== 'string' || typeof k.wgsl !== 'string') fail(where, 'name and wgsl must be strings');
    if (!Array.isArray(k.bindings)) fail(where, 'bindings must be an array');
    k.bindings.forEach((id, b) => bufferId(`${where} binding ${b}`, id));
    if (!Array.isArray(k.workgroups) || k.workgroups.length !== 3 || !k.workgroups.every(isCount)) {
      fail(where, 'workgroups must be three non-negative integers');
    }
    if (!Array.isArray(k.nodes) || !Array.isArray(k.ops)) fail(where, 'nodes and ops must be arrays');
  });
  for (const [name, entry] of Object.entries(plan.entries)) {
    const where = `entries.${name}`;
    for (const [input, id] of Object.entries(entry.inputs ?? fail(where, 'inputs missing'))) {
      bufferId(`${where}.inputs.${input}`, id);
      if (plan.buffers[id]!.role !== 'input') fail(`${where}.inputs.${input}`, 'is not an input buffer');
    }
    for (const [output, id] of Object.entries(entry.outputs ?? fail(where, 'outputs missing'))) bufferId(`${where}.outputs.${output}`, id);
    if (!Array.isArray(entry.dispatches)) fail(where, 'dispatches must be an array');
    for (const k of entry.dispatches) {
      if (!isCount(k) || k >= plan.kernels.length) fail(`${where}.dispatches`, `kernel ${JSON.stringify(k)} does not exist`);
    }
    if (!Array.isArray(entry.copies)) fail(where, 'copies must be an array');
    for (const copy of entry.copies) {
      bufferId(`${where}.copies`, copy.from);
      bufferId(`${where}.copies`, copy.to);
      const to = plan.buffers[copy.to]!;
      if (to.role !== 'param' && to.role !== 'state') fail(`${where}.copies`, `${to.name} is not a param or state`);
      if (plan.buffers[copy.from]!.bytes !== to.bytes) fail(`${where}.copies`, `${plan.buffers[copy.from]!.name} and ${to.name} differ in size`);
    }
  }
}
