/**
 * The measuring loop, the same in the page and in Node. For each workload, every system
 * builds it and takes its first step (timed together: the first result), then all
 * systems take turns, one iteration each (A, B, C, A, B, C, ...), so load on the machine
 * slows them alike; the first `warmup` rounds are not timed. Each iteration ends with its
 * result read back to the host, in every system. Dispatches and submits are the GPU
 * counters' increase across one iteration.
 */

import { requestDevice } from '../runtime/device.js';
import type { BenchData } from './data-format.js';
import { readGpuCounts } from './gpu-counters.js';
import type { GpuCounts } from './gpu-counters.js';
import type { BenchSystem, SystemEntry, WorkloadRun } from './system.js';
import type { Workload, WorkloadId } from './workloads.js';
import { WORKLOADS } from './workloads.js';

export interface BenchSettings {
  readonly warmup: number;
  readonly iterations: number;
  readonly workloads: readonly WorkloadId[];
  /** A `--quick` smoke run: systems a workload marks slow are left out of it. */
  readonly quick?: boolean;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface SystemResult {
  readonly system: string;
  /** `skipped`: left out of a `--quick` run (Workload.slowSystems). */
  readonly status: 'measured' | 'failed' | 'unsupported' | 'skipped';
  readonly reason?: string;
  /** Building the workload (graph or model, compilation, weights upload) and its first step, read back. */
  readonly firstResultMs?: number;
  readonly timesMs?: readonly number[];
  readonly medianMs?: number;
  readonly minMs?: number;
  readonly maxMs?: number;
  /** Per timed iteration; null where not measured (no counters, or a CPU system). */
  readonly dispatches?: Range | null;
  readonly submits?: Range | null;
  /** The largest figure the library reported after any iteration; null where it exposes none. */
  readonly peakGpuBytes?: number | null;
  /** Training: the loss after each step (first, warm-up and timed steps). */
  readonly losses?: readonly number[];
  /** The sum of the last iteration's values: a fingerprint to read side by side. */
  readonly resultSum?: number;
  /** max |this − reference| / max |reference| over the compared values. */
  readonly relativeDifference?: number;
}

export interface WorkloadResult {
  readonly id: WorkloadId;
  readonly label: string;
  /** Warm-up and timed rounds this workload ran: the run's settings, or fewer (Workload.iterationCap). */
  readonly warmup: number;
  readonly iterations: number;
  /** Why it ran fewer rounds than the run's settings. */
  readonly capped?: string;
  readonly flops?: number;
  /** The system the others' values are compared with (kiln when it ran). */
  readonly reference?: string;
  readonly results: readonly SystemResult[];
}

export interface SystemInfo {
  readonly id: string;
  readonly label: string;
  readonly processor?: 'gpu' | 'cpu';
  readonly packages?: readonly string[];
  readonly gpuBytes?: BenchSystem['gpuBytes'];
  /** Its WebAssembly threads, where it has WebAssembly code (BenchSystem.threads). */
  readonly threads?: string;
  /** Why it could not run at all (its library failed to load or start). */
  readonly loadError?: string;
}

export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly software: boolean;
}

export interface HarnessOutput {
  readonly adapter: AdapterInfo | { readonly error: string };
  readonly countersInstalled: boolean;
  /**
   * Whether the page was cross-origin isolated (SharedArrayBuffer, hence WebAssembly
   * threads, available); absent in Node, which has no such notion.
   */
  readonly crossOriginIsolated?: boolean;
  readonly systems: readonly SystemInfo[];
  readonly workloads: readonly WorkloadResult[];
}

export type Log = (line: string) => void;

const message = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const rangeOf = (values: readonly number[]): Range | null => (values.length ? { min: Math.min(...values), max: Math.max(...values) } : null);

