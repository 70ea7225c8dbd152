/**
 * Writes into a session's params and state from the host — `setParams` values and
 * checkpoint tensors — checked against the plan before anything reaches the GPU.
 */

import { ArgumentError, CheckpointError, FeedError } from '../compiler/errors.js';
import type { Plan, PlanBuffer } from '../compiler/plan-format.js';
import type { Feed, HostTensor } from './host-tensor.js';
import { describeBuffer, feedBytes } from './host-tensor.js';
import { bufferAt } from './run-dims.js';

/** Bytes for one plan buffer, written before a step's (or a setParams') commands. */
export interface Write {
  readonly id: number;
  readonly bytes: ArrayBuffer;
}

/** The writes that set params or state from `values` (by name), checked against the plan. */
export function paramWrites(plan: Plan, values: Readonly<Record<string, Feed>>): Write[] {
  if (values === null || typeof values !== 'object') throw new FeedError(`Session.setParams: expected an object {name: values}, got ${values === null ? 'null' : typeof values}.`);
  const buffers = persistentBuffers(plan, Object.keys(values));
  return buffers.map((b) => ({ id: b.id, bytes: feedBytes(`Session.setParams: ${b.role} '${b.name}'`, bufferAt(b), values[b.name]!) }));
}

/** The writes that load a checkpoint's tensors into params and state; strict: names must match exactly. */
export function checkpointWrites(plan: Plan, tensors: Readonly<Record<string, HostTensor>>, strict: boolean): Write[] {
  const persistent = new Map(persistentBuffers(plan).map((b) => [b.name, b]));
  const names = Object.keys(tensors);
  const unknown = names.filter((name) => !persistent.has(name));
  const missing = [...persistent.keys()].filter((name) => !Object.hasOwn(tensors, name));
  const where = `Session.loadCheckpoint: the checkpoint does not fit plan '${plan.name}'`;
  if (strict && unknown.length + missing.length > 0) {
    const problems = [
      ...(unknown.length > 0 ? [`it has ${quoteList(unknown)}, which the plan has no param or state for`] : []),
      ...(missing.length > 0 ? [`it lacks ${quoteList(missing)}`] : []),
    ];
    throw new CheckpointError(`${where}: ${problems.join('; ')}. Pass {strict: false} to load only the tensors both have.`);
  }
  const shared = names.filter((name) => persistent.has(name));
  const mismatched = shared.filter((name) => describeBuffer(tensors[name]!) !== describeBuffer(persistent.get(name)!));
  if (mismatched.length > 0) {
    const detail = mismatched.map((name) => `'${name}' is ${describeBuffer(persistent.get(name)!)} in the plan, ${describeBuffer(tensors[name]!)} in the checkpoint`);
    throw new CheckpointError(`${where}: ${detail.join('; ')}.`);
  }
  return shared.map((name) => {
    const buffer = persistent.get(name)!;
    return { id: buffer.id, bytes: feedBytes(`Session.loadCheckpoint: ${buffer.role} '${name}'`, bufferAt(buffer), tensors[name]!) };
  });
}

/** The plan's params and state, or those named (an unknown name is an ArgumentError listing the known ones). */
export function persistentBuffers(plan: Plan, names?: readonly string[]): PlanBuffer[] {
  const persistent = plan.buffers.filter((b) => b.role === 'param' || b.role === 'state');
  if (!names) return persistent;
  const unknown = names.filter((name) => !persistent.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new ArgumentError(`Session '${plan.name}': no param or state named ${quoteList(unknown)}. Known: ${persistent.map((b) => b.name).join(', ') || 'none'}.`);
  }
  return [...new Set(names)].map((name) => persistent.find((b) => b.name === name)!);
}

/** `'a', 'b'`: names for a message. */
export function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
