/**
 * Training programs. `trainingProgram` takes a graph, a scalar loss and an optimizer and
 * appends to the graph the backward pass (symbolic gradients) and the optimizer's update
 * rules (`assign` edges). The result names two entry points over that one graph:
 * `forward` (the graph's declared outputs) and `trainStep` (loss and requested outputs,
 * plus every parameter and optimizer-state update). Compiling it to a GPU plan, or
 * running it on the reference interpreter, executes exactly what an entry names.
 */

import { grad } from './autodiff.js';
import { isFloat } from './dtype.js';
import { ArgumentError, GraphError } from './errors.js';
import type { Graph } from './graph.js';
import { ancestorsOf, requireGraph } from './graph.js';
import { checkKeys } from './ops/args.js';
import { checkName } from './names.js';
import type { Optimizer } from './optim.js';
import { Tensor } from './tensor.js';
import type { Mode } from './ops/mode.js';

/** One way to run a training program: which outputs it returns and which updates it applies. */
export interface EntryPoint<Outputs extends string = string> {
  readonly name: string;
  /** Output name → node id. */
  readonly outputs: Readonly<Record<Outputs, number>>;
  /** `[target, value]` pairs applied after the step (param/state ← new value). */
  readonly assignments: readonly (readonly [number, number])[];
  /** `train` for a training step (dropout masks, batch statistics), `infer` for a forward pass. */
  readonly mode: Mode;
}

/** `Extra`: the names of `outputs`, which `trainStep` returns besides the loss. */
export interface TrainingOptions<Extra extends string = string> {
  /** The scalar f32 loss to minimize. */
  loss: Tensor;
  /** How parameters are updated: `sgd({...})`, `adam({...})`, `adamw({...})`. */
  optimizer: Optimizer;
  /** Parameters to train; default every param the loss depends on. Others stay fixed. */
  params?: readonly Tensor[];
  /** Extra values `trainStep` returns besides the loss (logits, accuracy, ...). */
  outputs?: Readonly<Record<Extra, Tensor>>;
}

/**
 * `Forward` and `TrainStep` are the names of each entry's outputs, so that what a session
 * returns is typed by them: the graph's outputs (see `GraphOptions.outputs`), and `loss`
 * with the names of `TrainingOptions.outputs`.
 */
export interface TrainingProgram<Forward extends string = string, TrainStep extends string = string> {
  readonly graph: Graph<Forward>;
  /** The graph's outputs, read when the program is compiled: an output declared after `trainingProgram` is part of it. */
  readonly forward: EntryPoint<Forward>;
  readonly trainStep: EntryPoint<TrainStep>;
  readonly loss: Tensor;
  /** The trained parameters, in order, and the gradient node of each. */
  readonly params: readonly Tensor[];
  readonly gradients: readonly Tensor[];
}

/**
 * Builds the training program of `graph` in place: gradients of `loss` w.r.t. the
 * parameters, then the optimizer's update of each parameter and of its own state.
 */
