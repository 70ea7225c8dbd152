/**
 * `compile`: graph (or training program) → plan, as a pipeline of stages, each a pure
 * function of the one before. `compileStages` returns every stage as a named artifact —
 * the program as written, after `specializeModes`, after simplification, the fusion
 * groups of each entry, the kernels, the memory plan and the plan — so the report, the
 * CLI and the playground read what the compiler decided instead of recomputing it.
 * `compile` is its last stage. With `{check: true}` every stage is verified as it is made,
 * as XLA runs its verifier after each pass.
 */

import { Graph } from './graph.js';
import type { KernelLimits } from './limits.js';
import { kernelLimits } from './limits.js';
import type { TuningTable } from './codegen/tuning.js';
import { fuseProgram, lowerProgram } from './build-plan.js';
import type { FusionGroup } from './passes/fusion/group.js';
import { planMemory, memoryReport } from './memory.js';
import type { MemoryReport } from './memory.js';
import { programOf } from './passes/program.js';
import type { GraphProgram } from './passes/program.js';
import { specializeModes } from './passes/specialize-modes.js';
import { simplify } from './passes/simplify.js';
import { snapshotUpdatedOutputs } from './passes/snapshot-outputs.js';
import type { Plan, PlanAllocation } from './plan-format.js';
import type { TrainingProgram } from './train.js';
import { verify } from './verify.js';
import { checkStage } from './stage-checks.js';
import { checkCompileCall } from './compile-options.js';
import { ArgumentError } from './errors.js';
import { bindSourceDims } from './passes/bind-dims.js';

export interface CompileOptions {
  /** Fuse kernels (default true). `false` gives one kernel per op: the reference for fused results. */
  fuse?: boolean;
  /** Run the simplification passes first (default true). */
  simplify?: boolean;
  /** Plan memory: transient buffers share allocations, leftover updates go in place (default true). */
  memory?: boolean;
  /**
   * The device's limits (`device.limits`), so kernels use what the hardware offers and are
   * checked against it; the plan records them (`plan.limits`) and runs only on devices
   * whose kernels fit. Default: WebGPU's default limits, which every adapter offers, so a
   * plan meant to ship (compiled in Node, run in browsers) leaves this out.
   */
  limits?: Partial<KernelLimits>;
  /**
   * The kernel variants measured fastest on the target adapter (`autotune(device)`, or a
   * table saved from it). Default: every kernel's default variant.
   */
  tuning?: TuningTable;
  /**
   * Sizes for symbolic dims, bound before compiling (`{batch: 32}`): the plan is static in
   * them, as if the graph had been built with those sizes. Dims not named stay symbolic.
   */
  dims?: Readonly<Record<string, number>>;
  /**
   * The largest size of each symbolic dim the plan will be run with (`{batch: 256}`),
   * recorded as `plan.maxDims`: the runtime refuses larger runs. Default: no maximum.
   */
  maxDims?: Readonly<Record<string, number>>;
  /**
   * Verify every stage as it is made (the graph's invariants after each graph stage,
   * fusion's partition, the plan's structure and memory after the later ones), so a bug
   * is caught at the stage that made it. Default false (tests turn it on).
   */
  check?: boolean;
}

/** The memory planner's decisions, as data. */
export interface MemoryStage {
  /** Whether memory was planned (`options.memory`); unplanned, every buffer has its own allocation. */
  readonly planned: boolean;
  /** Device memory blocks (one GPUBuffer each). */
  readonly allocations: readonly PlanAllocation[];
  /** Buffer id → the allocation it lives in. */
  readonly allocationOf: readonly number[];
  /** Per entry: updates computed straight in their param's or state's memory (no copy after the pass). */
  readonly inPlace: Readonly<Record<string, readonly { readonly from: number; readonly to: number }[]>>;
  /** Transient bytes: naive sum, peak in use, allocated. */
  readonly report: MemoryReport;
}

/** Every stage of one compilation, in pipeline order. */
export interface CompileStages {
  /** The options the stages ran with (defaults filled in). */
  readonly options: { readonly simplify: boolean; readonly fuse: boolean; readonly memory: boolean; readonly limits: KernelLimits };
  /** The program as written: the user's graph with its entries (`forward`, and `trainStep` for a training program). */
  readonly written: GraphProgram;
  /** After `specializeModes`: each entry's train/infer switches (dropout, batch norm) resolved. */
  readonly specialized: GraphProgram;
  /**
   * After simplification (the specialized program itself when `simplify` is false), with a copy
   * for each output that names a param or state its entry updates (see snapshotUpdatedOutputs).
   * Kernels name this graph's node ids.
   */
  readonly simplified: GraphProgram;
  /** Per entry: its fusion groups in dispatch order, each with its kind, reason, in-place writes and binding count. */
  readonly fusion: Readonly<Record<string, readonly FusionGroup[]>>;
  /** The plan as lowered: every kernel's WGSL and bindings, buffers and entries, memory not yet planned. */
  readonly kernels: Plan;
  /** What the memory planner decided. */
  readonly memory: MemoryStage;
  /** The plan the runtime runs: the kernel stage with its memory planned. */
  readonly plan: Plan;
}

