/**
 * jax-js 0.1.25 with `jit`, on its WebGPU device or its WebAssembly (CPU) device, written
 * as a JAX user would: a pure loss function, `valueAndGrad`, and SGD (with momentum as
 * PyTorch's rule, as kiln's `sgd`) inside one jitted step. Arrays are placed on the
 * system's device explicitly, so both devices run in one page. jax-js counts references:
 * an argument is consumed by the call it is passed to, hence the `.ref`s. The CNN and the
 * transformer block are in jax-models.ts.
 */

import { blockUntilReady, init, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import type { BenchSystem, WorkloadFactory, WorkloadRun } from '../system.js';
import type { BenchData, ModelName } from '../data-format.js';
import { lenetBatch } from '../data-format.js';
import type { WorkloadId } from '../workloads.js';
import { BLOCK, BLOCK_LINEARS, LENET, LENET_CONVS, LENET_DENSES, MLP_BATCH, MLP_CLASSES, MLP_LAYERS, MLP_LR, MLP_MOMENTUM, WORKLOADS } from '../workloads.js';
import type { Params } from './jax-models.js';
import { blockLoss, crossEntropy, lenetLoss } from './jax-models.js';

function mlpForward(params: Params, images: np.Array): np.Array {
  let x = images;
  MLP_LAYERS.forEach((layer, i) => {
    x = np.matmul(x, params[`${layer.name}.w`]!).add(params[`${layer.name}.b`]!);
    if (i < MLP_LAYERS.length - 1) x = nn.relu(x);
  });
  return x;
}

function mlpLoss(params: Params, images: np.Array, labels: np.Array): np.Array {
  return crossEntropy(mlpForward(params, images), labels, MLP_CLASSES);
}

/**
 * jax-js reports no thread count; its source (0.1.25, backend/wasm/parallel.ts) runs wasm
 * kernels on a pool of navigator.hardwareConcurrency workers when SharedArrayBuffer and
 * Worker exist, else on the calling thread.
 */
function wasmThreads(): string {
  const pooled = typeof SharedArrayBuffer !== 'undefined' && typeof Worker !== 'undefined';
  return pooled ? `${navigator.hardwareConcurrency} workers (navigator.hardwareConcurrency: jax-js exposes no count)` : '1 (no SharedArrayBuffer or Worker: the calling thread)';
}

type Loss = (params: Params, ...batch: np.Array[]) => np.Array;
type Step = (params: Params, velocity: Params, ...batch: np.Array[]) => [np.Array, Params, Params];

/**
 * One jitted SGD step on `loss`: v ← μv + g, p ← p − lr·v (with μ = 0, p ← p − lr·g and
 * the velocity passes through empty); returns the loss and the new params and velocities.
 */
function sgdStep(loss: Loss, lr: number, momentum: number): Step {
  return jit((params: Params, velocity: Params, ...batch: np.Array[]): [np.Array, Params, Params] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(params), ...batch);
    const nextParams: Params = {};
    const nextVelocity: Params = {};
    for (const name of Object.keys(params)) {
      const direction = momentum === 0 ? grads[name]! : velocity[name]!.mul(momentum).add(grads[name]!);
      if (momentum !== 0) nextVelocity[name] = direction.ref;
      nextParams[name] = params[name]!.sub(direction.mul(lr));
    }
    return [value, nextParams, nextVelocity];
  });
}

