/**
 * The small training program the soak run (scripts/soak.ts) and the lifecycle tests train:
 * an MLP classifier with dropout, trained by Adam on a warmup-then-cosine schedule, so a
 * step reads and writes every kind of persistent value (params, Adam moments, the i32 step
 * counter that drives the schedule and the dropout masks) and its data is fixed by seeds.
 */

import { Graph } from '../compiler/graph.js';
import { adam } from '../compiler/optim.js';
import type { TrainingProgram } from '../compiler/train.js';
import { trainingProgram } from '../compiler/train.js';

export const SOAK_BATCH = 13;
const FEATURES = 12;
const HIDDEN = 20;
const CLASSES = 5;

export function soakModel(name = 'soak_mlp'): TrainingProgram {
  const g = new Graph(name, { seed: 17 });
  const x = g.input('x', [SOAK_BATCH, FEATURES]);
  const labels = g.input('labels', [SOAK_BATCH], 'i32');
  const w1 = g.param('w1', [FEATURES, HIDDEN], { init: 'heUniform' });
  const b1 = g.param('b1', [HIDDEN]);
  const w2 = g.param('w2', [HIDDEN, CLASSES], { init: 'glorotUniform' });
  const b2 = g.param('b2', [CLASSES]);
  const logits = x.matmul(w1).add(b1).relu().dropout(0.25).matmul(w2).add(b2);
  g.output('logits', logits);
  return trainingProgram(g, {
    loss: logits.softmaxCrossEntropy(labels),
    optimizer: adam({ lr: { kind: 'cosine', lr: 0.01, totalSteps: 400, minLr: 1e-4, warmupSteps: 10 } }),
  });
}

/** The feeds of step `step` (from 0): one of eight fixed batches, the labels a function of the inputs. */
export function soakBatch(step: number): { x: Float32Array; labels: Int32Array } {
  const batch = step % 8;
  const x = new Float32Array(SOAK_BATCH * FEATURES);
  let state = (batch * 7919 + 1) >>> 0;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = state / 2 ** 31 - 1;
  }
  const labels = Int32Array.from({ length: SOAK_BATCH }, (_, row) => {
    const features = x.subarray(row * FEATURES, (row + 1) * FEATURES);
    return Math.floor((features[0]! + features[1]! + 2) * 1.25) % CLASSES;
  });
  return { x, labels };
}
