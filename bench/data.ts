/**
 * The data every system gets: the initial weights of the seed MLP, LeNet and the
 * transformer block, Fashion-MNIST batches, the block's inputs and the matmul operands.
 * They are generated once (weights and operands from kiln's seeded Philox initializers,
 * so every run starts from the same numbers) and handed to every system, so no system
 * starts from different values. Node only: Fashion-MNIST is on disk.
 */

import type { HostArray } from '../compiler/ops/op.js';
import { Graph } from '../compiler/graph.js';
import { initialParams } from '../compiler/reference.js';
import { batchOf, loadFashionMnist } from '../examples/data/fashion-mnist.js';
import { leNet } from '../examples/models/lenet.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import type { BenchData } from './data-format.js';
import { benchParamName } from './data-format.js';
import { transformerBlock } from './transformer-block.js';
import type { MatmulShape, WorkloadId } from './workloads.js';
import { BLOCK, LENET, MLP_BATCH, WORKLOADS } from './workloads.js';

/** Distinct Fashion-MNIST batches the steps cycle through. */
export const BATCH_COUNT = 8;

function float32(array: HostArray): Float32Array {
  return array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
}

/** Distinct inputs the transformer block's steps cycle through. */
export const BLOCK_INPUT_COUNT = 4;

/** The initial values of a graph's params (not its optimizer state), by name. */
function paramValues(graph: Graph): Record<string, Float32Array> {
  const initial = initialParams(graph, 'f32');
  return Object.fromEntries(graph.nodesOfRole('param').map((node) => [benchParamName(node.name!), float32(initial[node.name!]!)]));
}

/** The block's inputs: standard normal, so the first layer norm sees unit-scale features. */
function blockInputs(): Float32Array[] {
  const g = new Graph('transformer_block_inputs', { seed: 2 });
  const shape = [BLOCK.batch * BLOCK.context, BLOCK.width];
  for (let i = 0; i < BLOCK_INPUT_COUNT; i++) g.param(`x${i}`, shape, { init: { kind: 'normal', std: 1 } });
  const values = initialParams(g, 'f32');
  return Array.from({ length: BLOCK_INPUT_COUNT }, (_, i) => float32(values[`x${i}`]!));
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
  const params = {
    mlp: paramValues(seedMlp({ batch: MLP_BATCH }).graph),
    lenet: paramValues(leNet({ batch: LENET.batch, lr: LENET.lr, momentum: LENET.momentum }).graph),
    block: paramValues(transformerBlock().graph),
  };
  const train = await loadFashionMnist('train');
  const batches = Array.from({ length: BATCH_COUNT }, (_, i) => batchOf(train, i * MLP_BATCH, MLP_BATCH));
  const matmuls: Partial<Record<WorkloadId, { a: Float32Array; b: Float32Array }>> = {};
  for (const workload of WORKLOADS) {
    if (workload.matmul && workloads.includes(workload.id)) matmuls[workload.id] = matmulOperands(workload.id, workload.matmul);
  }
  return { params, batches, blockInputs: blockInputs(), matmuls };
}
