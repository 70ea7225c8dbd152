/**
 * The activation functions of ONNX's recurrent ops (RNN, GRU, LSTM): the `activations`
 * attribute names them, one list per direction, and `activation_alpha`/`activation_beta`
 * give the parameters of those that take any, consumed in order by the functions that
 * use them (as ONNX Runtime reads them). A missing parameter takes the default of the ONNX
 * op of that name; Affine and ScaledTanh, which have no op, need theirs given.
 */

import type { Tensor } from '../tensor.js';
import type { NodeContext } from './handler.js';

export type Activation = (x: Tensor) => Tensor;

interface ActivationKind {
  /** The default alpha (undefined: none taken; null: must be given). */
  readonly alpha?: number | null;
  readonly beta?: number | null;
  build(alpha: number, beta: number): Activation;
}

const KINDS: Readonly<Record<string, ActivationKind>> = {
  relu: { build: () => (x) => x.relu() },
  tanh: { build: () => (x) => x.tanh() },
  sigmoid: { build: () => (x) => x.sigmoid() },
  affine: { alpha: null, beta: null, build: (a, b) => (x) => x.mul(a).add(b) },
  leakyrelu: { alpha: 0.01, build: (a) => (x) => x.leakyRelu(a) },
  thresholdedrelu: { alpha: 1, build: (a) => (x) => x.where(x.greater(a), 0) },
  scaledtanh: { alpha: null, beta: null, build: (a, b) => (x) => x.mul(b).tanh().mul(a) },
  hardsigmoid: { alpha: 0.2, beta: 0.5, build: (a, b) => (x) => x.mul(a).add(b).clip(0, 1) },
  elu: { alpha: 1, build: (a) => (x) => x.elu(a) },
  softsign: { build: () => (x) => x.div(x.abs().add(1)) },
  softplus: { build: () => (x) => x.softplus() },
};

/**
 * The activations of every direction: `perDirection` functions for each of `directions`,
 * `defaults` when the attribute is absent. A list of one direction's functions given to a
 * bidirectional op serves both directions.
 */
export function activationsOf(n: NodeContext, directions: number, defaults: readonly string[]): Activation[][] {
  const perDirection = defaults.length;
  let names = n.strings('activations') ?? [];
  if (names.length === 0) names = Array.from({ length: directions }, () => defaults).flat();
  else if (names.length === perDirection && directions === 2) names = [...names, ...names];
  if (names.length !== perDirection * directions) {
    throw n.invalid(`activations lists ${names.length} functions; the op takes ${perDirection} per direction, ${perDirection * directions} in all`);
  }
  const alphas = n.floats('activation_alpha') ?? [];
  const betas = n.floats('activation_beta') ?? [];
  const functions = names.map((name) => {
    const kind = KINDS[name.toLowerCase()];
    if (!kind) throw n.unsupported(`activation '${name}'; kiln knows ${Object.keys(KINDS).join(', ')}`);
    const take = (list: number[], fallback: number | null | undefined, what: string): number => {
      if (fallback === undefined) return 0;
      const value = list.shift() ?? fallback;
      if (value === null) throw n.invalid(`activation '${name}' needs its ${what}, and activation_${what} has none left for it`);
      return value;
    };
    return kind.build(take(alphas, kind.alpha, 'alpha'), take(betas, kind.beta, 'beta'));
  });
  return Array.from({ length: directions }, (_, d) => functions.slice(d * perDirection, (d + 1) * perDirection));
}
