/**
 * The memory planner, a pure Plan → Plan pass (XLA-style buffer assignment):
 *
 * 1. Updates in their target's memory: an update copy `from → to` (param/state ← new
 *    value) is dropped when `from` can simply live in `to`'s memory: the kernel writing
 *    `from` does not bind `to` (momentum: v ← μv + g after μv was computed) and no later
 *    kernel reads `to`. Readers of `from` in other kernels still bind `from`, so this is
 *    a decision about memory, not kernels: no kernel changes. A writer that reads `to` is
 *    fusion's to write in place (compiler/passes/fusion/in-place.ts), since WebGPU forbids
 *    binding one buffer as read-only and read_write in one dispatch.
 * 2. Buffer sharing: transients whose live intervals are disjoint in every entry share an
 *    allocation, assigned best-fit, largest first. Inputs, params, state and consts keep
 *    their own.
 *
 * The plan records one allocation (one GPUBuffer) per block and each buffer's allocation;
 * a buffer binds its allocation's first `bytes`. One GPUBuffer per block rather than
 * offsets in one arena: no alignment padding (minStorageBufferOffsetAlignment), no arena
 * past maxBufferSize, and copies and read-backs stay whole-buffer.
 */

import { BEFORE_PASS, liveIntervals, overlaps } from './liveness.js';
import type { LiveInterval } from './liveness.js';
import type { Plan, PlanAllocation, PlanBuffer, PlanEntry, PlanKernel } from './plan-format.js';
import { bindsBuffer } from './plan-format.js';

export { checkMemoryPlan } from './liveness.js';

/** Transient memory of a plan, in bytes. */
export interface MemoryReport {
  /** Every transient value in its own buffer: what an unplanned plan allocates. */
  readonly naiveTransientBytes: number;
  /** The most transient memory in use at once: over entries and positions, the allocations holding a live value. */
  readonly peakTransientBytes: number;
  /** Transient memory the plan allocates (in-place updates live in their param's memory and count for nothing). */
  readonly allocationBytes: number;
}

interface Update {
  readonly from: number;
  readonly to: number;
}

/** Plans the memory of a compiled plan: in-place updates, then shared transient allocations. */
export function planMemory(plan: Plan): Plan {
  const updated = updateInPlace(plan);
  const { allocationOf, allocations } = assignAllocations(updated);
  return {
    ...updated,
    buffers: updated.buffers.map((b) => ({ ...b, allocation: allocationOf[b.id]! })),
    allocations,
  };
}

/** The plan with every update that may live in its target's memory moved there (copies dropped). */
function updateInPlace(plan: Plan): Plan {
  const { kernels } = plan;
  const entries = Object.values(plan.entries);
  const candidates = uniqueUpdates(entries.flatMap((entry) => entry.copies));
  const chosen: Update[] = [];
  for (const update of candidates) {
    const { from, to } = update;
    // One value per target across entries, so `to`'s memory never holds two different updates.
    if (candidates.some((other) => other.to === to && other.from !== from)) continue;
    if (!sameLayout(plan.buffers[from]!, plan.buffers[to]!)) continue;
    // Every entry that touches `from` must update `to` from it: elsewhere writing `from` would clobber `to`.
    const touching = entries.filter((entry) => touches(kernels, entry, from));
    if (touching.length === 0 || !touching.every((entry) => inPlaceLegal(kernels, entry, update))) continue;
    chosen.push(update);
  }
  const isChosen = (copy: Update): boolean => chosen.some((u) => u.from === copy.from && u.to === copy.to);
  const rewritten = Object.fromEntries(
    Object.entries(plan.entries).map(([name, entry]): [string, PlanEntry] => {
      const inPlace = [...(entry.inPlace ?? []), ...entry.copies.filter(isChosen)];
      return [name, { ...entry, copies: entry.copies.filter((copy) => !isChosen(copy)), ...(inPlace.length > 0 ? { inPlace } : {}) }];
    }),
  );
  return { ...plan, entries: rewritten };
}

function uniqueUpdates(copies: readonly Update[]): Update[] {
  const seen = new Map<string, Update>();
  for (const { from, to } of copies) seen.set(`${from}→${to}`, { from, to });
  return [...seen.values()];
}

function sameLayout(from: PlanBuffer, to: PlanBuffer): boolean {
  return from.role === 'transient' && from.dtype === to.dtype && from.bytes === to.bytes;
}

/** Whether the entry needs `from` at all: bound by a dispatch, read back or copied. */
function touches(kernels: readonly PlanKernel[], entry: PlanEntry, from: number): boolean {
  return (
    entry.dispatches.some((k) => bindsBuffer(kernels[k]!, from)) ||
    Object.values(entry.outputs).includes(from) ||
    entry.copies.some((copy) => copy.from === from)
  );
}

/**
 * Whether `from` may be computed in `to`'s memory in this entry: it is this entry's only
 * copy of `from` and the copy goes to `to`; nothing reads `to`'s old value after the pass
 * (read back, or copied elsewhere); and neither `from`'s writer nor any dispatch after it binds `to`.
 */
