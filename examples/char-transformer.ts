/**
 * A small decoder-only transformer (2 layers, width 64, 4 heads, context 64) trained on
 * the GPU as a character language model on the GPL-3 text every Debian system ships.
 * Prints the unigram entropy (the loss of a model that ignores context) next to the
 * training and held-out losses, then samples text from the trained model. The batch is
 * the symbolic dim `batch`: the session that trains on 16 windows a step samples one
 * window at a time, with the same weights and no second compile.
 *
 *   npx tsx examples/char-transformer.ts -- --steps 600 --batch 16 --sample 300
 */

import { parseArgs } from 'node:util';
import { compile, requestDevice } from '../index.js';
import { createSessionWithProgress } from './session-progress.js';
import type { HostTensor } from '../index.js';
import { loadCharCorpus, splitCorpus, textBatch, unigramEntropy } from './data/text-corpus.js';
import { seededRandom } from './data/seeded-random.js';
import { charTransformer } from './models/char-transformer.js';

const CONTEXT = 64;

function readOptions() {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '600' },
      batch: { type: 'string', default: '16' },
      lr: { type: 'string', default: '0.003' },
      sample: { type: 'string', default: '300' },
      seed: { type: 'string', default: '0' },
    },
  });
  const read = (name: keyof typeof values): number => {
    const value = Number(values[name]);
    if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a non-negative number, got '${values[name]}'.`);
    return value;
  };
  return { steps: read('steps'), batch: read('batch'), lr: read('lr'), sample: read('sample'), seed: read('seed') };
}

/** Mean next-character cross-entropy (nats) of `logits` [rows, vocab] against `targets`. */
function crossEntropy(logits: HostTensor, targets: Int32Array, vocab: number): number {
  let total = 0;
  for (let row = 0; row < targets.length; row++) {
    const base = row * vocab;
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, logits.data[base + c]!);
    let sum = 0;
    for (let c = 0; c < vocab; c++) sum += Math.exp(logits.data[base + c]! - max);
    total += Math.log(sum) + max - logits.data[base + targets[row]!]!;
  }
  return total / targets.length;
}

/** Draws an index from softmax(logits / temperature). */
function sampleFrom(logits: ArrayLike<number>, start: number, vocab: number, temperature: number, random: () => number): number {
  let max = -Infinity;
  for (let c = 0; c < vocab; c++) max = Math.max(max, logits[start + c]!);
  const weights = Array.from({ length: vocab }, (_, c) => Math.exp((logits[start + c]! - max) / temperature));
  let threshold = random() * weights.reduce((a, b) => a + b, 0);
  for (let c = 0; c < vocab; c++) {
    threshold -= weights[c]!;
    if (threshold <= 0) return c;
  }
  return vocab - 1;
}

async function main(): Promise<void> {
  const options = readOptions();
  const corpus = loadCharCorpus();
  const vocab = corpus.vocab.length;
  const { train, heldOut } = splitCorpus(corpus);
  console.log(`text: ${corpus.ids.length} characters, vocabulary ${vocab}; unigram entropy ${unigramEntropy(train, vocab).toFixed(3)} nats/char`);

  const gpu = await requestDevice();
  const started = performance.now();
  const program = charTransformer({ vocab, batch: 'batch', context: CONTEXT, lr: options.lr, seed: options.seed });
  const plan = compile(program, { limits: gpu.limits });
  const { session, pipelines } = await createSessionWithProgress(gpu, plan);
  console.log(
    `compiled ${plan.kernels.length} kernels in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(${pipelines.ready} of ${pipelines.total} pipelines made; the first step waits for its own); ` +
      `trainStep: ${plan.entries['trainStep']!.dispatches.length} dispatches, 1 submit`,
  );

  const random = seededRandom(options.seed + 1);
  const heldOutLoss = async (): Promise<number> => {
    const check = seededRandom(12345);
    let total = 0;
    for (let i = 0; i < 4; i++) {
      const { tokens, targets } = textBatch(heldOut, options.batch, CONTEXT, check);
      total += crossEntropy((await session.forward({ tokens }, { outputs: ['logits'] }))['logits']!, targets, vocab);
    }
    return total / 4;
  };
  const trainStart = performance.now();
  let recent = 0;
  for (let step = 1; step <= options.steps; step++) {
    const { tokens, targets } = textBatch(train, options.batch, CONTEXT, random);
    recent += (await session.trainStep({ tokens, targets }, { outputs: ['loss'] }))['loss']!.data[0]!;
    if (step % 100 === 0 || step === options.steps) {
      const every = step % 100 === 0 ? 100 : step % 100;
      const msPerStep = (performance.now() - trainStart) / step;
      console.log(`step ${step}: train loss ${(recent / every).toFixed(3)}, held-out loss ${(await heldOutLoss()).toFixed(3)} nats/char (${msPerStep.toFixed(0)} ms/step)`);
      recent = 0;
    }
  }

  if (options.sample > 0) {
    // Sampling feeds one window at a time to the session that trained: the batch is symbolic.
    const window = Array.from(heldOut.subarray(0, CONTEXT));
    const generated: string[] = [];
    const draw = seededRandom(options.seed + 2);
    for (let i = 0; i < options.sample; i++) {
      const { logits } = await session.forward({ tokens: Int32Array.from(window) }, { outputs: ['logits'] });
      const next = sampleFrom(logits!.data, (CONTEXT - 1) * vocab, vocab, 0.8, draw);
      generated.push(corpus.vocab[next]!);
      window.shift();
      window.push(next);
    }
    console.log(`prompt: ${JSON.stringify(Array.from(heldOut.subarray(0, CONTEXT), (id) => corpus.vocab[id]).join(''))}`);
    console.log(`sample: ${JSON.stringify(generated.join(''))}`);
  }
  session.destroy();
  gpu.destroy();
}

await main();
