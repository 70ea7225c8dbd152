/**
 * Optimizers as graph transforms: each appends, for every parameter, the nodes of its
 * update rule and `assign` edges (new value → param slot, new state → state slot). The
 * update is ordinary graph work, so it simplifies and fuses like the rest of the step.
 *
 * The rules follow PyTorch's `torch.optim` (single-tensor path) exactly, so a model
 * trained here and there takes the same steps. Optimizer state is named after its
 * parameter (`w1.momentum`, `w1.adam.m`, `w1.adam.v`) so checkpoints read naturally;
 * the step count is one shared i32 state, `optimizer.step`.
 */

import { ArgumentError } from './errors.js';
import type { Graph } from './graph.js';
import { requireGraph } from './graph.js';
import { cast } from './ops/cast.js';
import { minimum, where } from './ops/binary.js';
import { sameShape } from './shape.js';
import type { LearningRate } from './schedule.js';
import { checkKeys, checkNumber, requireArray } from './ops/args.js';
import { stepCounter } from './ops/step-counter.js';
import { withOrigin } from './origin.js';
import { checkLearningRate, scheduledRate } from './schedule.js';
import { Tensor } from './tensor.js';

export type { LearningRate, LearningRateSchedule } from './schedule.js';
export { STEP_COUNTER, stepCounter } from './ops/step-counter.js';
export { learningRate } from './schedule.js';

export interface Optimizer {
  /** `sgd`, `adam`, `adamw`: shown in printed plans. */
  readonly name: string;
  /**
   * Appends the update of each parameter given its gradient: creates the optimizer's
   * state (named after the parameter) and assigns the new values with `graph.assign`.
   */
  apply(graph: Graph, params: readonly Tensor[], gradients: readonly Tensor[]): void;
}

interface ClipOption {
  /**
   * Before the update, rescale all gradients together so that their global L2 norm is
   * at most this (PyTorch's `clip_grad_norm_`). Default: no clipping.
   */
  clipGradNorm?: number;
}

export interface SgdOptions extends ClipOption {
  /** Learning rate, or a schedule (see `LearningRateSchedule`). */
  lr: LearningRate;
  /** Momentum factor μ; 0 (default) is plain SGD. */
  momentum?: number;
  /** Dampening d of the momentum: v ← μ·v + (1 − d)·g. Default 0. */
  dampening?: number;
  /** Nesterov momentum: step along g + μ·v. Needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** L2 penalty: g ← g + weightDecay·p. Default 0. */
  weightDecay?: number;
}

export interface AdamOptions extends ClipOption {
  /** Learning rate, or a schedule. Default 1e-3. */
  lr?: LearningRate;
  /** Decay of the first-moment average. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2?: number;
  /** Added to √v̂ in the denominator. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay p ← p·(1 − lr·wd) (default 1e-2). */
  weightDecay?: number;
}

/**
 * Gradients rescaled so that their global L2 norm √(Σ g²) over all of them is at most
 * `maxNorm`: each is multiplied by min(1, maxNorm / (norm + 1e-6)), exactly as PyTorch's
 * `clip_grad_norm_` (the 1e-6 keeps the division finite at a zero gradient).
 */
export function clipGradNorm(gradients: readonly Tensor[], maxNorm: number): Tensor[] {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0, minExclusive: true });
  requireArray('clipGradNorm', 'gradients', gradients, 'an array of f32 gradient Tensors');
  if (gradients.length === 0) throw new ArgumentError('clipGradNorm: give at least one gradient.');
  for (const g of gradients) {
    if (!(g instanceof Tensor) || g.graph !== gradients[0]!.graph || g.dtype !== 'f32') {
      throw new ArgumentError('clipGradNorm: gradients must be f32 Tensors of one graph.');
    }
  }
  const graph = gradients[0]!.graph;
  return graph.atomically(() => {
    const squares = gradients.map((g) => g.square().sum());
    const norm = squares.reduce((total, s) => total.add(s)).sqrt();
    const coefficient = minimum(graph.constant(maxNorm).div(norm.add(1e-6)), 1);
    return gradients.map((g) => g.mul(coefficient));
  });
}

