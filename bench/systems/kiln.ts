/**
 * kiln: each workload is a graph compiled for the device's limits (in the page, so the
 * first result includes compilation) and run by a Session. Weights and matmul operands
 * are params, set from the shared data, so they stay on the GPU as in the peers.
 */

import { Graph, Session, compile, evaluatePlanSize, nn, requestDevice } from '../../index.js';
import type { CompileOptions, Plan, Tensor } from '../../index.js';
import { leNet } from '../../examples/models/lenet.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import type { BenchSystem, WorkloadFactory, WorkloadRun } from '../system.js';
import type { BenchData } from '../data-format.js';
import { benchParamName, lenetBatch } from '../data-format.js';
import { transformerBlock } from '../transformer-block.js';
import type { MatmulShape, WorkloadId } from '../workloads.js';
import { LENET, MLP_BATCH, MLP_LAYERS, MLP_LR, MLP_MOMENTUM, WORKLOADS } from '../workloads.js';

/** The device memory a plan allocates: params, state, constants and (memory-planned) intermediates. */
function planBytes(plan: Plan): number {
  return (plan.allocations ?? plan.buffers).reduce((sum, block) => sum + evaluatePlanSize(block.bytes, {}), 0);
}

/** The seed MLP's forward pass alone, with the training graph's param names. */
function mlpInferenceGraph(): Graph {
  const g = new Graph('seed_mlp_inference');
  let x: Tensor = g.input('images', [MLP_BATCH, MLP_LAYERS[0].in]);
  MLP_LAYERS.forEach((layer, i) => {
    x = nn.linear(g, layer.name, layer.in, layer.out)(x);
    if (i < MLP_LAYERS.length - 1) x = x.relu();
  });
  g.output('logits', x);
  return g;
}

function matmulGraph(id: WorkloadId, { m, k, n }: MatmulShape): Graph {
  const g = new Graph(id);
  g.output('c', g.param('a', [m, k]).matmul(g.param('b', [k, n])));
  return g;
}

/** `kiln` (fused, the default) or `kiln-unfused` (one kernel per op, no simplification or memory planning). */
export async function kilnSystem(variant: 'fused' | 'unfused'): Promise<BenchSystem> {
  const gpu = await requestDevice();
  const options: CompileOptions = { limits: gpu.limits, ...(variant === 'unfused' ? { fuse: false, simplify: false, memory: false } : {}) };

  async function start(plan: Plan, params: Readonly<Record<string, ArrayLike<number>>>, step: (session: Session, iteration: number) => Promise<ArrayLike<number>>): Promise<WorkloadRun> {
    const session = await Session.create(gpu.device, plan);
    const names = plan.buffers.filter((buffer) => buffer.role === 'param').map((buffer) => buffer.name);
    await session.setParams(Object.fromEntries(names.map((name) => [name, params[benchParamName(name)]!])));
    const bytes = planBytes(plan);
    return { step: (iteration) => step(session, iteration), gpuBytes: () => bytes, dispose: () => session.destroy() };
  }

  const workloads: Partial<Record<WorkloadId, WorkloadFactory>> = {
    'mlp-train': (data: BenchData) =>
      start(compile(seedMlp({ batch: MLP_BATCH, lr: MLP_LR, momentum: MLP_MOMENTUM }), options), data.params.mlp, async (session, i) => {
        const batch = data.batches[i % data.batches.length]!;
        return (await session.trainStep({ images: batch.images, labels: batch.labels }, { outputs: ['loss'] }))['loss']!.data;
      }),
    'mlp-infer': (data: BenchData) =>
      start(compile(mlpInferenceGraph(), options), data.params.mlp, async (session, i) => {
        const batch = data.batches[i % data.batches.length]!;
        return (await session.forward({ images: batch.images }))['logits']!.data;
      }),
    'lenet-train': (data: BenchData) =>
      start(compile(leNet({ batch: LENET.batch, lr: LENET.lr, momentum: LENET.momentum }), options), data.params.lenet, async (session, i) => {
        const batch = lenetBatch(data, i);
        return (await session.trainStep({ images: batch.images, labels: batch.labels }, { outputs: ['loss'] }))['loss']!.data;
      }),
    'transformer-block': (data: BenchData) =>
      start(compile(transformerBlock(), options), data.params.block, async (session, i) => {
        const x = data.blockInputs[i % data.blockInputs.length]!;
        return (await session.trainStep({ x }, { outputs: ['loss'] }))['loss']!.data;
      }),
  };
  for (const workload of WORKLOADS) {
    if (!workload.matmul) continue;
    workloads[workload.id] = (data: BenchData) =>
      start(compile(matmulGraph(workload.id, workload.matmul!), options), data.matmuls[workload.id]!, async (session) => (await session.forward({}))['c']!.data);
  }

  return {
    id: variant === 'fused' ? 'kiln' : 'kiln-unfused',
    label: variant === 'fused' ? 'kiln WebGPU' : 'kiln WebGPU unfused',
    processor: 'gpu',
    packages: ['kiln'],
    gpuBytes: { source: "the plan's buffers: params, optimizer state, constants and intermediates (after memory planning)" },
    workloads,
  };
}
