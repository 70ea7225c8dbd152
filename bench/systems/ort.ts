/**
 * ONNX Runtime Web 1.30 with its WebGPU execution provider, for inference: the seed MLP
 * as an ONNX model (MatMul, Add, Relu, the shared weights as initializers), encoded with
 * onnx-proto's generated classes, as a model exported from PyTorch would arrive. Each run
 * feeds the batch from the host and reads the logits back, as kiln's `forward` does.
 */

import * as ort from 'onnxruntime-web/webgpu';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import type { BenchSystem } from '../system.js';
import type { BenchData } from '../data-format.js';
import { MLP_BATCH, MLP_CLASSES, MLP_LAYERS } from '../workloads.js';

// onnx-proto is CommonJS: Node's ESM loader sees only its default export.
const { ModelProto, TensorProto } = onnxProto.onnx;

export interface OrtOptions {
  /** URL folder of onnxruntime-web's .wasm and .mjs files (the browser). */
  readonly wasmPaths?: string;
}

function floatInput(name: string, shape: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: shape.map((dimValue) => ({ dimValue })) } } },
  };
}

/** The seed MLP's forward pass as ONNX (opset 13) bytes. */
export function mlpOnnxModel(params: Readonly<Record<string, Float32Array>>): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializer: onnx.ITensorProto[] = [];
  let x = 'images';
  MLP_LAYERS.forEach((layer, i) => {
    for (const [suffix, dims] of [['w', [layer.in, layer.out]], ['b', [layer.out]]] as const) {
      const values = params[`${layer.name}.${suffix}`]!;
      initializer.push({ name: `${layer.name}.${suffix}`, dims: [...dims], dataType: TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    }
    const last = i === MLP_LAYERS.length - 1;
    nodes.push({ opType: 'MatMul', input: [x, `${layer.name}.w`], output: [`${layer.name}.xw`] });
    nodes.push({ opType: 'Add', input: [`${layer.name}.xw`, `${layer.name}.b`], output: [last ? 'logits' : `${layer.name}.z`] });
    if (!last) nodes.push({ opType: 'Relu', input: [`${layer.name}.z`], output: [(x = `${layer.name}.h`)] });
  });
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'kiln-bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'seed_mlp',
      node: nodes,
      initializer,
      input: [floatInput('images', [MLP_BATCH, MLP_LAYERS[0].in])],
      output: [floatInput('logits', [MLP_BATCH, MLP_CLASSES])],
    },
  };
  return ModelProto.encode(ModelProto.create(model)).finish();
}

export async function ortSystem(options: OrtOptions = {}): Promise<BenchSystem> {
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  return {
    id: 'ort-webgpu',
    label: 'ORT Web WebGPU',
    processor: 'gpu',
    packages: ['onnxruntime-web'],
    gpuBytes: { notMeasured: 'ONNX Runtime Web exposes no memory figure' },
    unsupported: 'measured on model inference only: it cannot train, and a single MatMul is not a model',
    // Its WebAssembly runtime (the CPU side of the WebGPU provider) sets the count when its first session starts.
    threads: () => (ort.env.wasm.numThreads === undefined ? 'none: no session started its runtime' : `${ort.env.wasm.numThreads} (ort.env.wasm.numThreads)`),
    workloads: {
      'mlp-infer': async (data: BenchData) => {
        const session = await ort.InferenceSession.create(mlpOnnxModel(data.params.mlp), { executionProviders: ['webgpu'] });
        return {
          step: async (i) => {
            const images = new ort.Tensor('float32', data.batches[i % data.batches.length]!.images, [MLP_BATCH, MLP_LAYERS[0].in]);
            const { logits } = await session.run({ images });
            return (await logits!.getData()) as Float32Array;
          },
          dispose: () => session.release(),
        };
      },
    },
  };
}