/** What every update rule works from: the step's learning rate and the (clipped) gradients. */
interface UpdateContext {
  readonly lr: Tensor;
  readonly gradients: readonly Tensor[];
  /** The shared step counter, created on first use (see `stepCounter`). */
  readonly step: () => Tensor;
}

type ApplyUpdate = Optimizer['apply'];

/** An optimizer's `apply`, checked and all-or-nothing: if any update fails, no state or assignment of it stays in the graph. */
function atomicUpdate(name: string, apply: ApplyUpdate): ApplyUpdate {
  return (graph, params, gradients) => {
    requireGraph(`${name}.apply`, graph);
    requireArray(`${name}.apply`, 'params', params, 'an array of params');
    requireArray(`${name}.apply`, 'gradients', gradients, 'an array of gradient Tensors');
    graph.atomically(() => apply(graph, params, gradients));
  };
}

function prepareUpdate(
  name: string,
  graph: Graph,
  params: readonly Tensor[],
  gradients: readonly Tensor[],
  lr: LearningRate,
  maxNorm: number | undefined,
): UpdateContext {
  if (params.length !== gradients.length) {
    throw new ArgumentError(`${name}.apply: ${params.length} params but ${gradients.length} gradients; give one gradient per param.`);
  }
  params.forEach((p, i) => {
    const g = gradients[i]!;
    if (!(p instanceof Tensor) || p.graph !== graph || p.node.op !== 'param') {
      throw new ArgumentError(`${name}.apply: params must be params of graph '${graph.name}'; got ${String(p)}.`);
    }
    if (!(g instanceof Tensor) || g.graph !== graph || !sameShape(g.shape, p.shape) || g.dtype !== p.dtype) {
      throw new ArgumentError(`${name}.apply: the gradient of ${p.toString()} must be a Tensor of its type in the same graph; got ${String(g)}.`);
    }
  });
  const step = () => stepCounter(graph);
  return {
    lr: scheduledRate(graph, lr, step),
    gradients: maxNorm === undefined ? gradients : clipGradNorm(gradients, maxNorm),
    step,
  };
}

function checkOptions(name: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`${name}: options must be an object, e.g. ${name}({lr: 0.01}); got ${String(options)}.`);
  }
  checkKeys(name, options, known);
}

const NON_NEGATIVE = { min: 0 } as const;
const POSITIVE = { min: 0, minExclusive: true } as const;
const UNIT_INTERVAL = { min: 0, max: 1 } as const;
const BETA = { min: 0, max: 1, maxExclusive: true } as const;

function checkClip(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : checkNumber(name, 'clipGradNorm', value, POSITIVE);
}

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
 * L2 weight decay, as PyTorch's `torch.optim.SGD`:
 *
 *   g ← g + wd·p;  v ← μ·v + (1 − d)·g  (v ← g on the first step);
 *   g ← g + μ·v (Nesterov) or v;  p ← p − lr·g
 */
export function sgd(options: SgdOptions): Optimizer {
  checkOptions('sgd', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'clipGradNorm']);
  const lr = checkLearningRate('sgd', options.lr);
  const momentum = checkNumber('sgd', 'momentum', options.momentum ?? 0, NON_NEGATIVE);
  const dampening = checkNumber('sgd', 'dampening', options.dampening ?? 0, UNIT_INTERVAL);
  const weightDecay = checkNumber('sgd', 'weightDecay', options.weightDecay ?? 0, NON_NEGATIVE);
  const maxNorm = checkClip('sgd', options.clipGradNorm);
  const nesterov = options.nesterov ?? false;
  if (typeof nesterov !== 'boolean') throw new ArgumentError(`sgd: nesterov must be true or false, got ${String(nesterov)}.`);
  if (nesterov && (momentum === 0 || dampening !== 0)) {
    throw new ArgumentError(
      `sgd: Nesterov momentum requires a momentum and zero dampening (got momentum ${momentum}, dampening ${dampening}).`,
    );
  }
  return {
    name: 'sgd',
    apply: atomicUpdate('sgd', (graph, params, gradients) => {
      const update = prepareUpdate('sgd', graph, params, gradients, lr, maxNorm);
      params.forEach((p, i) => withOrigin(graph, p.node.origin, () => {
        let g = update.gradients[i]!;
        if (weightDecay !== 0) g = g.add(p.mul(weightDecay));
        if (momentum !== 0) {
          const buffer = graph.state(`${p.name}.momentum`, p.shape);
          // PyTorch's buffer starts as a copy of g: with v = 0 that is μ·0 + 1·g on step 0.
          const share = dampening === 0 ? g : g.mul(where(update.step().equal(0), 1, 1 - dampening));
          const velocity = buffer.mul(momentum).add(share);
          graph.assign(buffer, velocity);
          g = nesterov ? g.add(velocity.mul(momentum)) : velocity;
        }
        graph.assign(p, p.sub(g.mul(update.lr)));
      }));
    }),
  };
}

