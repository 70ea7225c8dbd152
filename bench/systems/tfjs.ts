/**
 * TensorFlow.js 4.22 on its WebGPU backend or its WebAssembly (CPU) backend, written as a
 * TF.js user would: variables, `tf.train.momentum` and `optimizer.minimize`, `tf.tidy`.
 * TF.js has one active backend per page, so each backend is a system of its own that
 * becomes the active one before its iterations (`activate`, outside the clock).
 */

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BenchSystem, WorkloadFactory } from '../system.js';
import type { BenchData } from '../data-format.js';
import type { WorkloadId } from '../workloads.js';
import { MLP_BATCH, MLP_CLASSES, MLP_LAYERS, MLP_LR, MLP_MOMENTUM, WORKLOADS } from '../workloads.js';

export interface TfjsOptions {
  /** URL folder of tfjs-backend-wasm's .wasm files (the browser); Node finds them itself. */
  readonly wasmPaths?: string;
}

/** The MLP's weights as TF.js variables, [w1, b1, w2, b2, w3, b3]. */
function mlpVariables(data: BenchData): tf.Variable[] {
  return MLP_LAYERS.flatMap((layer) => [
    tf.variable(tf.tensor2d(data.mlpParams[`${layer.name}.w`]!, [layer.in, layer.out])),
    tf.variable(tf.tensor1d(data.mlpParams[`${layer.name}.b`]!)),
  ]);
}

function mlpForward(variables: readonly tf.Variable[], images: tf.Tensor2D): tf.Tensor2D {
  let x = images;
  MLP_LAYERS.forEach((_, i) => {
    x = tf.add(tf.matMul(x, variables[2 * i]! as tf.Tensor2D), variables[2 * i + 1]!);
    if (i < MLP_LAYERS.length - 1) x = tf.relu(x);
  });
  return x;
}

async function readAndDispose(tensor: tf.Tensor): Promise<ArrayLike<number>> {
  const values = await tensor.data();
  tensor.dispose();
  return values as Float32Array;
}

export async function tfjsSystem(backend: 'webgpu' | 'wasm', options: TfjsOptions = {}): Promise<BenchSystem> {
  if (backend === 'wasm' && options.wasmPaths) setWasmPaths(options.wasmPaths);
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its '${backend}' backend (see the console).`);
  await tf.ready();

  const workloads: Partial<Record<WorkloadId, WorkloadFactory>> = {
    'mlp-train': async (data) => {
      const variables = mlpVariables(data);
      const optimizer = tf.train.momentum(MLP_LR, MLP_MOMENTUM);
      return {
        step: (i) => {
          const batch = data.batches[i % data.batches.length]!;
          const loss = tf.tidy(() => {
            const images = tf.tensor2d(batch.images, [MLP_BATCH, MLP_LAYERS[0].in]);
            const labels = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), MLP_CLASSES);
            return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, mlpForward(variables, images)), true, variables)!;
          });
          return readAndDispose(loss);
        },
        dispose: () => {
          optimizer.dispose();
          tf.dispose(variables);
        },
      };
    },
    'mlp-infer': async (data) => {
      const variables = mlpVariables(data);
      return {
        step: (i) => {
          const batch = data.batches[i % data.batches.length]!;
          return readAndDispose(tf.tidy(() => mlpForward(variables, tf.tensor2d(batch.images, [MLP_BATCH, MLP_LAYERS[0].in]))));
        },
        dispose: () => tf.dispose(variables),
      };
    },
  };
  for (const workload of WORKLOADS) {
    if (!workload.matmul) continue;
    const { m, k, n } = workload.matmul;
    workloads[workload.id] = async (data) => {
      const a = tf.tensor2d(data.matmuls[workload.id]!.a, [m, k]);
      const b = tf.tensor2d(data.matmuls[workload.id]!.b, [k, n]);
      return { step: () => readAndDispose(tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
    };
  }
  // tf.memory() adds the WebGPU backend's figures: bytes of the GPU buffers it allocated, its pool included.
  const gpuBytes = (): number => (tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU: number }).numBytesAllocatedInGPU;
  for (const [id, factory] of Object.entries(workloads)) {
    workloads[id as WorkloadId] = backend === 'wasm' ? factory : async (data) => ({ ...(await factory!(data)), gpuBytes });
  }

  return {
    id: `tfjs-${backend}`,
    label: backend === 'webgpu' ? 'TF.js WebGPU' : 'TF.js wasm (CPU)',
    processor: backend === 'webgpu' ? 'gpu' : 'cpu',
    packages: ['@tensorflow/tfjs', backend === 'webgpu' ? '@tensorflow/tfjs-backend-webgpu' : '@tensorflow/tfjs-backend-wasm'],
    gpuBytes: backend === 'webgpu' ? { source: 'tf.memory().numBytesAllocatedInGPU: the GPU buffers the backend allocated, its pool included' } : { notMeasured: 'runs on the CPU' },
    workloads,
    activate: async () => {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
    },
  };
}
