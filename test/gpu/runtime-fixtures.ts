/** Fixtures shared by the runtime's GPU tests (runtime.test.ts, checkpoint.test.ts). */

import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { adam } from '../../compiler/optim.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { trainingProgram } from '../../compiler/train.js';
import type { HostTensor } from '../../runtime/session.js';

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  return expect.fail('expected the call to reject');
}

/** A tensor's bytes, to compare values bit for bit (NaN payloads, -0). */
export function bitsOf(t: HostTensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/**
 * A small training program (y = x·w + b, MSE, Adam) whose persistent values have every
 * dtype: f32 params and Adam moments, the i32 step counter, and an i32 and a bool state.
 */
export function tinyRegression(): TrainingProgram {
  const g = new Graph('tiny_regression', { seed: 11 });
  const x = g.input('x', [4, 3]);
  const target = g.input('target', [4, 2]);
  const w = g.param('w', [3, 2], { init: 'glorotUniform' });
  const b = g.param('b', [2], { init: 'normal' });
  g.state('flags', [5], { dtype: 'bool' });
  g.state('counts', [2], { dtype: 'i32' });
  const y = x.matmul(w).add(b);
  g.output('y', y);
  return trainingProgram(g, { loss: y.mse(target), optimizer: adam({ lr: 0.05 }) });
}
