/**
 * TensorFlow.js 4.22 on its WebGPU backend or its WebAssembly (CPU) backend, written as a
 * TF.js user would: variables, `tf.train.momentum` / `tf.train.sgd` and
 * `optimizer.minimize`, `tf.tidy`. TF.js has one active backend per page, so each backend
 * is a system of its own that becomes the active one before its iterations (`activate`,
 * outside the clock). The CNN and the transformer block are in tfjs-models.ts.
 */

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BenchSystem, WorkloadFactory, WorkloadRun } from '../system.js';
import type { BenchData } from '../data-format.js';
import { lenetBatch } from '../data-format.js';
import type { WorkloadId } from '../workloads.js';
import { BLOCK, LENET, MLP_BATCH, MLP_CLASSES, MLP_LAYERS, MLP_LR, MLP_MOMENTUM, WORKLOADS } from '../workloads.js';
import { blockForward, blockVariables, causalBias, lenetForward, lenetVariables } from './tfjs-models.js';

export interface TfjsOptions {
  /** URL folder of tfjs-backend-wasm's .wasm files (the browser); Node finds them itself. */
  readonly wasmPaths?: string;
}

/** The MLP's weights as TF.js variables, [w1, b1, w2, b2, w3, b3]. */
function mlpVariables(data: BenchData): tf.Variable[] {
  return MLP_LAYERS.flatMap((layer) => [
    tf.variable(tf.tensor2d(data.params.mlp[`${layer.name}.w`]!, [layer.in, layer.out])),
    tf.variable(tf.tensor1d(data.params.mlp[`${layer.name}.b`]!)),
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

/** A training workload: each step minimizes `loss(i)` over `variables` and reads the loss back. */
function training(variables: readonly tf.Variable[], optimizer: tf.Optimizer, loss: (i: number) => tf.Scalar, extra: readonly tf.Tensor[] = []): WorkloadRun {
  return {
    step: (i) => readAndDispose(tf.tidy(() => optimizer.minimize(() => loss(i), true, [...variables])!)),
    dispose: () => {
      optimizer.dispose();
      tf.dispose([...variables, ...extra]);
    },
  };
}

export async function tfjsSystem(backend: 'webgpu' | 'wasm', options: TfjsOptions = {}): Promise<BenchSystem> {
  if (backend === 'wasm' && options.wasmPaths) setWasmPaths(options.wasmPaths);
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its '${backend}' backend (see the console).`);
  await tf.ready();

  const workloads: Partial<Record<WorkloadId, WorkloadFactory>> = {
    'mlp-train': async (data) => {
      const variables = mlpVariables(data);
      return training(variables, tf.train.momentum(MLP_LR, MLP_MOMENTUM), (i) => {
        const batch = data.batches[i % data.batches.length]!;
        const images = tf.tensor2d(batch.images, [MLP_BATCH, MLP_LAYERS[0].in]);
        const labels = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), MLP_CLASSES);
        return tf.losses.softmaxCrossEntropy(labels, mlpForward(variables, images)) as tf.Scalar;
      });
    },
    'transformer-block': async (data) => {
      const variables = blockVariables(data);
      const bias = causalBias();
      return training(Object.values(variables), tf.train.sgd(BLOCK.lr), (i) => {
        const x = tf.tensor2d(data.blockInputs[i % data.blockInputs.length]!, [BLOCK.batch * BLOCK.context, BLOCK.width]);
        return tf.mean(tf.square(blockForward(variables, bias, x)));
      }, [bias]);
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
  // tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so conv2d cannot be trained there.
  if (backend === 'webgpu') {
    workloads['lenet-train'] = async (data) => {
      const variables = lenetVariables(data);
      return training(Object.values(variables), tf.train.momentum(LENET.lr, LENET.momentum), (i) => {
        const batch = lenetBatch(data, i);
        const images = tf.tensor4d(batch.images, [LENET.batch, 28, 28, 1]);
        const labels = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), LENET.classes);
        return tf.losses.softmaxCrossEntropy(labels, lenetForward(variables, images)) as tf.Scalar;
      });
    };
  }
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
    ...(backend === 'wasm'
      ? {
          unsupported: { 'lenet-train': "tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel (conv2d's weight gradient), so a conv net cannot train on it" },
          // tfjs-backend-wasm 4.22 caps its XNNPACK pool at navigator.hardwareConcurrency / 2 (setThreadsCount cannot raise it).
          threads: () =>
            tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')
              ? `${getThreadsCount()} (getThreadsCount(), the threaded build: its pool is capped at navigator.hardwareConcurrency / 2 = ${Math.floor(navigator.hardwareConcurrency / 2)})`
              : `${getThreadsCount()} (getThreadsCount(), the single-threaded build: no SharedArrayBuffer)`,
        }
      : {}),
    activate: async () => {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
    },
  };
}
