/**
 * The options of a Session (`Session.create`) and of its runs, and the checks of those
 * that depend on the plan.
 */

import { ArgumentError } from '../compiler/errors.js';
import type { Plan } from '../compiler/plan-format.js';
import type { NumericsCheckOptions } from './numerics.js';
import type { RunDims } from './run-dims.js';
import type { PipelineProgress } from './session-pipelines.js';

export interface RunOptions {
  /** Names of the entry's outputs to read back; default all. `[]` reads nothing back. */
  outputs?: readonly string[];
  /**
   * Also check the feeds' values (default false: it reads every value on the host): NaN
   * and ±Infinity in f32 feeds, and values outside an input's declared range (class labels
   * of softmax cross-entropy, embedding ids), which the graph would ignore without an
   * error, are rejected with a FeedError before anything reaches the GPU.
   */
  checkFeeds?: boolean;
  /** Check this run for NaN and ±Infinity (true), or skip the check the session's schedule asks for (false). */
  checkNumerics?: boolean;
  /**
   * Sizes of the plan's symbolic dims for this run (`{batch: 32}`), where the feeds do not
   * tell them: a fed tensor's shape binds its dims, and a flat array the one dim its size
   * is linear in. Sizes given here must agree with the feeds.
   */
  dims?: Readonly<Record<string, number>>;
}

export interface SessionOptions {
  /**
   * Check the first run and every `every`-th after it for NaN and ±Infinity on the GPU: a
   * checked run that finds one rejects with a NumericsError naming the first kernel (in
   * dispatch order), its graph nodes and the buffer. Unchecked runs cost nothing extra.
   */
  checkNumerics?: NumericsCheckOptions;
  /**
   * Largest size of each symbolic dim this session runs (at most the plan's `maxDims`):
   * memory is allocated for them at once, so no run grows it, and a larger run is refused.
   */
  maxDims?: Readonly<Record<string, number>>;
  /**
   * Hears pipeline creation, for a progress bar: called with `{ready, total}` (distinct
   * pipelines made, of the plan's) as each is made, the last time with `ready === total`.
   * Session.create resolves once the `init` entry's pipelines are made and it has run; the
   * others keep compiling in the background (`session.ready` resolves when all are made).
   */
  onProgress?: (progress: PipelineProgress) => void;
}

export interface LoadCheckpointOptions {
  /**
   * `true` (default): the checkpoint must hold exactly the plan's params and state.
   * `false`: load the tensors both have and ignore the rest (e.g. a training checkpoint,
   * with optimizer state, into a forward-only plan). Dtypes and shapes must match either way.
   */
  strict?: boolean;
}

/** Run options that name the outputs to read back: the result holds exactly those. */
export type RunOptionsFor<Names extends string> = RunOptions & { outputs: readonly Names[] };

/** The largest size of each dim a session runs: the plan's maxDims and the session's, the smaller where both name a dim. */
export function sessionMaxDims(plan: Plan, given: Readonly<Record<string, number>> | undefined): RunDims {
  const limits: Record<string, number> = { ...plan.maxDims };
  if (given === undefined) return limits;
  if (given === null || typeof given !== 'object') throw new ArgumentError(`Session.create: maxDims must be an object {dimName: size}, got ${given === null ? 'null' : typeof given}.`);
  for (const [name, size] of Object.entries(given)) {
    if (!(plan.dims ?? []).includes(name)) throw new ArgumentError(`Session.create: maxDims names '${name}', which is not a dim of plan '${plan.name}' (${(plan.dims ?? []).join(', ') || 'it has none'}).`);
    if (!Number.isSafeInteger(size) || size < 1) throw new ArgumentError(`Session.create: maxDims.${name} must be a positive integer, got ${JSON.stringify(size)}.`);
    limits[name] = Math.min(size, limits[name] ?? size);
  }
  return limits;
}

/** The session's progress callback, if any: a function. */
export function checkOnProgress(onProgress: unknown): ((progress: PipelineProgress) => void) | undefined {
  if (onProgress === undefined || typeof onProgress === 'function') return onProgress as ((progress: PipelineProgress) => void) | undefined;
  throw new ArgumentError(`Session.create: onProgress must be a function ({ready, total}) => void, got ${onProgress === null ? 'null' : typeof onProgress}.`);
}
