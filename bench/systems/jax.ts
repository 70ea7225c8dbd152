/**
 * jax-js 0.1.25 with `jit`, on its WebGPU device or its WebAssembly (CPU) device, written
 * as a JAX user would: a pure loss function, `valueAndGrad`, SGD with momentum (PyTorch's
 * rule, as kiln's `sgd`) inside one jitted step. Arrays are placed on the system's device
 * explicitly, so both devices run in one page. jax-js counts references: an argument is
 * consumed by the call it is passed to, hence the `.ref`s.
 */

import { init, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import type { BenchSystem, WorkloadFactory } from '../system.js';
import type { BenchData } from '../data-format.js';
import type { WorkloadId } from '../workloads.js';
import { MLP_BATCH, MLP_CLASSES, MLP_LAYERS, MLP_LR, MLP_MOMENTUM, WORKLOADS } from '../workloads.js';

type Params = { [name: string]: np.Array };

function mlpForward(params: Params, images: np.Array): np.Array {
  let x = images;
  MLP_LAYERS.forEach((layer, i) => {
    x = np.matmul(x, params[`${layer.name}.w`]!).add(params[`${layer.name}.b`]!);
    if (i < MLP_LAYERS.length - 1) x = nn.relu(x);
  });
  return x;
}

/** Mean softmax cross-entropy of the logits against integer labels. */
function mlpLoss(params: Params, images: np.Array, labels: np.Array): np.Array {
  const logProbabilities = nn.logSoftmax(mlpForward(params, images));
  return np.mean(np.sum(logProbabilities.mul(nn.oneHot(labels, MLP_CLASSES)), -1)).neg();
}

export async function jaxSystem(device: 'webgpu' | 'wasm'): Promise<BenchSystem> {
  const available = await init(device);
  if (!available.includes(device)) throw new Error(`jax-js could not start its '${device}' device (it started: ${available.join(', ') || 'none'}).`);
  const put = (values: Float32Array | Int32Array, shape: number[]): np.Array =>
    np.array(values, { shape, device, dtype: values instanceof Int32Array ? np.int32 : np.float32 });
  const mlpParams = (data: BenchData): Params =>
    Object.fromEntries(MLP_LAYERS.flatMap((l) => [[`${l.name}.w`, put(data.mlpParams[`${l.name}.w`]!, [l.in, l.out])], [`${l.name}.b`, put(data.mlpParams[`${l.name}.b`]!, [l.out])]]));
  const images = (data: BenchData, i: number): np.Array => put(data.batches[i % data.batches.length]!.images, [MLP_BATCH, MLP_LAYERS[0].in]);

  // Jitted per system: a trace or kernel cached by one device's run must not warm the other's.
  /** One SGD-momentum step: v ← μv + g, p ← p − lr·v; returns the loss and the new params and velocities. */
  const trainStep = jit((params: Params, velocity: Params, images: np.Array, labels: np.Array): [np.Array, Params, Params] => {
    const [loss, grads] = valueAndGrad(mlpLoss)(tree.ref(params), images, labels);
    const nextParams: Params = {};
    const nextVelocity: Params = {};
    for (const name of Object.keys(params)) {
      nextVelocity[name] = velocity[name]!.mul(MLP_MOMENTUM).add(grads[name]!);
      nextParams[name] = params[name]!.sub(nextVelocity[name]!.ref.mul(MLP_LR));
    }
    return [loss, nextParams, nextVelocity];
  });
  const inference = jit(mlpForward);
  const product = jit((a: np.Array, b: np.Array) => np.matmul(a, b));

  const workloads: Partial<Record<WorkloadId, WorkloadFactory>> = {
    'mlp-train': async (data) => {
      let params = mlpParams(data);
      let velocity: Params = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, np.zeros(p.shape, { device })]));
      return {
        step: async (i) => {
          const labels = put(data.batches[i % data.batches.length]!.labels, [MLP_BATCH]);
          const [loss, nextParams, nextVelocity] = trainStep(params, velocity, images(data, i), labels);
          [params, velocity] = [nextParams, nextVelocity];
          return (await loss.data()) as Float32Array;
        },
        dispose: () => tree.dispose([params, velocity]),
      };
    },
    'mlp-infer': async (data) => {
      const params = mlpParams(data);
      return {
        step: async (i) => (await inference(tree.ref(params), images(data, i)).data()) as Float32Array,
        dispose: () => tree.dispose(params),
      };
    },
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
  };
}