function inPlaceLegal(kernels: readonly PlanKernel[], entry: PlanEntry, { from, to }: Update): boolean {
  const copiesOfFrom = entry.copies.filter((copy) => copy.from === from);
  if (copiesOfFrom.length !== 1 || copiesOfFrom[0]!.to !== to) return false;
  if (entry.copies.some((copy) => copy.from === to) || Object.values(entry.outputs).includes(to)) return false;
  const order = entry.dispatches.map((k) => kernels[k]!);
  const first = order.findIndex((kernel) => bindsBuffer(kernel, from));
  if (first < 0) return false;
  return !order.slice(first).some((kernel) => bindsBuffer(kernel, to));
}

/** Allocation per buffer (numbered in buffer order) and the allocations' sizes. */
function assignAllocations(plan: Plan): { allocationOf: number[]; allocations: PlanAllocation[] } {
  const lives = Object.values(plan.entries).map((entry) => liveIntervals(plan, entry));
  const updateTarget = new Map(Object.values(plan.entries).flatMap((entry) => (entry.inPlace ?? []).map(({ from, to }) => [from, to] as const)));
  interface Block {
    readonly bytes: number;
    readonly members: number[];
  }
  const blockOf = new Map<number, Block>();
  for (const b of plan.buffers) if (b.role !== 'transient') blockOf.set(b.id, { bytes: b.bytes, members: [b.id] });
  for (const [from, to] of updateTarget) {
    blockOf.get(to)!.members.push(from);
    blockOf.set(from, blockOf.get(to)!);
  }
  const disjoint = (block: Block, id: number): boolean =>
    lives.every((live) => {
      const mine = live.get(id);
      return !mine || block.members.every((member) => !overlapping(mine, live.get(member)));
    });
  const shared: Block[] = [];
  const transients = plan.buffers.filter((b) => b.role === 'transient' && !updateTarget.has(b.id));
  for (const b of transients.sort((x, y) => y.bytes - x.bytes || x.id - y.id)) {
    // Best fit among blocks free for all of b's life; largest first, so every block is big enough.
    let best: Block | undefined;
    for (const block of shared) if (disjoint(block, b.id) && (!best || block.bytes < best.bytes)) best = block;
    if (!best) shared.push((best = { bytes: b.bytes, members: [] }));
    best.members.push(b.id);
    blockOf.set(b.id, best);
  }
  const index = new Map<Block, number>();
  const allocations: PlanAllocation[] = [];
  const allocationOf = plan.buffers.map((b) => {
    const block = blockOf.get(b.id)!;
    if (!index.has(block)) {
      index.set(block, allocations.length);
      allocations.push({ bytes: block.bytes });
    }
    return index.get(block)!;
  });
  return { allocationOf, allocations };
}

function overlapping(a: LiveInterval, b: LiveInterval | undefined): boolean {
  return b !== undefined && overlaps(a, b);
}

/** The plan's transient memory: naive sum, peak in use, and allocated (see MemoryReport). */
export function memoryReport(plan: Plan): MemoryReport {
  const transients = plan.buffers.filter((b) => b.role === 'transient');
  // A transient's memory: its allocation (unplanned: its own), unless that holds a param or state (in place).
  const blockOf = (b: PlanBuffer): number => (plan.allocations ? b.allocation! : b.id);
  const bytesOf = (block: number): number => (plan.allocations ? plan.allocations[block]!.bytes : plan.buffers[block]!.bytes);
  const persistentBlocks = new Set(plan.buffers.filter((b) => b.role !== 'transient').map(blockOf));
  const owned = transients.filter((b) => !persistentBlocks.has(blockOf(b)));
  const blocks = [...new Set(owned.map(blockOf))];
  let peak = 0;
  for (const entry of Object.values(plan.entries)) {
    const live = liveIntervals(plan, entry);
    // A block is in use while any of its buffers is live: the union of their intervals.
    const intervalsOf = new Map<number, LiveInterval[]>();
    for (const b of owned) {
      const interval = live.get(b.id);
      if (!interval) continue;
      const intervals = intervalsOf.get(blockOf(b)) ?? [];
      intervals.push(interval);
      intervalsOf.set(blockOf(b), intervals);
    }
    // Bytes in use from each position on, as changes swept in order (positions start at BEFORE_PASS).
    const change = new Array<number>(entry.dispatches.length + 3).fill(0);
    for (const [block, intervals] of intervalsOf) {
      for (const { start, end } of unionOf(intervals)) {
        change[start - BEFORE_PASS]! += bytesOf(block);
        change[end - BEFORE_PASS + 1]! -= bytesOf(block);
      }
    }
    let inUse = 0;
    for (const delta of change) peak = Math.max(peak, (inUse += delta));
  }
  return {
    naiveTransientBytes: sum(transients.map((b) => b.bytes)),
    peakTransientBytes: peak,
    allocationBytes: sum(blocks.map(bytesOf)),
  };
}

/** The union of inclusive intervals, as disjoint intervals in order. */
function unionOf(intervals: readonly LiveInterval[]): LiveInterval[] {
  const union: { start: number; end: number }[] = [];
  for (const { start, end } of [...intervals].sort((a, b) => a.start - b.start)) {
    const last = union[union.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else union.push({ start, end });
  }
  return union;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
