/**
 * Optimizers as graph transforms: each appends, for every parameter, the nodes of its
 * update rule and `assign` edges (new value → param slot, new state → state slot). The
 * update is ordinary graph work, so it simplifies and fuses like the rest of the step.
 */

import type { Graph } from './graph.js';
import type { Tensor } from './tensor.js';

export interface Optimizer {
  /** `sgd`, `adam`, `adamw`: shown in printed plans. */
  readonly name: string;
  /**
   * Appends the update of each parameter given its gradient: creates the optimizer's
   * state (named after the parameter) and assigns the new values with `graph.assign`.
   */
  apply(graph: Graph, params: readonly Tensor[], gradients: readonly Tensor[]): void;
}
