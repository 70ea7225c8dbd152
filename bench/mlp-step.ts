/**
 * Milliseconds per `trainStep` of the seed MLP (784→128→ReLU→64→ReLU→10, batch 128, SGD
 * momentum), in Node (Dawn) and in headless Chromium, measured in the same run, with the
 * loss read back each step (as a training loop does).
 *
 *   npx tsx bench/mlp-step.ts [--steps 20]
 */

import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { Session, compile, requestDevice } from '../index.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { browserBundleOptions } from '../scripts/build.mjs';
import { launchChromium } from '../scripts/chromium.js';
import { startStaticServer } from '../scripts/static-server.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
const STEPS = Number(values.steps);
const WARMUP = Number(values.warmup);
const BATCH = 128;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (xs: number[]): string =>
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}) over ${xs.length} steps`;

// A plan for WebGPU's guaranteed limits runs unchanged in both places.
const plan = compile(seedMlp({ batch: BATCH }));
const feeds = {
  images: Array.from({ length: BATCH * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000),
  labels: Array.from({ length: BATCH }, (_, i) => i % 10),
};
console.log(`seed MLP trainStep, batch ${BATCH}: ${plan.entries['trainStep']!.dispatches.length} dispatches, 1 submit`);

const gpu = await requestDevice();
const session = await Session.create(gpu.device, plan);
for (let i = 0; i < WARMUP; i++) await session.trainStep(feeds, { outputs: ['loss'] });
const nodeTimes: number[] = [];
for (let i = 0; i < STEPS; i++) {
  const start = performance.now();
  await session.trainStep(feeds, { outputs: ['loss'] });
  nodeTimes.push(performance.now() - start);
}
session.destroy();
console.log(`Node (Dawn, ${gpu.info.description || gpu.info.vendor}): ${summary(nodeTimes)}`);
gpu.destroy();

const bundle = await esbuild.build({ ...browserBundleOptions('bench/mlp-step-page.ts'), write: false });
const page = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="entry.js"></script>';
const server = await startStaticServer({ files: { '/index.html': page, '/entry.js': bundle.outputFiles[0]!.text, '/plan.json': JSON.stringify(plan) } });
const chromium = await launchChromium();
try {
  const tab = await chromium.browser.newPage();
  await tab.goto(`${server.url}index.html`);
  await tab.waitForFunction(() => typeof window.kilnTimeSteps === 'function');
  const browserTimes = await tab.evaluate((f, w, s) => window.kilnTimeSteps(f, w, s), feeds, WARMUP, STEPS);
  console.log(`headless Chromium (WebGPU): ${summary(browserTimes)}`);
} finally {
  await chromium.close();
  await server.close();
}
