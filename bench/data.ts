/**
 * The data every system gets: the seed MLP's initial weights, Fashion-MNIST batches and
 * the matmul operands. They are generated once (weights and operands from kiln's seeded
 * Philox initializers, so every run starts from the same numbers) and handed to every
 * system, so no system starts from different values. Node only: Fashion-MNIST is on disk.
 */

import type { HostArray } from '../compiler/ops/op.js';
import { Graph } from '../compiler/graph.js';
import { initialParams } from '../compiler/reference.js';
import { batchOf, loadFashionMnist } from '../examples/data/fashion-mnist.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import type { BenchData } from './data-format.js';
import type { MatmulShape, WorkloadId } from './workloads.js';
import { MLP_BATCH, MLP_LAYERS, WORKLOADS } from './workloads.js';

/** Distinct Fashion-MNIST batches the steps cycle through. */
export const BATCH_COUNT = 8;

function float32(array: HostArray): Float32Array {
  return array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
}

/** Operands uniform in [−1, 1), seeded by the workload's name. */
function matmulOperands(id: WorkloadId, { m, k, n }: MatmulShape): { a: Float32Array; b: Float32Array } {
  const g = new Graph(id, { seed: 1 });
  g.param('a', [m, k], { init: { kind: 'uniform', low: -1, high: 1 } });
  g.param('b', [k, n], { init: { kind: 'uniform', low: -1, high: 1 } });
  const values = initialParams(g, 'f32');
  return { a: float32(values['a']!), b: float32(values['b']!) };
}

/** Generates the weights and operands of the given workloads and reads the batches. */
export async function prepareBenchData(workloads: readonly WorkloadId[]): Promise<BenchData> {
  const initial = initialParams(seedMlp({ batch: MLP_BATCH }).graph, 'f32');
  const mlpParams: Record<string, Float32Array> = {};
  for (const layer of MLP_LAYERS) {
    for (const name of [`${layer.name}.w`, `${layer.name}.b`]) mlpParams[name] = float32(initial[name]!);
  }
  const train = await loadFashionMnist('train');
  const batches = Array.from({ length: BATCH_COUNT }, (_, i) => batchOf(train, i * MLP_BATCH, MLP_BATCH));
  const matmuls: Partial<Record<WorkloadId, { a: Float32Array; b: Float32Array }>> = {};
  for (const workload of WORKLOADS) {
    if (workload.matmul && workloads.includes(workload.id)) matmuls[workload.id] = matmulOperands(workload.id, workload.matmul);
  }
  return { mlpParams, batches, matmuls };
}
