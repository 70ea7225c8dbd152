/**
 * The training loop the Fashion-MNIST examples share: command-line options, shuffled
 * epochs of `trainStep` on the GPU with a progress line, and test accuracy after each
 * epoch. An example supplies only its model (a training program with an `images` input,
 * a `labels` input and a `logits` output) and its defaults. The model's batch is the
 * symbolic dim `batch`: one plan trains on every example (the last step of an epoch takes
 * the remainder) and evaluates the whole test set, whatever the batch size.
 */

import { parseArgs } from 'node:util';
import { compile, requestDevice } from '../index.js';
import type { Session, TrainingProgram } from '../index.js';
import { createSessionWithProgress } from './session-progress.js';
import type { FashionMnistSplit } from './data/fashion-mnist.js';
import { batchAt, loadFashionMnist } from './data/fashion-mnist.js';
import { shuffledOrder } from './data/seeded-random.js';

export interface Options {
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  /** Stop each epoch after this many steps (for quick runs); default a full pass. */
  steps: number | undefined;
  /** Evaluate on the first N test images only; default all 10 000. */
  testLimit: number | undefined;
  seed: number;
}

/** What a model is built from: the options with a symbolic batch, and the number of steps the run will take (for a schedule). */
export type ModelOptions = Omit<Options, 'batch'> & { batch: string; totalSteps: number };

/** An example's defaults for the command-line options. */
export interface Defaults {
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
}

function readOptions(defaults: Defaults): Options {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: String(defaults.epochs) },
      batch: { type: 'string', default: String(defaults.batch) },
      lr: { type: 'string', default: String(defaults.lr) },
      momentum: { type: 'string', default: String(defaults.momentum) },
      steps: { type: 'string' },
      'test-limit': { type: 'string' },
      seed: { type: 'string', default: '0' },
    },
  });
  const positive = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!(value > 0)) throw new Error(`--${name} must be a positive number, got '${text}'.`);
    return value;
  };
  return {
    epochs: positive('epochs', values.epochs)!,
    batch: positive('batch', values.batch)!,
    lr: positive('lr', values.lr)!,
    momentum: Number(values.momentum),
    steps: positive('steps', values.steps),
    testLimit: positive('test-limit', values['test-limit']),
    seed: Number(values.seed),
  };
}

function progress(epoch: number, epochs: number, step: number, steps: number, rate: number, loss: number): string {
  const width = 24;
  const done = Math.round((width * step) / steps);
  const bar = `${'#'.repeat(done)}${'.'.repeat(width - done)}`;
  return `epoch ${epoch}/${epochs} [${bar}] ${step}/${steps} steps  ${rate.toFixed(1)} steps/s  loss ${loss.toFixed(4)}`;
}

async function evaluate(session: Session, test: FashionMnistSplit, batch: number, limit: number): Promise<number> {
  let correct = 0;
  for (let start = 0; start < limit; start += batch) {
    // The last batch holds the remainder: the plan's batch is symbolic, so nothing is padded.
    const count = Math.min(batch, limit - start);
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const { images } = batchAt(test, indices, count);
    const { logits } = await session.forward({ images }, { outputs: ['logits'] });
    for (let row = 0; row < count; row++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits!.data[row * 10 + c]! > logits!.data[row * 10 + best]!) best = c;
      if (best === test.labels[start + row]) correct++;
    }
  }
  return correct / limit;
}

/** Parses the command line over `defaults`, builds the model and trains it, printing progress and accuracy. */
export async function trainFashionMnist(model: (options: ModelOptions) => TrainingProgram, defaults: Defaults): Promise<void> {
  const options = readOptions(defaults);
  const [train, test] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('test')]);
  const gpu = await requestDevice();
  const { vendor, architecture, description, backend, software } = gpu.info;
  console.log(`adapter: ${[vendor, architecture, description].filter(Boolean).join(' / ')} (${backend}${software ? ', software' : ''})`);

  const compileStart = performance.now();
  // Every example every epoch: the last step takes the remainder (60000 = 937·64 + 32).
  const stepsPerEpoch = Math.min(options.steps ?? Infinity, Math.ceil(train.count / options.batch));
  const program = model({ ...options, batch: 'batch', totalSteps: stepsPerEpoch * options.epochs });
  const plan = compile(program, { limits: gpu.limits });
  const { session, pipelines } = await createSessionWithProgress(gpu, plan);
  const tty = process.stdout.isTTY === true;
  const trainStep = plan.entries['trainStep']!;
  console.log(
    `compiled ${plan.kernels.length} kernels in ${((performance.now() - compileStart) / 1000).toFixed(1)} s ` +
      `(${pipelines.ready} of ${pipelines.total} pipelines made; the first step waits for its own); ` +
      `trainStep: ${trainStep.dispatches.length} dispatches, ${trainStep.copies.length} parameter/state copies, 1 submit; one plan for every batch size`,
  );

  const testLimit = Math.min(options.testLimit ?? test.count, test.count);
  let stepTimes = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const order = shuffledOrder(train.count, options.seed + epoch);
    const epochStart = performance.now();
    let loss = NaN;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const indices = order.subarray(step * options.batch, Math.min((step + 1) * options.batch, train.count));
      const feeds = batchAt(train, indices, indices.length);
      loss = (await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!;
      const rate = (step + 1) / ((performance.now() - epochStart) / 1000);
      if (tty) process.stdout.write(`\r${progress(epoch, options.epochs, step + 1, stepsPerEpoch, rate, loss)}`);
    }
    const seconds = (performance.now() - epochStart) / 1000;
    stepTimes += seconds;
    const line = progress(epoch, options.epochs, stepsPerEpoch, stepsPerEpoch, stepsPerEpoch / seconds, loss);
    process.stdout.write(`${tty ? '\r' : ''}${line}\n`);
    const accuracy = await evaluate(session, test, options.batch, testLimit);
    console.log(`epoch ${epoch}: test accuracy ${(accuracy * 100).toFixed(2)}% on ${testLimit} images`);
  }
  const steps = stepsPerEpoch * options.epochs;
  console.log(`trained ${steps} steps at ${((1000 * stepTimes) / steps).toFixed(1)} ms per step (batch ${options.batch}, data loading included)`);
  session.destroy();
  gpu.destroy();
}