export async function jaxSystem(device: 'webgpu' | 'wasm'): Promise<BenchSystem> {
  const available = await init(device);
  if (!available.includes(device)) throw new Error(`jax-js could not start its '${device}' device (it started: ${available.join(', ') || 'none'}).`);
  const put = (values: Float32Array | Int32Array, shape: number[]): np.Array =>
    np.array(values, { shape, device, dtype: values instanceof Int32Array ? np.int32 : np.float32 });
  /** A model's shared weights on this device, each in the shape kiln gives it (LeNet's conv bias [out, 1, 1] broadcasts over NCHW). */
  const modelParams = (data: BenchData, model: ModelName, shapes: Readonly<Record<string, number[]>>): Params =>
    Object.fromEntries(Object.entries(data.params[model]).map(([name, values]) => [name, put(values, shapes[name] ?? [values.length])]));
  const matrixShapes = (layers: readonly { name: string; in: number; out: number }[]): [string, number[]][] => layers.map((l) => [`${l.name}.w`, [l.in, l.out]]);
  const mlpShapes = Object.fromEntries(matrixShapes(MLP_LAYERS));
  const lenetShapes = Object.fromEntries([
    ...LENET_CONVS.flatMap((c): [string, number[]][] => [[`${c.name}.w`, [c.out, c.in, c.kernel, c.kernel]], [`${c.name}.b`, [c.out, 1, 1]]]),
    ...matrixShapes(LENET_DENSES),
  ]);
  const blockShapes = Object.fromEntries(matrixShapes(BLOCK_LINEARS));
  const images = (data: BenchData, i: number): np.Array => put(data.batches[i % data.batches.length]!.images, [MLP_BATCH, MLP_LAYERS[0].in]);

  /** A training workload: params and velocities live on the device between steps; each step reads its loss back once its update is done. */
  function training(params: Params, step: Step, momentum: number, batch: (i: number) => np.Array[]): WorkloadRun {
    let velocity: Params = momentum === 0 ? {} : Object.fromEntries(Object.entries(params).map(([name, p]) => [name, np.zeros(p.shape, { device })]));
    return {
      step: async (i) => {
        const [loss, nextParams, nextVelocity] = step(params, velocity, ...batch(i));
        [params, velocity] = [nextParams, nextVelocity];
        const values = (await loss.data()) as Float32Array;
        // Reading the loss submits the whole jitted step. On WebGPU the read then waits for
        // all of it (the queue runs in order); on wasm with worker threads it waits only for
        // the loss's kernels, so without this wait the backward pass and the update would
        // finish during the other systems' turns, off this system's clock.
        if (device === 'wasm') await blockUntilReady([params, velocity]);
        return values;
      },
      dispose: () => tree.dispose([params, velocity]),
    };
  }

  // Jitted per system: a trace or kernel cached by one device's run must not warm the other's.
  const mlpStep = sgdStep(mlpLoss, MLP_LR, MLP_MOMENTUM);
  const lenetStep = sgdStep(lenetLoss, LENET.lr, LENET.momentum);
  const blockStep = sgdStep(blockLoss, BLOCK.lr, 0);
  const inference = jit(mlpForward);
  const product = jit((a: np.Array, b: np.Array) => np.matmul(a, b));

  const workloads: Partial<Record<WorkloadId, WorkloadFactory>> = {
    'mlp-train': async (data) =>
      training(modelParams(data, 'mlp', mlpShapes), mlpStep, MLP_MOMENTUM, (i) => [images(data, i), put(data.batches[i % data.batches.length]!.labels, [MLP_BATCH])]),
    'mlp-infer': async (data) => {
      const params = modelParams(data, 'mlp', mlpShapes);
      return {
        step: async (i) => (await inference(tree.ref(params), images(data, i)).data()) as Float32Array,
        dispose: () => tree.dispose(params),
      };
    },
    'lenet-train': async (data) =>
      training(modelParams(data, 'lenet', lenetShapes), lenetStep, LENET.momentum, (i) => {
        const batch = lenetBatch(data, i);
        return [put(batch.images, [LENET.batch, 1, 28, 28]), put(batch.labels, [LENET.batch])];
      }),
    'transformer-block': async (data) =>
      training(modelParams(data, 'block', blockShapes), blockStep, 0, (i) => [put(data.blockInputs[i % data.blockInputs.length]!, [BLOCK.batch * BLOCK.context, BLOCK.width])]),
  };
  for (const workload of WORKLOADS) {
    if (!workload.matmul) continue;
    const { m, k, n } = workload.matmul;
    workloads[workload.id] = async (data) => {
      const a = put(data.matmuls[workload.id]!.a, [m, k]);
      const b = put(data.matmuls[workload.id]!.b, [k, n]);
      return { step: async () => (await product(a.ref, b.ref).data()) as Float32Array, dispose: () => tree.dispose([a, b]) };
    };
  }

  return {
    id: `jax-${device}`,
    label: device === 'webgpu' ? 'jax-js WebGPU jit' : 'jax-js wasm (CPU)',
    processor: device === 'webgpu' ? 'gpu' : 'cpu',
    packages: ['@jax-js/jax'],
    gpuBytes: { notMeasured: device === 'webgpu' ? 'jax-js exposes no memory figure' : 'runs on the CPU' },
    workloads,
    ...(device === 'wasm' ? { threads: wasmThreads } : {}),
  };
}
