/**
 * Learning-rate schedules, computed in graph ops from the optimizer's step counter (an
 * i32 `state` every training step increments; ops/step-counter.ts). The learning rate is
 * therefore a node like any other: it fuses into the update kernels and needs no host
 * round trip.
 */

import { ArgumentError } from './errors.js';
import type { Graph } from './graph.js';
import { checkKeys, checkNumber } from './ops/args.js';
import type { NumberRange } from './ops/args.js';
import { cast } from './ops/cast.js';
import { maximum, minimum, where } from './ops/binary.js';
import { requireTensor } from './ops/lift.js';
import type { Tensor } from './tensor.js';

interface Warmup {
  /**
   * Linear warmup: for step k < warmupSteps the rate is lr·k/warmupSteps (0 on the first
   * step, as in Optax and Hugging Face), then the schedule starts, counting from 0.
   */
  warmupSteps?: number;
}

/**
 * A learning-rate schedule; k is the number of steps already taken (0 on the first step).
 * - `constant`: lr.
 * - `step`: lr·gamma^⌊k/stepSize⌋ (PyTorch `StepLR`).
 * - `exponential`: lr·gamma^k (PyTorch `ExponentialLR`).
 * - `cosine`: minLr + (lr − minLr)·(1 + cos(π·k/T))/2 with T = totalSteps − warmupSteps,
 *   then minLr once k ≥ T (PyTorch `CosineAnnealingLR` over one half period; `totalSteps`
 *   counts the warmup, as in Optax's `warmup_cosine_decay_schedule`).
 */
export type LearningRateSchedule =
  | ({ kind: 'constant'; lr: number } & Warmup)
  | ({ kind: 'step'; lr: number; stepSize: number; gamma: number } & Warmup)
  | ({ kind: 'exponential'; lr: number; gamma: number } & Warmup)
  | ({ kind: 'cosine'; lr: number; totalSteps: number; minLr?: number } & Warmup);

/** A fixed learning rate, or a schedule. */
export type LearningRate = number | LearningRateSchedule;

const SCHEDULE_KEYS: Readonly<Record<LearningRateSchedule['kind'], readonly string[]>> = {
  constant: ['kind', 'lr', 'warmupSteps'],
  step: ['kind', 'lr', 'stepSize', 'gamma', 'warmupSteps'],
  exponential: ['kind', 'lr', 'gamma', 'warmupSteps'],
  cosine: ['kind', 'lr', 'totalSteps', 'minLr', 'warmupSteps'],
};

const NON_NEGATIVE: NumberRange = { min: 0 };
const POSITIVE_INTEGER: NumberRange = { min: 1, integer: true };

/** Checks a learning rate (number or schedule) and returns it with defaults filled in. */
export function checkLearningRate(where: string, lr: unknown): LearningRate {
  if (typeof lr === 'number') return checkNumber(where, 'lr', lr, NON_NEGATIVE);
  if (lr === null || typeof lr !== 'object' || !Object.hasOwn(SCHEDULE_KEYS, (lr as { kind: unknown }).kind as string)) {
    const kind = lr !== null && typeof lr === 'object' ? `a schedule of kind '${String((lr as { kind: unknown }).kind)}'` : String(lr);
    throw new ArgumentError(
      `${where}: lr must be a number or a schedule {kind: 'constant' | 'step' | 'exponential' | 'cosine', lr, ...}, got ${kind}.`,
    );
  }
  const spec = lr as LearningRateSchedule;
  const at = `${where} (${spec.kind} schedule)`;
  checkKeys(at, spec, SCHEDULE_KEYS[spec.kind]);
  checkNumber(at, 'lr', spec.lr, NON_NEGATIVE);
  const warmupSteps = checkNumber(at, 'warmupSteps', spec.warmupSteps ?? 0, { min: 0, integer: true });
  switch (spec.kind) {
    case 'constant':
      return { ...spec, warmupSteps };
    case 'step':
      checkNumber(at, 'stepSize', spec.stepSize, POSITIVE_INTEGER);
      checkNumber(at, 'gamma', spec.gamma, { min: 0, minExclusive: true });
      return { ...spec, warmupSteps };
    case 'exponential':
      checkNumber(at, 'gamma', spec.gamma, { min: 0, minExclusive: true });
      return { ...spec, warmupSteps };
    case 'cosine':
      checkNumber(at, 'totalSteps', spec.totalSteps, { min: warmupSteps, minExclusive: true, integer: true });
      return { ...spec, warmupSteps, minLr: checkNumber(at, 'minLr', spec.minLr ?? 0, NON_NEGATIVE) };
  }
}

/**
 * The schedule's value at `step` (an i32 scalar: steps taken so far) as an f32 scalar
 * node. `step` is asked for only if the rate changes over time, so a constant rate adds
 * no counter to the graph.
 */
export function scheduledRate(graph: Graph, lr: LearningRate, step: () => Tensor): Tensor {
  if (typeof lr === 'number') return graph.constant(lr);
  const warmupSteps = lr.warmupSteps ?? 0;
  if (lr.kind === 'constant' && warmupSteps === 0) return graph.constant(lr.lr);
  const k = step();
  // Integer arithmetic on the counter keeps ⌊k/stepSize⌋ exact at any step count.
  const since = warmupSteps > 0 ? maximum(k.sub(warmupSteps), 0) : k;
  const decayed = decayedRate(graph, lr, since);
  if (warmupSteps === 0) return decayed;
  const warm = cast(k, 'f32').mul(lr.lr).div(warmupSteps);
  return where(k.less(warmupSteps), warm, decayed);
}

function decayedRate(graph: Graph, lr: LearningRateSchedule, since: Tensor): Tensor {
  switch (lr.kind) {
    case 'constant':
      return graph.constant(lr.lr);
    case 'step':
      return graph.constant(lr.gamma).pow(cast(since.div(lr.stepSize), 'f32')).mul(lr.lr);
    case 'exponential':
      return graph.constant(lr.gamma).pow(cast(since, 'f32')).mul(lr.lr);
    case 'cosine': {
      const period = lr.totalSteps - (lr.warmupSteps ?? 0);
      const minLr = lr.minLr ?? 0;
      const progress = cast(minimum(since, period), 'f32').div(period);
      return progress.mul(Math.PI).cos().add(1).mul(0.5 * (lr.lr - minLr)).add(minLr);
    }
  }
}

/**
 * The learning rate `schedule` gives at `step` (an i32 scalar tensor: the number of
 * steps taken), as an f32 scalar node: the value each optimizer uses for that step.
 */
export function learningRate(schedule: LearningRate, step: Tensor): Tensor {
  const checked = checkLearningRate('learningRate', schedule);
  requireTensor('learningRate', step, 'step');
  if (step.dtype !== 'i32' || step.rank !== 0) {
    throw new ArgumentError(`learningRate: step must be an i32 scalar (a step count), got ${step.toString()}.`);
  }
  return scheduledRate(step.graph, checked, () => step);
}
