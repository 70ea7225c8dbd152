/**
 * The graph's step counter, an i32 `state` every training step increments: optimizers
 * read it for learning-rate schedules and bias correction, the random ops for a fresh
 * stream each step.
 */

import { GraphError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import type { Tensor } from '../tensor.js';

/** The name of the step counter every optimizer of a graph shares (i32 scalar, 0 before the first step). */
export const STEP_COUNTER = 'optimizer.step';

/**
 * The graph's step counter: creates the i32 state `optimizer.step` (and its increment,
 * assigned after each step) the first time it is asked for, and shares it afterwards.
 */
export function stepCounter(graph: Graph): Tensor {
  requireGraph('stepCounter', graph);
  const existing = graph.nodesOfRole('state').find((node) => node.name === STEP_COUNTER);
  const counter = existing ? graph.tensor(existing.id) : graph.state(STEP_COUNTER, [], { dtype: 'i32' });
  if (counter.dtype !== 'i32' || counter.rank !== 0) {
    throw new GraphError(`the step counter '${STEP_COUNTER}' must be an i32 scalar state, got ${counter.toString()}.`);
  }
  if (!graph.assignments.has(counter.id)) graph.assign(counter, counter.add(1));
  return counter;
}
