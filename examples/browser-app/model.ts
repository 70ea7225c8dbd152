/**
 * The model: an MLP for 28×28 images (784→128→ReLU→64→ReLU→10) with softmax
 * cross-entropy and Adam, built with kiln's layers (`nn`) and compiled in the page for the
 * page's GPU. One plan serves training (`trainStep`, 64 images a step) and classifying
 * (`forward`, one image): the batch is the symbolic dim `batch`.
 */

import { Graph, Session, adam, compile, nn, requestDevice, trainingProgram } from 'kiln-webgpu';
import type { KilnDevice, Tensor } from 'kiln-webgpu';
import type { Batch } from './data.js';
import { PIXELS } from './data.js';

/** Examples per training step; `forward` takes any number (one drawn image, or a batch of test images). */
export const BATCH = 64;

export interface Classifier {
  readonly gpu: KilnDevice;
  /** Typed by the program: `forward` returns `logits`, `trainStep` `loss`. */
  readonly session: Session<'logits', 'loss'>;
}

function mlp(): { graph: Graph<'logits'>; loss: Tensor } {
  const g = new Graph('fashion_mlp', { outputs: ['logits'] });
  const images = g.input('images', ['batch', PIXELS]);
  const labels = g.input('labels', ['batch'], 'i32');
  // PyTorch's nn.Linear(784, 128) … with its initialization; params fc1.kernel, fc1.bias, ...
  const model = nn.sequential(nn.linear(g, 'fc1', PIXELS, 128), nn.relu, nn.linear(g, 'fc2', 128, 64), nn.relu, nn.linear(g, 'fc3', 64, 10));
  const logits = model(images);
  g.output('logits', logits);
  return { graph: g, loss: logits.softmaxCrossEntropy(labels) };
}

/** Compiles the model for this page's GPU and makes its session (fresh random weights). */
export async function createClassifier(): Promise<Classifier> {
  const gpu = await requestDevice();
  const { graph, loss } = mlp();
  const plan = compile(trainingProgram(graph, { loss, optimizer: adam({ lr: 1e-3 }) }), { limits: gpu.limits });
  return { gpu, session: await Session.create(gpu.device, plan) };
}

/** One training step on `batch`; returns its loss. */
export async function trainStep(classifier: Classifier, batch: Batch): Promise<number> {
  const { loss } = await classifier.session.trainStep({ images: batch.images, labels: batch.labels }, { outputs: ['loss'] });
  return loss.data[0] ?? NaN;
}

/** Class probabilities for one 28×28 image (784 values in [0, 1]). */
export async function classify(classifier: Classifier, pixels: Float32Array): Promise<number[]> {
  // One image is a batch of one: the session that trains at 64 runs it as it is.
  const { logits } = await classifier.session.forward({ images: pixels }, { outputs: ['logits'] });
  const row = Array.from(logits.data.subarray(0, 10));
  const max = Math.max(...row);
  const exps = row.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}
