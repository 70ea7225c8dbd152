/**
 * The code generator's kernels at a symbolic batch, on the device: one plan compiled with
 * `batch` symbolic, run at several batch sizes (1, a few, and one past a workgroup of 64),
 * must give what the static plan compiled for that size gives. Elementwise work, movement,
 * scans, gathers and one-invocation-per-row kernels compute each element the same way, so
 * they agree bit for bit; a tree reduction over the batch splits its group by thread
 * count, which the static plan sizes to the group, so its sums agree to rounding.
 *
 * The plans run through symbolic-plan-runner.ts (explicit pipeline layouts with the size
 * block at group 1), not a Session, so the kernels are checked on their own.
 */

import { expect } from 'chai';
import { compile } from '../../compiler/plan.js';
import type { Graph } from '../../compiler/graph.js';
import { expectClose, testData } from '../helpers.js';
import { symbolicForward, symbolicMovement } from '../compiler/codegen/symbolic-graphs.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { planPipeline, runPlanAt } from './symbolic-plan-runner.js';
import type { HostData } from './symbolic-plan-runner.js';

const SIZES = [1, 3, 67];

/** Outputs summed along the batch by a tree (their order of additions depends on the thread count). */
const TREE_SUMS = new Set(['column_sums', 'column_means', 'lse', 'cumsum_batch']);

function expectSame(name: string, n: number, actual: HostData, expected: HostData): void {
  if (TREE_SUMS.has(name)) expectClose(actual, expected, 1e-5, 1e-6);
  else expect(Array.from(actual), `${name} at batch ${n}`).to.deep.equal(Array.from(expected));
}

async function checkAtSizes(build: (batch: number | string) => Graph, feedsAt: (n: number) => Record<string, number[]>): Promise<void> {
  const symbolic = compile(build('batch'), { memory: false });
  expect(symbolic.dims).to.deep.equal(['batch']);
  for (const n of SIZES) {
    const feeds = feedsAt(n);
    const got = await runPlanAt(symbolic, 'forward', feeds, { batch: n });
    const want = await runPlanAt(compile(build(n), { memory: false }), 'forward', feeds);
    for (const name of Object.keys(want)) expectSame(name, n, got[name]!, want[name]!);
  }
}

describe('symbolic kernels on the device (code generator)', () => {
  it('compile: every kernel of a symbolic plan creates its pipeline with the size block at group 1', async () => {
    for (const plan of [compile(symbolicForward('batch')), compile(symbolicMovement('batch'))]) {
      expect(plan.kernels.some((k) => k.readsDims)).to.equal(true);
      for (const kernel of plan.kernels) await planPipeline(kernel);
    }
  });

  it('a dense layer, softmax and reductions over and along the batch equal the static plan at batch 1, 3, 67', async () => {
    await checkAtSizes(symbolicForward, (n) => ({ x: testData(n * 20, n) }));
  });

  it('a training step of the seed MLP: the loss and every updated param equal the static plan’s to rounding at batch 1, 3, 67', async () => {
    const params = ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias', 'fc3.kernel', 'fc3.bias'];
    const symbolic = compile(seedMlp({ batch: 'batch' }), { memory: false });
    for (const n of SIZES) {
      const feeds = { images: testData(n * 784, n), labels: Array.from({ length: n }, (_, i) => (i * 7) % 10) };
      const got = await runPlanAt(symbolic, 'trainStep', feeds, { batch: n }, params);
      const want = await runPlanAt(compile(seedMlp({ batch: n }), { memory: false }), 'trainStep', feeds, {}, params);
      for (const name of Object.keys(want)) expectClose(got[name]!, want[name]!, 1e-4, 1e-6);
    }
  });

  it('movement, scans, gather, oneHot, a row kernel and a logsumexp over the batch equal the static plan at batch 1, 3, 67', async () => {
    await checkAtSizes(symbolicMovement, (n) => ({
      x: testData(n * 6, n + 7),
      labels: Array.from({ length: n }, (_, i) => (i * 3) % 7 - 1),
      rows: [0, n - 1, -1],
    }));
  });
});
