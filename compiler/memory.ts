/**
 * The memory planner, a pure Plan → Plan pass (XLA-style buffer assignment):
 *
 * 1. In-place updates: an update copy `from → to` (param/state ← new value) is dropped
 *    when `from` can simply live in `to`'s memory: the first kernel writing `from` is the
 *    last to read `to`'s old value, and reads it only at the element it writes (an
 *    elementwise kernel, whose `to` binding is then folded into its output binding:
 *    WebGPU forbids binding one buffer as read-only and read_write in one dispatch).
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
import { sanitize } from './codegen/wgsl.js';

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

/** The plan with every legal in-place update applied (copies dropped, writer kernels folded). */
function updateInPlace(plan: Plan): Plan {
  const kernels = [...plan.kernels];
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
    if (touching.length === 0 || !touching.every((entry) => inPlaceLegal(plan, kernels, entry, update))) continue;
    for (const entry of touching) {
      const k = entry.dispatches.find((d) => bindsBuffer(kernels[d]!, from))!;
      if (bindsBuffer(kernels[k]!, to)) kernels[k] = foldInPlace(kernels[k]!, update, plan.buffers[to]!.name)!;
    }
    chosen.push(update);
  }
  const isChosen = (copy: Update): boolean => chosen.some((u) => u.from === copy.from && u.to === copy.to);
  const rewritten = Object.fromEntries(
    Object.entries(plan.entries).map(([name, entry]): [string, PlanEntry] => {
      const inPlace = [...(entry.inPlace ?? []), ...entry.copies.filter(isChosen)];
      return [name, { ...entry, copies: entry.copies.filter((copy) => !isChosen(copy)), ...(inPlace.length > 0 ? { inPlace } : {}) }];
    }),
  );
  return { ...plan, kernels, entries: rewritten };
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
 * (read back, or copied elsewhere); no dispatch after `from`'s writer binds `to`; and the
 * writer reads `to` only if it is elementwise (element i read before element i is written).
 */
function inPlaceLegal(plan: Plan, kernels: readonly PlanKernel[], entry: PlanEntry, { from, to }: Update): boolean {
  const copiesOfFrom = entry.copies.filter((copy) => copy.from === from);
  if (copiesOfFrom.length !== 1 || copiesOfFrom[0]!.to !== to) return false;
  if (entry.copies.some((copy) => copy.from === to) || Object.values(entry.outputs).includes(to)) return false;
  const order = entry.dispatches.map((k) => kernels[k]!);
  const first = order.findIndex((kernel) => bindsBuffer(kernel, from));
  if (first < 0 || order.slice(first + 1).some((kernel) => bindsBuffer(kernel, to))) return false;
  const writer = order[first]!;
  return !bindsBuffer(writer, to) || foldInPlace(writer, { from, to }, plan.buffers[to]!.name) !== undefined;
}

const DECLARATION = /^@group\(0\) @binding\((\d+)\) var<storage, (?:read|read_write)> (\w+): (array<[^;]+>);$/gm;

/**
 * The elementwise kernel `writer` rewritten to read `to` through its output binding (of
 * `from`): `to`'s bindings are dropped and later bindings renumbered. Undefined when the
 * kernel is not elementwise or its declarations are not the plain one-per-binding form.
 */
export function foldInPlace(writer: PlanKernel, { from, to }: Update, targetName: string): PlanKernel | undefined {
  if (!writer.elementwise) return undefined;
  const declared = new Map([...writer.wgsl.matchAll(DECLARATION)].map((m) => [Number(m[1]), { line: m[0], name: m[2]!, type: m[3]! }]));
  if (declared.size !== writer.bindings.length || writer.bindings.some((_, b) => !declared.has(b))) return undefined;
  const outputs = writer.bindings.flatMap(({ buffer }, b) => (buffer === from ? [b] : []));
  const out = declared.get(outputs[0]!);
  if (outputs.length !== 1 || writer.bindings[outputs[0]!]!.access !== 'read_write' || !out) return undefined;
  const folded = writer.bindings.flatMap(({ buffer }, b) => (buffer === to ? [b] : []));
  if (folded.some((b) => writer.bindings[b]!.access !== 'read' || declared.get(b)!.type !== out.type)) return undefined;
  const kept = writer.bindings.map((_, b) => b).filter((b) => !folded.includes(b));
  const renamed = new Map(folded.map((b) => [declared.get(b)!.name, out.name]));
  const dropped = new Set(folded.map((b) => declared.get(b)!.line));
  const lines = writer.wgsl
    .split('\n')
    .filter((line) => !dropped.has(line))
    .map((line) => {
      if (line.startsWith('//')) return line;
      const renumbered = line.replace(DECLARATION, (decl, index: string) => decl.replace(`@binding(${index})`, `@binding(${kept.indexOf(Number(index))})`));
      return renumbered.replace(/\b\w+\b/g, (word) => renamed.get(word) ?? word);
    });
  const headerEnd = Math.max(0, lines.findIndex((line) => !line.startsWith('//')));
  // The target's name is the user's: sanitized, as every name in WGSL (a line break of any kind would end the comment).
  lines.splice(headerEnd, 0, `// in place: ${out.name} is written over ${sanitize(targetName)}, which it reads (they share memory)`);
  return { ...writer, wgsl: lines.join('\n'), bindings: kept.map((b) => writer.bindings[b]!) };
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
    for (let at = BEFORE_PASS; at <= entry.dispatches.length; at++) {
      const point = { start: at, end: at };
      const inUse = new Set(owned.filter((b) => overlapping(point, live.get(b.id))).map(blockOf));
      peak = Math.max(peak, sum([...inUse].map(bytesOf)));
    }
  }
  return {
    naiveTransientBytes: sum(transients.map((b) => b.bytes)),
    peakTransientBytes: peak,
    allocationBytes: sum(blocks.map(bytesOf)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
