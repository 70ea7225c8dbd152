/**
 * What a benchmarked system (kiln, or a peer library on one of its backends) provides to
 * the harness: a start (backend and device, not timed) and, per workload it implements,
 * a small factory that builds the workload from the shared data. Adding a workload means
 * adding one such factory to each system module in bench/systems/.
 */

import type { BenchData } from './data-format.js';
import type { WorkloadId } from './workloads.js';

export interface WorkloadRun {
  /**
   * One iteration, ending with its result read back to the host: the synchronisation
   * every system shares before the clock stops. Returns the values the systems are
   * compared by (the loss; the logits; the product).
   */
  step(iteration: number): Promise<ArrayLike<number>>;
  /** GPU bytes in use as the library reports them now, where it exposes the figure. */
  gpuBytes?(): number;
  /** Frees what the workload holds (its GPU memory included). */
  dispose(): void | Promise<void>;
}

/** Builds a workload: graph or model, compilation, weights upload. Timed with the first step. */
export type WorkloadFactory = (data: BenchData) => Promise<WorkloadRun>;

export interface BenchSystem {
  readonly id: string;
  /** Column header in the results table, e.g. `TF.js WebGPU`. */
  readonly label: string;
  /** Where the computation runs: the GPU adapter, or plain CPU code (WebAssembly). */
  readonly processor: 'gpu' | 'cpu';
  /** npm packages whose versions the results name. */
  readonly packages: readonly string[];
  /** What the GPU-bytes figure is, or why there is none. */
  readonly gpuBytes: { readonly source: string } | { readonly notMeasured: string };
  readonly workloads: Readonly<Partial<Record<WorkloadId, WorkloadFactory>>>;
  /** Why the workloads it lacks are not measured: one reason for all, or one per workload. */
  readonly unsupported?: string | Readonly<Partial<Record<WorkloadId, string>>>;
  /**
   * How many threads its WebAssembly code runs on, as the library reports it (or as its
   * source decides it, where it reports nothing); asked after the workloads ran, since
   * some libraries start their threads lazily.
   */
  threads?(): string;
  /**
   * Makes this system the current one before each of its iterations (outside the clock):
   * TF.js has one active backend at a time, switched here.
   */
  activate?(): Promise<void>;
}

/** A system whose library loads only when asked, after the GPU counters are in place. */
export interface SystemEntry {
  readonly id: string;
  readonly label: string;
  load(): Promise<BenchSystem>;
}
