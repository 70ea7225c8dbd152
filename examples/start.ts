/**
 * `npm start`: kiln's seed model, an MLP for Fashion-MNIST. It builds the graph, prints
 * it, runs one forward pass on a real batch with the CPU reference interpreter, and
 * reports the WebGPU adapter this machine offers.
 */

import { DeviceError, Graph, interpret, requestDevice } from '../index.js';
import type { Tensor } from '../index.js';
import { batchOf, IMAGE_SIZE, loadFashionMnist } from './data/fashion-mnist.js';

const BATCH = 128;

const g = new Graph('mlp');
const x = g.input('x', [BATCH, IMAGE_SIZE], 'f32');
const labels = g.input('labels', [BATCH], 'i32');

function dense(name: string, input: Tensor, units: number): Tensor {
  const w = g.param(`${name}.w`, [input.shape[1]!, units], { init: 'glorotUniform' });
  const b = g.param(`${name}.b`, [units], { init: 'zeros' });
  return input.matmul(w).add(b);
}

const logits = dense('fc3', dense('fc2', dense('fc1', x, 128).relu(), 64).relu(), 10);
g.output('loss', logits.softmaxCrossEntropy(labels));

console.log(g.toString());

const train = await loadFashionMnist('train');
const batch = batchOf(train, 0, BATCH);
const { loss } = interpret(g, { feeds: { x: batch.images, labels: batch.labels } });
console.log(`\nforward pass on the first ${BATCH} Fashion-MNIST training images (CPU reference interpreter):`);
console.log(`  loss = ${loss!.data[0]!.toFixed(4)} (an untrained 10-class model is near ln 10 = ${Math.log(10).toFixed(4)})`);

try {
  const gpu = await requestDevice();
  const { vendor, architecture, description, backend, software } = gpu.info;
  const name = [vendor, architecture, description].filter((part) => part !== '').join(' / ');
  console.log(`\nWebGPU adapter: ${name} (${backend}${software ? ', software: correct but slow' : ''})`);
  gpu.destroy();
} catch (error) {
  if (!(error instanceof DeviceError)) throw error;
  console.log(`\nNo WebGPU adapter: ${error.message}`);
}
