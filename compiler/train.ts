/**
 * Training programs. `trainingProgram` takes a graph, a scalar loss and an optimizer and
 * appends to the graph the backward pass (symbolic gradients) and the optimizer's update
 * rules (`assign` edges). The result names two entry points over that one graph:
 * `forward` (the graph's declared outputs) and `trainStep` (loss and requested outputs,
 * plus every parameter and optimizer-state update). Compiling it to a GPU plan, or
 * running it on the reference interpreter, executes exactly what an entry names.
 */

import { grad } from './autodiff.js';
import { ArgumentError, GraphError } from './errors.js';
import type { Graph } from './graph.js';
import type { Optimizer } from './optim.js';
import { Tensor } from './tensor.js';

/** One way to run a training program: which outputs it returns and which updates it applies. */
export interface EntryPoint {
  readonly name: string;
  /** Output name → node id. */
  readonly outputs: Readonly<Record<string, number>>;
  /** `[target, value]` pairs applied after the step (param/state ← new value). */
  readonly assignments: readonly (readonly [number, number])[];
}

export interface TrainingOptions {
  /** The scalar f32 loss to minimize. */
  loss: Tensor;
  /** How parameters are updated: `sgd({...})`, `adam({...})`, `adamw({...})`. */
  optimizer: Optimizer;
  /** Parameters to train; default every param of the graph. Others stay fixed. */
  params?: readonly Tensor[];
  /** Extra values `trainStep` returns besides the loss (logits, accuracy, ...). */
  outputs?: Readonly<Record<string, Tensor>>;
}

export interface TrainingProgram {
  readonly graph: Graph;
  readonly forward: EntryPoint;
  readonly trainStep: EntryPoint;
  readonly loss: Tensor;
  /** The trained parameters, in order, and the gradient node of each. */
  readonly params: readonly Tensor[];
  readonly gradients: readonly Tensor[];
}

/**
 * Builds the training program of `graph` in place: gradients of `loss` w.r.t. the
 * parameters, then the optimizer's update of each parameter and of its own state.
 */
export function trainingProgram(graph: Graph, options: TrainingOptions): TrainingProgram {
  const { loss, optimizer } = options;
  if (!(loss instanceof Tensor) || loss.graph !== graph) {
    throw new ArgumentError('trainingProgram: loss must be a Tensor of this graph.');
  }
  if (loss.rank !== 0 || loss.dtype !== 'f32') {
    throw new ArgumentError(
      `trainingProgram: the loss must be a scalar f32, got ${loss.toString()}. Reduce it (e.g. .mean()) first.`,
    );
  }
  if (!optimizer || typeof optimizer.apply !== 'function') {
    throw new ArgumentError('trainingProgram: optimizer must be made by sgd(), adam() or adamw().');
  }
  const params = options.params ?? graph.nodesOfRole('param').map((node) => graph.tensor(node.id));
  for (const p of params) {
    if (!(p instanceof Tensor) || p.graph !== graph || p.node.op !== 'param') {
      throw new ArgumentError(`trainingProgram: params must be params of this graph; got ${String(p)}.`);
    }
  }
  if (params.length === 0) throw new GraphError('trainingProgram: the graph has no params to train.');
  const forward: EntryPoint = { name: 'forward', outputs: Object.fromEntries(graph.outputs), assignments: [] };

  const gradients = grad(loss, params);
  const before = new Set(graph.assignments.keys());
  optimizer.apply(graph, params, gradients);
  const assignments = [...graph.assignments].filter(([target]) => !before.has(target));
  const outputs: Record<string, number> = { loss: loss.id };
  for (const [name, t] of Object.entries(options.outputs ?? {})) {
    if (name === 'loss') throw new ArgumentError("trainingProgram: 'loss' is always returned; name other outputs differently.");
    if (!(t instanceof Tensor) || t.graph !== graph) throw new ArgumentError(`trainingProgram: output '${name}' must be a Tensor of this graph.`);
    outputs[name] = t.id;
  }
  return {
    graph,
    forward,
    trainStep: { name: 'trainStep', outputs, assignments },
    loss,
    params,
    gradients,
  };
}