function relativeDifference(values: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (values.length !== reference.length) return Infinity;
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    difference = Math.max(difference, Math.abs(values[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return Number.isNaN(difference) ? Infinity : difference / (scale || 1);
}

/** One system's state while a workload runs. */
interface Runner {
  readonly system: BenchSystem;
  run?: WorkloadRun;
  failure?: string;
  firstResultMs?: number;
  readonly times: number[];
  readonly dispatches: number[];
  readonly submits: number[];
  readonly compared: number[];
  last?: ArrayLike<number>;
  peakGpuBytes?: number;
}

/** Runs one iteration and records it; returns its time (result read back), the bookkeeping after it excluded. */
async function iterate(runner: Runner, workload: Workload, iteration: number, timed: boolean): Promise<number> {
  await runner.system.activate?.();
  const before: GpuCounts | undefined = readGpuCounts();
  const start = performance.now();
  const values = await runner.run!.step(iteration);
  const elapsed = performance.now() - start;
  const after = readGpuCounts();
  if (timed) {
    runner.times.push(elapsed);
    if (before && after && runner.system.processor === 'gpu') {
      runner.dispatches.push(after.dispatches - before.dispatches);
      runner.submits.push(after.submits - before.submits);
    }
  }
  runner.last = values;
  if (workload.compare === 'last') runner.compared.length = 0;
  for (let i = 0; i < values.length; i++) runner.compared.push(values[i]!);
  const bytes = runner.run!.gpuBytes?.();
  if (bytes !== undefined) runner.peakGpuBytes = Math.max(runner.peakGpuBytes ?? 0, bytes);
  return elapsed;
}

async function runWorkload(workload: Workload, systems: readonly BenchSystem[], data: BenchData, settings: BenchSettings, log: Log): Promise<WorkloadResult> {
  /** Systems that do not run this workload (unsupported, or skipped in --quick), with why. */
  const notRun: SystemResult[] = [];
  const runners: Runner[] = [];
  for (const system of systems) {
    const slow = workload.slowSystems?.[system.id];
    if (settings.quick && slow !== undefined) {
      notRun.push({ system: system.id, status: 'skipped', reason: `left out of --quick runs: ${slow}` });
      log(`  ${workload.id} ${system.id}: skipped in --quick (${slow})`);
      continue;
    }
    const factory = system.workloads[workload.id];
    if (!factory) {
      const reason = typeof system.unsupported === 'string' ? system.unsupported : system.unsupported?.[workload.id];
      notRun.push({ system: system.id, status: 'unsupported', reason: reason ?? 'not implemented for this system' });
      continue;
    }
    const runner: Runner = { system, times: [], dispatches: [], submits: [], compared: [] };
    runners.push(runner);
    try {
      await system.activate?.();
      const start = performance.now();
      runner.run = await factory(data);
      const buildMs = performance.now() - start;
      runner.firstResultMs = buildMs + (await iterate(runner, workload, 0, false));
      log(`  ${workload.id} ${system.id}: first result in ${runner.firstResultMs.toFixed(0)} ms`);
    } catch (error) {
      runner.failure = message(error);
      log(`  ${workload.id} ${system.id}: failed: ${runner.failure}`);
    }
  }
  const cap = workload.iterationCap;
  const warmup = Math.min(settings.warmup, cap?.warmup ?? Infinity);
  const iterations = Math.min(settings.iterations, cap?.iterations ?? Infinity);
  const capped = cap && (warmup < settings.warmup || iterations < settings.iterations) ? { capped: cap.why } : {};
  for (let iteration = 1; iteration <= warmup + iterations; iteration++) {
    for (const runner of runners) {
      if (runner.failure !== undefined) continue;
      try {
        await iterate(runner, workload, iteration, iteration > warmup);
      } catch (error) {
        runner.failure = `iteration ${iteration}: ${message(error)}`;
        log(`  ${workload.id} ${runner.system.id}: failed: ${runner.failure}`);
      }
    }
  }
  for (const runner of runners) {
    try {
      await runner.run?.dispose();
    } catch (error) {
      log(`  ${workload.id} ${runner.system.id}: dispose failed: ${message(error)}`);
    }
  }

  const measured = runners.filter((r) => r.failure === undefined);
  const reference = measured.find((r) => r.system.id === 'kiln') ?? measured[0];
  const results = runners.map((runner): SystemResult => {
    if (runner.failure !== undefined) return { system: runner.system.id, status: 'failed', reason: runner.failure };
    return {
      system: runner.system.id,
      status: 'measured',
      firstResultMs: runner.firstResultMs!,
      timesMs: runner.times,
      medianMs: median(runner.times),
      minMs: Math.min(...runner.times),
      maxMs: Math.max(...runner.times),
      dispatches: rangeOf(runner.dispatches),
      submits: rangeOf(runner.submits),
      peakGpuBytes: runner.peakGpuBytes ?? null,
      ...(workload.compare === 'every-step' ? { losses: [...runner.compared] } : {}),
      resultSum: Array.from(runner.last!).reduce((a, b) => a + b, 0),
      relativeDifference: relativeDifference(runner.compared, reference!.compared),
    };
  });
  return { id: workload.id, label: workload.label, warmup, iterations, ...capped, ...(workload.flops ? { flops: workload.flops } : {}), ...(reference ? { reference: reference.system.id } : {}), results: [...results, ...notRun] };
}

async function adapterInfo(): Promise<HarnessOutput['adapter']> {
  try {
    const gpu = await requestDevice();
    const { vendor, architecture, description, software } = gpu.info;
    gpu.destroy();
    return { vendor, architecture, description, software };
  } catch (error) {
    return { error: message(error) };
  }
}

/** Loads the systems (each library only now) and runs the workloads in order. */
export async function runHarness(entries: readonly SystemEntry[], data: BenchData, settings: BenchSettings, log: Log): Promise<HarnessOutput> {
  const adapter = await adapterInfo();
  const systems: BenchSystem[] = [];
  const infos: SystemInfo[] = [];
  for (const entry of entries) {
    try {
      const system = await entry.load();
      systems.push(system);
      infos.push({ id: system.id, label: system.label, processor: system.processor, packages: system.packages, gpuBytes: system.gpuBytes });
    } catch (error) {
      infos.push({ id: entry.id, label: entry.label, loadError: message(error) });
      log(`${entry.id}: could not start: ${message(error)}`);
    }
  }
  const workloads: WorkloadResult[] = [];
  for (const workload of WORKLOADS.filter((w) => settings.workloads.includes(w.id))) {
    log(`${workload.label}`);
    workloads.push(await runWorkload(workload, systems, data, settings, log));
  }
  const withThreads = infos.map((info) => {
    const system = systems.find((s) => s.id === info.id);
    return system?.threads ? { ...info, threads: system.threads() } : info;
  });
  const isolation = typeof crossOriginIsolated === 'boolean' ? { crossOriginIsolated } : {};
  return { adapter, countersInstalled: readGpuCounts() !== undefined, ...isolation, systems: withThreads, workloads };
}
