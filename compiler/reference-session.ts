/**
 * A training session on the CPU reference interpreter, with the same shape as the GPU
 * session: it keeps parameters and optimizer state between steps. It is the oracle the
 * GPU `trainStep` is compared with, and a way to run small models without a GPU.
 */

import type { Precision } from './dtype.js';
import { ArgumentError, FeedError } from './errors.js';
import type { HostArray } from './ops/op.js';
import type { HostValue } from './reference.js';
import { hostArray, initialParams, runEntry } from './reference.js';
import { formatType, sameShape } from './shape.js';
import type { TrainingProgram } from './train.js';
import { checkKeys } from './ops/args.js';
import { requireListedOutputs } from './graph-options.js';

/** `Forward` and `TrainStep` name each entry's outputs, as the program's type says (see `TrainingProgram`). */
export class ReferenceSession<Forward extends string = string, TrainStep extends string = string> {
  readonly program: TrainingProgram<Forward, TrainStep>;
  readonly precision: Precision;
  private values: Record<string, HostArray>;

  /** Starts from every param's initializer, with optimizer state at its initial value (zeros, step 0). */
  constructor(program: TrainingProgram<Forward, TrainStep>, options: { precision?: Precision } = {}) {
    if (program === null || typeof program !== 'object' || !('trainStep' in program)) {
      throw new ArgumentError(`ReferenceSession: expected a training program (trainingProgram(graph, {...})), got ${program === null ? 'null' : typeof program}.`);
    }
    checkKeys('ReferenceSession', options, ['precision']);
    const precision = options.precision ?? 'f32';
    if (precision !== 'f32' && precision !== 'f64') {
      throw new ArgumentError(`ReferenceSession: precision must be 'f32' or 'f64', got '${String(precision)}'.`);
    }
    this.program = program;
    this.precision = precision;
    this.values = initialParams(program.graph, precision);
  }

  /** Current values of every param and state, by name. */
  get params(): Readonly<Record<string, HostArray>> {
    return this.values;
  }

  /**
   * Replaces some params/state (e.g. weights loaded from a checkpoint). Each value is a
   * host array of the slot's type or flat numbers in row-major order; it is copied.
   */
  setParams(values: Readonly<Record<string, HostValue>>): void {
    const next = { ...this.values };
    for (const [name, value] of Object.entries(values)) {
      const current = this.values[name];
      if (!current) {
        const known = Object.keys(this.values).join(', ');
        throw new FeedError(`setParams: '${name}' is not a param or state of graph '${this.program.graph.name}'. Known: ${known}.`);
      }
      if ('shape' in value && 'dtype' in value && (value.dtype !== current.dtype || !sameShape(value.shape, current.shape))) {
        throw new FeedError(`setParams: '${name}' is ${formatType(current)}, got ${formatType(value)}.`);
      }
      const data = 'data' in value ? value.data : value;
      if (data.length !== current.data.length) {
        throw new FeedError(`setParams: '${name}' is ${formatType(current)} (${current.data.length} values), got ${data.length} values.`);
      }
      next[name] = hostArray(current.dtype, current.shape, data, this.precision);
    }
    this.values = next;
  }

  /** Runs the graph's declared outputs; applies no update. */
  forward(feeds: Readonly<Record<string, HostValue>>): Record<Forward, HostArray> {
    requireListedOutputs('ReferenceSession.forward', this.program.graph);
    return runEntry(this.program.graph, this.program.forward, this.options(feeds)).outputs as Record<Forward, HostArray>;
  }

  /**
   * One training step: returns the loss (and requested outputs), computed from the
   * parameters before the step, and applies every update.
   */
  trainStep(feeds: Readonly<Record<string, HostValue>>): Record<TrainStep, HostArray> {
    const { outputs, updates } = runEntry(this.program.graph, this.program.trainStep, this.options(feeds));
    this.values = { ...this.values, ...updates };
    return outputs as Record<TrainStep, HostArray>;
  }

  private options(feeds: Readonly<Record<string, HostValue>>) {
    return { feeds, params: this.values, precision: this.precision };
  }
}
