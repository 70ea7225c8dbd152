/**
 * `compileReport`: what `compile` decided, as data a person (or the playground, or the
 * `kiln inspect` CLI) can read: for each entry point the kernels in dispatch order with
 * the fusion rule that formed each and why, the graph nodes they implement, their WGSL,
 * dispatch size and bindings; every buffer's lifetime; peak against naive transient
 * memory; and the simplified graph the kernels' node ids refer to. `printReport` (in
 * report-print.ts) turns it into text.
 */

import { Graph } from './graph.js';
import { liveIntervals } from './liveness.js';
import type { MemoryReport } from './memory.js';
import { compileStages, requireStages } from './plan.js';
import type { CompileOptions, CompileStages } from './plan.js';
import type { BufferRole, KernelKind, Plan, PlanDType, PlanEntry, PlanKernel, PlanSize, PlanWorkgroupCount } from './plan-format.js';
import type { TrainingProgram } from './train.js';
import { checkCompileCall } from './compile-options.js';

/** One storage binding of a kernel. */
export interface BindingReport {
  /** `@binding(i)`. */
  readonly binding: number;
  /** Plan buffer id and name. */
  readonly buffer: number;
  readonly name: string;
  readonly role: BufferRole;
  /** Bytes, or a symbolic size in the plan's dims (`"3136*batch"`). */
  readonly bytes: PlanSize;
  /** `var<storage, read>` or `var<storage, read_write>`, as the kernel declares it. */
  readonly access: 'read' | 'read_write';
}

/** One dispatch of an entry. */
export interface KernelReport {
  /** Position in the entry's dispatch order (0 first). */
  readonly position: number;
  /** Index in `plan.kernels`. */
  readonly kernel: number;
  readonly name: string;
  /** The fusion rule that formed it, and that rule's one-line reason. */
  readonly kind: KernelKind;
  readonly reason: string;
  /** The graph nodes it implements (ids in the simplified graph), with their ops. */
  readonly ops: readonly { readonly op: string; readonly node: number }[];
  readonly wgsl: string;
  /** Workgroups per axis; a count computed per run is `{size, per}` (ceil(size / per)). */
  readonly workgroups: readonly [PlanWorkgroupCount, PlanWorkgroupCount, PlanWorkgroupCount];
  /** `@workgroup_size` as the WGSL declares it. */
  readonly workgroupSize: readonly [number, number, number];
  readonly bindings: readonly BindingReport[];
}

/**
 * When a buffer holds a value the entry still needs, in dispatch positions: -1 is before
 * the pass (inputs written), 0 … n-1 the dispatches, n after the pass (outputs read back,
 * copies). Params, state and consts live across the whole entry.
 */
export interface BufferLifetime {
  readonly buffer: number;
  readonly name: string;
  readonly role: BufferRole;
  readonly dtype: PlanDType;
  readonly shape: readonly PlanSize[];
  readonly bytes: PlanSize;
  /** The memory block it shares (planned memory only). */
  readonly allocation?: number;
  readonly first: number;
  readonly last: number;
}

export interface EntryReport {
  readonly name: string;
  readonly inputs: Readonly<Record<string, number>>;
  readonly outputs: Readonly<Record<string, number>>;
  readonly kernels: readonly KernelReport[];
  /** Every buffer the entry touches (binds, feeds, reads back or updates), by first use, then id. */
  readonly buffers: readonly BufferLifetime[];
  readonly copies: readonly { readonly from: number; readonly to: number }[];
  readonly inPlace: readonly { readonly from: number; readonly to: number }[];
}

export interface CompileReport {
  readonly name: string;
  /** The stages that ran (compile's options, defaults filled in). */
  readonly stages: { readonly simplify: boolean; readonly fuse: boolean; readonly memory: boolean };
  /** The graph the kernels were built from (after simplification when it ran), as SSA text. */
  readonly graph: string;
  readonly entries: readonly EntryReport[];
  /** Transient bytes: naive sum, peak in use, allocated; with the plan's buffer and allocation counts. */
  readonly memory: MemoryReport & { readonly buffers: number; readonly allocations: number };
}

/** Compiles `source` as `compile` does, and reports what it decided (see the module comment). */
export function compileReport(source: Graph | TrainingProgram, options: CompileOptions = {}): { plan: Plan; report: CompileReport; stages: CompileStages } {
  checkCompileCall('compileReport', source, options);
  const stages = compileStages(source, options);
  return { plan: stages.plan, report: reportOfStages(stages), stages };
}

/** The report of a compilation whose stages are at hand: it reads them and recomputes nothing. */
export function reportOfStages(stages: CompileStages): CompileReport {
  requireStages('reportOfStages', stages);
  const { plan } = stages;
  const { simplify, fuse, memory } = stages.options;
  return {
    name: plan.name,
    stages: { simplify, fuse, memory },
    graph: stages.simplified.graph.toString(),
    entries: Object.entries(plan.entries).map(([name, entry]) => entryReport(plan, name, entry)),
    memory: { ...stages.memory.report, buffers: plan.buffers.length, allocations: stages.memory.allocations.length },
  };
}

function entryReport(plan: Plan, name: string, entry: PlanEntry): EntryReport {
  const live = liveIntervals(plan, entry);
  // Params and state live through every entry; list only the buffers this entry touches.
  const used = new Set([
    ...entry.dispatches.flatMap((k) => plan.kernels[k]!.bindings.map(({ buffer }) => buffer)),
    ...Object.values(entry.inputs),
    ...Object.values(entry.outputs),
    ...[...entry.copies, ...(entry.inPlace ?? [])].flatMap(({ from, to }) => [from, to]),
  ]);
  const buffers = [...live.entries()]
    .filter(([id]) => used.has(id))
    .map(([id, { start, end }]): BufferLifetime => {
      const b = plan.buffers[id]!;
      return {
        buffer: id,
        name: b.name,
        role: b.role,
        dtype: b.dtype,
        shape: b.shape,
        bytes: b.bytes,
        ...(b.allocation === undefined ? {} : { allocation: b.allocation }),
        first: start,
        last: end,
      };
    })
    .sort((x, y) => x.first - y.first || x.buffer - y.buffer);
  return {
    name,
    inputs: entry.inputs,
    outputs: entry.outputs,
    kernels: entry.dispatches.map((k, position) => kernelReport(plan, k, position)),
    buffers,
    copies: entry.copies,
    inPlace: entry.inPlace ?? [],
  };
}

function kernelReport(plan: Plan, index: number, position: number): KernelReport {
  const kernel: PlanKernel = plan.kernels[index]!;
  return {
    position,
    kernel: index,
    name: kernel.name,
    kind: kernel.kind ?? 'single',
    reason: kernel.reason ?? '',
    ops: kernel.ops.map((op, i) => ({ op, node: kernel.nodes[i]! })),
    wgsl: kernel.wgsl,
    workgroups: kernel.workgroups,
    workgroupSize: kernel.workgroupSize,
    bindings: kernel.bindings.map(({ buffer, access }, binding): BindingReport => {
      const b = plan.buffers[buffer]!;
      return { binding, buffer, name: b.name, role: b.role, bytes: b.bytes, access };
    }),
  };
}

