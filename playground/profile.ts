/**
 * Time kernels: each dispatch of an entry alone on the device (runtime/profile.ts), on
 * zero-filled buffers of its bindings' sizes (time depends on sizes, not values, and the
 * session's own buffers stay untouched), at the sizes the costs were counted at. GPU
 * timestamps around each pass where the adapter has `timestamp-query`; else the wall clock
 * from submit to done, which adds a submit's overhead to every kernel, and the note says so.
 */

import type { Plan } from '../runtime.js';
import { atDims, profileEntry } from '../runtime/profile.js';

/** Timed dispatches per kernel after an untimed one; the figure is their median. */
const RUNS = 5;

export interface KernelTimes {
  /** µs per dispatch, in the entry's dispatch order. */
  readonly microseconds: readonly number[];
  /** How they were measured, for the note above the table. */
  readonly note: string;
}

export async function timeKernels(device: GPUDevice, plan: Plan, entryName: string, dims: Readonly<Record<string, number>>): Promise<KernelTimes> {
  const timestamps = device.features.has('timestamp-query');
  const timings = await profileEntry(device, plan, entryName, RUNS, dims, timestamps ? 'timestamps' : 'wall');
  const at = atDims(dims);
  return {
    microseconds: timings.map(({ ms }) => ms * 1000),
    note: timestamps
      ? `GPU µs per dispatch${at}: timestamp queries around each kernel, median of ${RUNS} runs on scratch buffers.`
      : `µs per dispatch${at} by the wall clock, submit to done, median of ${RUNS} runs: this adapter has no timestamp-query, so each time includes a submit’s overhead.`,
  };
}
