/**
 * When each buffer of a plan holds a value someone still needs, per entry point, and the
 * memory-plan validator built on it. Positions count an entry's dispatches: `BEFORE_PASS`
 * (-1) is when inputs are written, 0 … n-1 the dispatches, n after the pass (outputs are
 * read back, copies run). A binding counts as both a read and a write: a transient's first
 * binding is its write and its last binding its last read, so [first, last] is exact
 * without per-binding access modes. Self-contained (plan types only): the runtime checks
 * every plan it loads with it.
 */

import { PlanError } from './errors.js';
import type { Plan, PlanEntry } from './plan-format.js';
import { requirePlan } from './plan-format.js';

/** Inclusive positions: live from `start` through `end`. */
export interface LiveInterval {
  readonly start: number;
  readonly end: number;
}

/** The position before an entry's first dispatch, where its inputs are written. */
export const BEFORE_PASS = -1;

/** Whether two inclusive intervals share a position. */
export function overlaps(a: LiveInterval, b: LiveInterval): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** Buffer id → when its value is live during `entry`; buffers the entry never needs are absent. */
export function liveIntervals(plan: Plan, entry: PlanEntry): Map<number, LiveInterval> {
  const after = entry.dispatches.length;
  const live = new Map<number, LiveInterval>();
  const touch = (id: number, at: number): void => {
    const seen = live.get(id);
    live.set(id, seen ? { start: Math.min(seen.start, at), end: Math.max(seen.end, at) } : { start: at, end: at });
  };
  entry.dispatches.forEach((k, at) => plan.kernels[k]!.bindings.forEach(({ buffer }) => touch(buffer, at)));
  for (const id of Object.values(entry.inputs)) touch(id, BEFORE_PASS);
  // Read after the pass: outputs are read back, copies read their source, in-place updates become the param.
  for (const id of Object.values(entry.outputs)) touch(id, after);
  for (const { from, to } of entry.copies) [from, to].forEach((id) => touch(id, after));
  for (const { from } of entry.inPlace ?? []) touch(from, after);
  const updatedInPlace = new Set((entry.inPlace ?? []).map(({ to }) => to));
  for (const b of plan.buffers) {
    if (b.role === 'transient' || b.role === 'input') continue;
    // Params, state and consts keep their value across entries; an in-place target's old value dies at its last read.
    const end = updatedInPlace.has(b.id) ? (live.get(b.id)?.end ?? BEFORE_PASS) : after;
    live.set(b.id, { start: BEFORE_PASS, end });
  }
  return live;
}

/** `dispatch 3 (k5_add)`, `before the pass`, `after the pass`. */
export function describePosition(plan: Plan, entry: PlanEntry, at: number): string {
  if (at === BEFORE_PASS) return 'before the pass';
  if (at >= entry.dispatches.length) return 'after the pass';
  const k = entry.dispatches[at]!;
  return `dispatch ${at} (${plan.kernels[k]?.name ?? `kernel ${k}`})`;
}

/**
 * Throws a PlanError unless the plan's memory assignment is safe: every buffer fits its
 * allocation, only transients share memory (a transient joins a param or state only as
 * that value's in-place update), and no two buffers sharing an allocation are live at
 * the same position of any entry. A plan without allocations (one buffer each) passes.
 */
export function checkMemoryPlan(plan: Plan): void {
  requirePlan('checkMemoryPlan', plan);
  const fail = (problem: string): never => {
    throw new PlanError(`memory plan of '${plan.name}': ${problem}. Recompile the plan with compile().`);
  };
  const label = (id: number): string => `#${id} (${plan.buffers[id]!.name})`;
  const allocations = plan.allocations;
  const updates = Object.entries(plan.entries).flatMap(([name, entry]) => (entry.inPlace ?? []).map((update) => ({ name, entry, ...update })));
  if (!allocations) {
    const placed = plan.buffers.find((b) => b.allocation !== undefined);
    if (placed) fail(`buffer ${label(placed.id)} names allocation ${placed.allocation}, but the plan has no allocations`);
    if (updates.length > 0) fail(`entry '${updates[0]!.name}' updates ${label(updates[0]!.to)} in place, which needs planned allocations`);
    return;
  }

  const members: number[][] = allocations.map(() => []);
  for (const b of plan.buffers) {
    const a = b.allocation;
    if (a === undefined || !Number.isSafeInteger(a) || a < 0 || a >= allocations.length) {
      return fail(`buffer ${label(b.id)} has allocation ${JSON.stringify(a)}, not one of the plan's ${allocations.length}`);
    }
    // A symbolic buffer's bytes are the runtime's to cover (it grows the allocation at a run's dims).
    if (typeof b.bytes === 'number' && allocations[a]!.bytes < b.bytes) fail(`buffer ${label(b.id)} needs ${b.bytes} bytes, more than allocation @${a} has (${allocations[a]!.bytes})`);
    members[a]!.push(b.id);
  }

  const updateOf = new Map<number, number>();
  for (const { name, entry, from, to } of updates) {
    const where = `entry '${name}' updates ${label(to)} in place from ${label(from)}`;
    if (plan.buffers[from]!.role !== 'transient') fail(`${where}, which is ${plan.buffers[from]!.role}, not transient`);
    if (plan.buffers[to]!.role !== 'param' && plan.buffers[to]!.role !== 'state') fail(`${where}, but only params and state are updated`);
    if (plan.buffers[from]!.allocation !== plan.buffers[to]!.allocation) fail(`${where}, but they are in different allocations`);
    if (entry.copies.some((copy) => copy.to === to)) fail(`${where} and also copies into it`);
    if ((updateOf.get(from) ?? to) !== to) fail(`${label(from)} is the in-place update of both ${label(updateOf.get(from)!)} and ${label(to)}`);
    updateOf.set(from, to);
  }
  members.forEach((ids, a) => {
    if (ids.length === 0) fail(`allocation @${a} holds no buffer`);
    const owners = ids.filter((id) => plan.buffers[id]!.role !== 'transient');
    // Inputs, params, state and consts hold values across entries (or from the caller): never shared.
    if (owners.length > 1) fail(`${owners.map(label).join(' and ')} share allocation @${a}, but only transient values share memory`);
    const owner = owners[0];
    const stray = owner === undefined ? undefined : ids.find((id) => id !== owner && updateOf.get(id) !== owner);
    if (stray !== undefined) fail(`${label(stray)} shares allocation @${a} with ${plan.buffers[owner!]!.role} ${label(owner!)} without being its in-place update`);
  });

  for (const [name, entry] of Object.entries(plan.entries)) {
    const live = liveIntervals(plan, entry);
    members.forEach((ids, a) => {
      const spans = ids
        .flatMap((id) => {
          const interval = live.get(id);
          return interval ? [{ id, ...interval }] : [];
        })
        .sort((x, y) => x.start - y.start || x.end - y.end);
      let latest = spans[0];
      for (const span of spans.slice(1)) {
        if (latest && span.start <= latest.end) {
          fail(
            `in entry '${name}', ${label(latest.id)} and ${label(span.id)} share allocation @${a} but are both live at ` +
              `${describePosition(plan, entry, span.start)} (live ${latest.start}…${latest.end} and ${span.start}…${span.end})`,
          );
        }
        if (!latest || span.end > latest.end) latest = span;
      }
    });
  }
}
