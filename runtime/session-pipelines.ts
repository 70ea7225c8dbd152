/**
 * A session's pipelines, created in the background in the order its first steps need
 * them: `init`'s kernels (which Session.create runs), then `trainStep`'s and `forward`'s in
 * dispatch order, then other entries' and any kernel no entry dispatches. Each run of an
 * entry waits for its own entry's pipelines only, so `trainStep` never waits for a kernel
 * only `forward` dispatches, and a kernel the device does not compile fails the runs of the
 * entries that dispatch it (with a KernelError naming it), and `ready`, never the others.
 */

import type { Plan } from '../compiler/plan-format.js';
import { pipelineFor, pipelineKey } from './pipelines.js';

/** How many of a session's distinct pipelines are made (`ready`) of `total`. */
export interface PipelineProgress {
  readonly ready: number;
  readonly total: number;
}

/** The entries whose pipelines come first, in this order: what a session runs first. */
const FIRST_ENTRIES = ['init', 'trainStep', 'forward'];

/** Kernel indices in the order their pipelines are created (each once). */
export function creationOrder(plan: Plan): number[] {
  const names = [...FIRST_ENTRIES.filter((name) => plan.entries[name]), ...Object.keys(plan.entries).filter((name) => !FIRST_ENTRIES.includes(name))];
  return [...new Set([...names.flatMap((name) => plan.entries[name]!.dispatches), ...plan.kernels.keys()])];
}

export class SessionPipelines {
  /** Resolves once every pipeline is made; rejects with the KernelError of the first that fails. */
  readonly ready: Promise<void>;
  /** Each kernel's pipeline, by kernel index. */
  private readonly pipelines: Promise<GPUComputePipeline>[] = [];
  private readonly entries = new Map<string, Promise<GPUComputePipeline[]>>();

  /** Starts creating every pipeline of `plan` on `device`; `onProgress` hears each distinct one made (see SessionOptions.onProgress). */
  constructor(
    device: GPUDevice,
    private readonly plan: Plan,
    onProgress?: (progress: PipelineProgress) => void,
  ) {
    const order = creationOrder(plan);
    for (const k of order) this.pipelines[k] = pipelineFor(device, plan.kernels[k]!);
    this.ready = Promise.all(this.pipelines).then(() => undefined);
    // Handled here, so a failure nobody awaits is no unhandled rejection: the runs that need the kernel report it.
    this.ready.catch(() => undefined);
    if (onProgress) {
      // Each distinct pipeline once (its first kernel's promise); keyed only when someone listens.
      const distinct = new Map<string, Promise<GPUComputePipeline>>();
      for (const k of order) {
        const key = pipelineKey(plan.kernels[k]!);
        if (!distinct.has(key)) distinct.set(key, this.pipelines[k]!);
      }
      reportProgress([...distinct.values()], onProgress);
    }
  }

  /** The pipelines of an entry's dispatches, in dispatch order. */
  entry(name: string): Promise<GPUComputePipeline[]> {
    let made = this.entries.get(name);
    if (!made) {
      made = Promise.all(this.plan.entries[name]!.dispatches.map((k) => this.pipelines[k]!));
      this.entries.set(name, made);
    }
    return made;
  }
}

/**
 * Calls `onProgress` as each pipeline is made (the last call says `ready === total`; a plan
 * without kernels gets one call, `{ready: 0, total: 0}`). A callback that throws does not
 * stop the pipelines: its error is an unhandled rejection, which the host reports.
 */
function reportProgress(pipelines: readonly Promise<GPUComputePipeline>[], onProgress: (progress: PipelineProgress) => void): void {
  const total = pipelines.length;
  let ready = 0;
  if (total === 0) onProgress({ ready, total });
  for (const pipeline of pipelines) pipeline.then(() => onProgress({ ready: ++ready, total }), () => undefined);
}
