/**
 * A training session on the CPU reference interpreter, with the same shape as the GPU
 * session: it keeps parameters and optimizer state between steps. It is the oracle the
 * GPU `trainStep` is compared with, and a way to run small models without a GPU.
 */

import type { Precision } from './dtype.js';
import type { HostArray } from './ops/op.js';
import type { HostValue } from './reference.js';
import { initialParams, runEntry } from './reference.js';
import type { TrainingProgram } from './train.js';

export class ReferenceSession {
  readonly program: TrainingProgram;
  readonly precision: Precision;
  private values: Record<string, HostArray>;

  constructor(program: TrainingProgram, options: { precision?: Precision } = {}) {
    this.program = program;
    this.precision = options.precision ?? 'f32';
    this.values = initialParams(program.graph, this.precision);
  }

  /** Current values of every param and state, by name. */
  get params(): Readonly<Record<string, HostArray>> {
    return this.values;
  }

  /** Replaces some params/state (e.g. weights loaded from a checkpoint). */
  setParams(values: Readonly<Record<string, HostArray>>): void {
    this.values = { ...this.values, ...values };
  }

  /** Runs the graph's declared outputs. */
  forward(feeds: Readonly<Record<string, HostValue>>): Record<string, HostArray> {
    return runEntry(this.program.graph, this.program.forward, this.options(feeds)).outputs;
  }

  /** One training step: returns the loss (and requested outputs) and applies every update. */
  trainStep(feeds: Readonly<Record<string, HostValue>>): Record<string, HostArray> {
    const { outputs, updates } = runEntry(this.program.graph, this.program.trainStep, this.options(feeds));
    this.values = { ...this.values, ...updates };
    return outputs;
  }

  private options(feeds: Readonly<Record<string, HostValue>>) {
    return { feeds, params: this.values, precision: this.precision };
  }
}