function adamFamily(name: 'adam' | 'adamw', options: AdamOptions, decoupled: boolean): Optimizer {
  checkOptions(name, options, ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'clipGradNorm']);
  const lr = checkLearningRate(name, options.lr ?? 1e-3);
  const beta1 = checkNumber(name, 'beta1', options.beta1 ?? 0.9, BETA);
  const beta2 = checkNumber(name, 'beta2', options.beta2 ?? 0.999, BETA);
  const eps = checkNumber(name, 'eps', options.eps ?? 1e-8, NON_NEGATIVE);
  const weightDecay = checkNumber(name, 'weightDecay', options.weightDecay ?? (decoupled ? 1e-2 : 0), NON_NEGATIVE);
  const maxNorm = checkClip(name, options.clipGradNorm);
  return {
    name,
    apply: atomicUpdate(name, (graph, params, gradients) => {
      const update = prepareUpdate(name, graph, params, gradients, lr, maxNorm);
      const complement = (x: Tensor): Tensor => graph.constant(1).sub(x);
      // PyTorch counts this step before using it: t = 1 on the first step.
      const t = cast(update.step().add(1), 'f32');
      const stepSize = update.lr.div(complement(graph.constant(beta1).pow(t)));
      const correction2Sqrt = complement(graph.constant(beta2).pow(t)).sqrt();
      const decay = decoupled && weightDecay !== 0 ? complement(update.lr.mul(weightDecay)) : null;
      params.forEach((p, i) => withOrigin(graph, p.node.origin, () => {
        let g = update.gradients[i]!;
        if (!decoupled && weightDecay !== 0) g = g.add(p.mul(weightDecay));
        const m = graph.state(`${p.name}.adam.m`, p.shape);
        const v = graph.state(`${p.name}.adam.v`, p.shape);
        const mNext = m.mul(beta1).add(g.mul(1 - beta1));
        const vNext = v.mul(beta2).add(g.square().mul(1 - beta2));
        graph.assign(m, mNext);
        graph.assign(v, vNext);
        // PyTorch's arrangement of m̂/(√v̂ + eps): (lr/bc1)·m / (√v/√bc2 + eps).
        const denominator = vNext.sqrt().div(correction2Sqrt).add(eps);
        const base = decay ? p.mul(decay) : p;
        graph.assign(p, base.sub(mNext.div(denominator).mul(stepSize)));
      }));
    }),
  };
}

/**
 * Adam (`torch.optim.Adam`) with bias correction, t the 1-based step:
 *
 *   g ← g + wd·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *   p ← p − lr·m̂ / (√v̂ + eps),  m̂ = m/(1 − β1ᵗ),  v̂ = v/(1 − β2ᵗ)
 */
export function adam(options: AdamOptions = {}): Optimizer {
  return adamFamily('adam', options, false);
}

/**
 * AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, p ← p·(1 − lr·wd)
 * before the Adam step (the decay does not pass through m and v). Default wd 1e-2.
 */
export function adamw(options: AdamOptions = {}): Optimizer {
  return adamFamily('adamw', options, true);
}