export function trainingProgram<Forward extends string, Extra extends string = never>(
  graph: Graph<Forward>,
  options: TrainingOptions<Extra>,
): TrainingProgram<Forward, 'loss' | Extra> {
  requireGraph('trainingProgram', graph);
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`trainingProgram: options must be an object, e.g. trainingProgram(graph, {loss, optimizer: adam()}); got ${describe(options)}.`);
  }
  checkKeys('trainingProgram', options, ['loss', 'optimizer', 'params', 'outputs']);
  const { loss, optimizer } = options;
  // Everything is checked before the first node is built, so a bad call leaves the graph as it was.
  if (!(loss instanceof Tensor) || loss.graph !== graph) {
    throw new ArgumentError(`trainingProgram: loss must be a Tensor of graph '${graph.name}'; got ${describe(loss)}.`);
  }
  if (loss.rank !== 0 || loss.dtype !== 'f32') {
    throw new ArgumentError(
      `trainingProgram: the loss must be a scalar f32, got ${loss.toString()}. Reduce it (e.g. .mean()) first.`,
    );
  }
  if (!optimizer || typeof optimizer !== 'object' || typeof optimizer.apply !== 'function') {
    throw new ArgumentError('trainingProgram: optimizer must be made by sgd(), adam() or adamw().');
  }
  const params = checkParams(graph, loss, options.params);
  const outputs: Record<string, number> = { loss: loss.id };
  if (options.outputs !== undefined && (options.outputs === null || typeof options.outputs !== 'object' || Array.isArray(options.outputs))) {
    throw new ArgumentError(`trainingProgram: outputs must be an object of named Tensors, e.g. {logits}; got ${describe(options.outputs)}.`);
  }
  for (const [name, t] of Object.entries(options.outputs ?? {})) {
    if (name === 'loss') throw new ArgumentError("trainingProgram: 'loss' is always returned; name other outputs differently.");
    checkName('trainingProgram: output', name);
    if (!(t instanceof Tensor) || t.graph !== graph) {
      throw new ArgumentError(`trainingProgram: output '${name}' must be a Tensor of graph '${graph.name}'; got ${describe(t)}.`);
    }
    outputs[name] = t.id;
  }
  // A failure inside the backward pass or the optimizer (a second program on the same graph
  // meets the first one's state) leaves no half-built optimizer state behind.
  const gradients = graph.atomically(() => {
    const built = grad(loss, params);
    optimizer.apply(graph, params, built);
    return built;
  });
  // Every update the graph declares runs in a step: the optimizer's, and state that layers
  // keep (batch norm's running statistics, the step counter dropout draws its masks by).
  const trainStep: EntryPoint<'loss' | Extra> = { name: 'trainStep', outputs: outputs as Record<'loss' | Extra, number>, assignments: [...graph.assignments], mode: 'train' };
  return {
    graph,
    // Read when used, not now: `forward` returns the graph's outputs, so one declared after
    // this call (`graph.output('probs', ...)`) is part of it, as a user adding it expects.
    get forward(): EntryPoint<Forward> {
      return { name: 'forward', outputs: Object.fromEntries(graph.outputs) as Record<Forward, number>, assignments: [], mode: 'infer' };
    },
    trainStep,
    loss,
    params,
    gradients,
  };
}

/** An integer param has no gradient: refused here, naming it, rather than deep inside `grad`. */
function requireTrainable(param: Tensor, listed: boolean): void {
  if (isFloat(param.dtype)) return;
  const leaveOut = listed ? 'remove it from params' : 'pass params: [...] listing only the float params';
  throw new ArgumentError(
    `trainingProgram: param '${param.name}' is ${param.dtype}, and an ${param.dtype} param cannot be differentiated, so it cannot be trained. ` +
      `Fix: declare it as an f32 param (graph.param('${param.name}', shape)) and cast where an integer is needed, make it a state if it is not trained, or ${leaveOut}.`,
  );
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `${value.toString()} of graph '${value.graph.name}'`;
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * The params to train: the given ones (each once, each a param of this graph that the
 * loss depends on), or every param the loss depends on. As in PyTorch, where a param
 * outside the loss has no gradient and the optimizer skips it, such a param is left
 * alone: no weight decay, no momentum, no optimizer state.
 */
function checkParams(graph: Graph, loss: Tensor, given: readonly Tensor[] | undefined): readonly Tensor[] {
  const used = ancestorsOf(graph, [loss.id]);
  if (given === undefined) {
    const all = graph.nodesOfRole('param').map((node) => graph.tensor(node.id));
    if (all.length === 0) throw new GraphError(`trainingProgram: graph '${graph.name}' has no params to train.`);
    const reached = all.filter((p) => used.has(p.id));
    if (reached.length === 0) {
      throw new GraphError(`trainingProgram: the loss depends on none of the params of graph '${graph.name}'; there is nothing to train.`);
    }
    reached.forEach((p) => requireTrainable(p, false));
    return reached;
  }
  if (!Array.isArray(given) || given.length === 0) {
    throw new ArgumentError('trainingProgram: params must be a non-empty array of params (omit it to train every param).');
  }
  const seen = new Set<number>();
  for (const p of given as readonly unknown[]) {
    if (!(p instanceof Tensor) || p.graph !== graph || p.node.op !== 'param') {
      throw new ArgumentError(`trainingProgram: params must be params of graph '${graph.name}'; got ${describe(p)}.`);
    }
    if (seen.has(p.id)) throw new ArgumentError(`trainingProgram: param '${p.name}' is listed twice.`);
    if (!used.has(p.id)) throw new ArgumentError(`trainingProgram: the loss does not depend on param '${p.name}'; remove it from params.`);
    seen.add(p.id);
  }
  given.forEach((p) => requireTrainable(p, true));
  return given;
}