/** The names of the stages, in pipeline order. */
export const STAGE_NAMES = ['written', 'specialized', 'simplified', 'fusion', 'kernels', 'memory', 'plan'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Told how long each stage took to make, in milliseconds, as it is made (bench/compile-time.ts); the plan is made with the memory stage. */
export type StageTimer = (stage: StageName, milliseconds: number) => void;

/**
 * Compiles a graph (entries `init` and `forward`) or a training program (`init`, `forward`,
 * `trainStep`), returning every stage; `timer`, when given, hears each stage's time.
 */
export function compileStages(source: Graph | TrainingProgram, options: CompileOptions = {}, timer?: StageTimer): CompileStages {
  checkCompileCall('compileStages', source, options);
  const limits = kernelLimits(options.limits);
  const resolved = { simplify: options.simplify !== false, fuse: options.fuse !== false, memory: options.memory !== false, limits };
  // Bound first: every stage, the user's graph as verified included, has the static sizes.
  const bound = options.dims === undefined ? source : bindSourceDims(source, options.dims);
  const userGraph = bound instanceof Graph ? bound : bound.graph;
  const check = options.check === true ? checkStage : () => undefined;
  const timed = <T>(stage: StageName, make: () => T): T => {
    if (!timer) return make();
    const start = performance.now();
    const made = make();
    timer(stage, performance.now() - start);
    return made;
  };
  const written = timed('written', () => {
    // The user's graph is verified as written, so its errors name the user's nodes.
    verify(userGraph);
    return programOf(bound);
  });
  const specialized = timed('specialized', () => specializeModes(written));
  check({ stage: 'specialized', program: specialized });
  const simplified = timed('simplified', () => snapshotUpdatedOutputs(resolved.simplify ? simplify(specialized) : specialized));
  check({ stage: 'simplified', program: simplified });
  const fusion = timed('fusion', () => fuseProgram(simplified, { fuse: resolved.fuse, limits }));
  check({ stage: 'fusion', program: simplified, fusion });
  const kernels = timed('kernels', () => lowerProgram(simplified, fusion, { limits, tuning: options.tuning, userGraph }));
  check({ stage: 'kernels', plan: kernels });
  // The memory stage is the planner's decisions (and their report); the plan is the kernel stage with them applied.
  const { plan, memory } = timed('memory', () => {
    const planned = resolved.memory ? planMemory(kernels) : kernels;
    const limited = options.maxDims === undefined ? planned : { ...planned, maxDims: { ...options.maxDims } };
    return { plan: limited, memory: memoryStage(limited) };
  });
  check({ stage: 'plan', plan });
  return { options: resolved, written, specialized, simplified, fusion, kernels, memory, plan };
}

/**
 * Compiles a graph (entries `init` and `forward`) or a training program (`init`, `forward`,
 * `trainStep`) to a plan, typed by the names of each entry's outputs.
 */
export function compile<Forward extends string>(graph: Graph<Forward>, options?: CompileOptions): Plan<Forward, never>;
export function compile<Forward extends string, TrainStep extends string>(program: TrainingProgram<Forward, TrainStep>, options?: CompileOptions): Plan<Forward, TrainStep>;
export function compile(source: Graph | TrainingProgram, options?: CompileOptions): Plan;
export function compile(source: Graph | TrainingProgram, options: CompileOptions = {}): Plan {
  checkCompileCall('compile', source, options);
  return compileStages(source, options).plan;
}

/** Throws an ArgumentError naming `where` unless `value` holds a compilation's stages (what compileStages returns). */
export function requireStages(where: string, value: unknown): asserts value is CompileStages {
  const stages = value as Partial<CompileStages> | null;
  if (stages === null || typeof stages !== 'object' || !STAGE_NAMES.every((name) => name in stages) || typeof stages.options !== 'object') {
    throw new ArgumentError(`${where}: expected a compilation's stages (what compileStages(graph) returns), got ${value === null ? 'null' : typeof value}.`);
  }
}

function memoryStage(plan: Plan): MemoryStage {
  const planned = plan.allocations !== undefined;
  return {
    planned,
    // Unplanned, each buffer is its own allocation; a symbolic buffer's bytes come at run time (the static part is 0).
    allocations: plan.allocations ?? plan.buffers.map((b) => ({ bytes: typeof b.bytes === 'number' ? b.bytes : 0 })),
    allocationOf: plan.buffers.map((b) => (planned ? b.allocation! : b.id)),
    inPlace: Object.fromEntries(Object.entries(plan.entries).map(([name, entry]) => [name, entry.inPlace ?? []])),
    report: memoryReport(plan),
  };
}
