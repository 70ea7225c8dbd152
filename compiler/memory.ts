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
 * a buffer binds its allocation's first `bytes`. With symbolic dims, sharing by liveness
 * holds at every size (liveness does not depend on sizes): an allocation's `bytes` covers
 * its static buffers, and the runtime takes the max with its symbolic buffers' bytes at a
 * run's dims. Only best-fit's order evaluates symbolic sizes, at a planning hint
 * (`planningDims`): a decision about which buffers share, never about correctness. One GPUBuffer per block rather than
 * offsets in one arena: no alignment padding (minStorageBufferOffsetAlignment), no arena
 * past maxBufferSize, and copies and read-backs stay whole-buffer.
 */

import { ArgumentError } from './errors.js';
import { BEFORE_PASS, liveIntervals } from './liveness.js';
import type { LiveInterval } from './liveness.js';
import type { Plan, PlanAllocation, PlanBuffer, PlanEntry, PlanKernel } from './plan-format.js';
import { evaluatePlanSize, requirePlan } from './plan-format.js';

export { checkMemoryPlan } from './liveness.js';

/** Transient memory of a plan, in bytes. */
export interface MemoryReport {
  /** Every transient value in its own buffer: what an unplanned plan allocates. */
  readonly naiveTransientBytes: number;
  /** The most transient memory in use at once: over entries and positions, the allocations holding a live value. */
  readonly peakTransientBytes: number;
  /** Transient memory the plan allocates (in-place updates live in their param's memory and count for nothing). */
  readonly allocationBytes: number;
  /** For a plan with symbolic dims: the sizes these bytes were counted at (given, or `planningDims`). */
  readonly atDims?: Readonly<Record<string, number>>;
}

/** The size each dim of a symbolic plan is taken at when sizes must be compared or reported without a run. */
export const PLANNING_DIM_SIZE = 64;

/** The sizes a symbolic plan is planned and reported at: its maxDims, else 64 per dim. */
export function planningDims(plan: Plan): Record<string, number> {
  return Object.fromEntries((plan.dims ?? []).map((name) => [name, plan.maxDims?.[name] ?? PLANNING_DIM_SIZE]));
}

/** A buffer's bytes at `dims` (at least 4, as the runtime allocates). */
function bytesAtDims(b: PlanBuffer, dims: Readonly<Record<string, number>>): number {
  return typeof b.bytes === 'number' ? b.bytes : Math.max(4, evaluatePlanSize(b.bytes, dims));
}

interface Update {
  readonly from: number;
  readonly to: number;
}

/** Plans the memory of a compiled plan: in-place updates, then shared transient allocations. */
export function planMemory(plan: Plan): Plan {
  requirePlan('planMemory', plan);
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
  const entries = Object.values(plan.entries);
  const candidates = uniqueUpdates(entries.flatMap((entry) => entry.copies));
  const sourcesOf = new Map<number, Set<number>>();
  for (const { from, to } of candidates) sourcesOf.set(to, (sourcesOf.get(to) ?? new Set()).add(from));
  const uses = entries.map((entry) => bufferUses(plan.kernels, entry));
  const chosen = new Set<string>();
  for (const update of candidates) {
    const { from, to } = update;
    // One value per target across entries, so `to`'s memory never holds two different updates.
    if (sourcesOf.get(to)!.size > 1) continue;
    if (!sameLayout(plan.buffers[from]!, plan.buffers[to]!)) continue;
    // Every entry that touches `from` must update `to` from it: elsewhere writing `from` would clobber `to`.
    const touching = uses.filter((use) => use.touches(from));
    if (touching.length === 0 || !touching.every((use) => use.inPlaceLegal(update))) continue;
    chosen.add(`${from}→${to}`);
  }
  const isChosen = (copy: Update): boolean => chosen.has(`${copy.from}→${copy.to}`);
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

/** What the in-place rule asks of one entry about buffers, indexed once (asked per update by a scan, it is quadratic). */
function bufferUses(kernels: readonly PlanKernel[], entry: PlanEntry): { touches(from: number): boolean; inPlaceLegal(update: Update): boolean } {
  const firstBound = new Map<number, number>();
  const lastBound = new Map<number, number>();
  entry.dispatches.forEach((k, at) => {
    for (const { buffer } of kernels[k]!.bindings) {
      if (!firstBound.has(buffer)) firstBound.set(buffer, at);
      lastBound.set(buffer, at);
    }
  });
  const readBack = new Set(Object.values(entry.outputs));
  const copiesFrom = new Map<number, Update[]>();
  for (const copy of entry.copies) copiesFrom.set(copy.from, [...(copiesFrom.get(copy.from) ?? []), copy]);
  return {
    // Whether the entry needs `from` at all: bound by a dispatch, read back or copied.
    touches: (from) => firstBound.has(from) || readBack.has(from) || copiesFrom.has(from),
    // Whether `from` may be computed in `to`'s memory in this entry: it is this entry's only
    // copy of `from` and the copy goes to `to`; nothing reads `to`'s old value after the pass
    // (read back, or copied elsewhere); and neither `from`'s writer nor any dispatch after it binds `to`.
    inPlaceLegal: ({ from, to }) => {
      const copiesOfFrom = copiesFrom.get(from) ?? [];
      if (copiesOfFrom.length !== 1 || copiesOfFrom[0]!.to !== to) return false;
      if (copiesFrom.has(to) || readBack.has(to)) return false;
      const first = firstBound.get(from);
      if (first === undefined) return false;
      return !((lastBound.get(to) ?? -1) >= first);
    },
  };
}

/**
 * A block of shared memory and, per entry, the live intervals of the buffers in it, sorted
 * (they never overlap: a buffer joins only when it overlaps none of them).
 */
interface Block {
  /** Its first (largest) buffer's bytes at the planning dims: best-fit's order. */
  readonly bytes: number;
  /** The most bytes of its static buffers (at least 4): the allocation's recorded bytes. */
  staticBytes: number;
  readonly members: number[];
  readonly busy: LiveInterval[][];
}

/** Whether `interval` overlaps none of `sorted`, disjoint intervals sorted by start (a binary search). */
function freeDuring(sorted: readonly LiveInterval[], interval: LiveInterval): boolean {
  let [low, high] = [0, sorted.length];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]!.start <= interval.end) low = middle + 1;
    else high = middle;
  }
  // The last interval starting by `interval`'s end ends latest of those that could overlap it.
  return low === 0 || sorted[low - 1]!.end < interval.start;
}

function occupy(sorted: LiveInterval[], interval: LiveInterval): void {
  let at = sorted.length;
  while (at > 0 && sorted[at - 1]!.start > interval.start) at--;
  sorted.splice(at, 0, interval);
}

/** Allocation per buffer (numbered in buffer order) and the allocations' sizes. */
function assignAllocations(plan: Plan): { allocationOf: number[]; allocations: PlanAllocation[] } {
  const lives = Object.values(plan.entries).map((entry) => liveIntervals(plan, entry));
  const updateTarget = new Map(Object.values(plan.entries).flatMap((entry) => (entry.inPlace ?? []).map(({ from, to }) => [from, to] as const)));
  const blockOf = new Map<number, Block>();
  const hint = planningDims(plan);
  const bytesOf = (b: PlanBuffer): number => bytesAtDims(b, hint);
  const staticOf = (b: PlanBuffer): number => (typeof b.bytes === 'number' ? b.bytes : 4);
  const newBlock = (b: PlanBuffer, members: number[]): Block => ({ bytes: bytesOf(b), staticBytes: staticOf(b), members, busy: lives.map(() => []) });
  for (const b of plan.buffers) if (b.role !== 'transient') blockOf.set(b.id, newBlock(b, [b.id]));
  for (const [from, to] of updateTarget) {
    blockOf.get(to)!.members.push(from);
    blockOf.set(from, blockOf.get(to)!);
  }
  const disjoint = (block: Block, id: number): boolean =>
    lives.every((live, e) => {
      const mine = live.get(id);
      return !mine || freeDuring(block.busy[e]!, mine);
    });
  // Blocks in the order they were made, which is largest first (buffers come largest first).
  const shared: Block[] = [];
  const transients = plan.buffers.filter((b) => b.role === 'transient' && !updateTarget.has(b.id));
  for (const b of transients.sort((x, y) => bytesOf(y) - bytesOf(x) || x.id - y.id)) {
    // Best fit among blocks free for all of b's life: the smallest, the first made of those as small.
    let best: Block | undefined;
    for (let k = shared.length - 1; k >= 0 && !(best && shared[k]!.bytes > best.bytes); k--) if (disjoint(shared[k]!, b.id)) best = shared[k]!;
    if (!best) shared.push((best = newBlock(b, [])));
    best.members.push(b.id);
    best.staticBytes = Math.max(best.staticBytes, staticOf(b));
    lives.forEach((live, e) => {
      const mine = live.get(b.id);
      if (mine) occupy(best!.busy[e]!, mine);
    });
    blockOf.set(b.id, best);
  }
  const index = new Map<Block, number>();
  const allocations: PlanAllocation[] = [];
  const allocationOf = plan.buffers.map((b) => {
    const block = blockOf.get(b.id)!;
    if (!index.has(block)) {
      index.set(block, allocations.length);
      allocations.push({ bytes: block.staticBytes });
    }
    return index.get(block)!;
  });
  return { allocationOf, allocations };
}

/**
 * The plan's transient memory: naive sum, peak in use, and allocated (see MemoryReport). A
 * plan with symbolic dims is counted at `dims` (default `planningDims`: maxDims, else 64
 * per dim), as the runtime would allocate for a run of those sizes; `atDims` says which.
 */
export function memoryReport(plan: Plan, sizes?: Readonly<Record<string, number>>): MemoryReport {
  // The plan is checked before the default sizes read it.
  requirePlan('memoryReport', plan);
  if (sizes !== undefined && (sizes === null || typeof sizes !== 'object' || Array.isArray(sizes))) {
    throw new ArgumentError(`memoryReport: dims must be an object of dim name → size, e.g. {batch: 32}; got ${sizes === null ? 'null' : Array.isArray(sizes) ? 'an array' : typeof sizes}.`);
  }
  const dims = sizes ?? planningDims(plan);
  const transients = plan.buffers.filter((b) => b.role === 'transient');
  // A transient's memory: its allocation (unplanned: its own), unless that holds a param or state (in place).
  const blockOf = (b: PlanBuffer): number => (plan.allocations ? b.allocation! : b.id);
  // An allocation holds at least its static part and each of its buffers at `dims`.
  const blockBytes = new Map<number, number>();
  for (const b of plan.buffers) blockBytes.set(blockOf(b), Math.max(blockBytes.get(blockOf(b)) ?? (plan.allocations?.[blockOf(b)]!.bytes ?? 4), bytesAtDims(b, dims)));
  const bytesOf = (block: number): number => blockBytes.get(block)!;
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
    naiveTransientBytes: sum(transients.map((b) => bytesAtDims(b, dims))),
    peakTransientBytes: peak,
    allocationBytes: sum(blocks.map(bytesOf)),
    ...((plan.dims ?? []).length > 0 ? { atDims: { ...dims } } : {}),
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
