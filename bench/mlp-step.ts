/**
 * Milliseconds per `trainStep` of the seed MLP (784→128→ReLU→64→ReLU→10, batch 128, SGD
 * momentum), fused and unfused, in Node (Dawn) and in headless Chromium, all measured in
 * one run with the plans' steps interleaved, the loss read back each step (as a training
 * loop does).
 *
 *   npx tsx bench/mlp-step.ts [--steps 20] [--warmup 3]
 */

import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { Session, compile, requestDevice } from '../index.js';
import type { Plan } from '../index.js';
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
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;

// Plans for WebGPU's guaranteed limits run unchanged in both places.
const program = seedMlp({ batch: BATCH });
const plans: Record<string, Plan> = {
  fused: compile(program),
  unfused: compile(program, { fuse: false, simplify: false, memory: false }),
};
const names = Object.keys(plans);
const feeds = {
  images: Array.from({ length: BATCH * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000),
  labels: Array.from({ length: BATCH }, (_, i) => i % 10),
};
for (const name of names) {
  const entry = plans[name]!.entries['trainStep']!;
  console.log(`${name}: ${entry.dispatches.length} dispatches, ${entry.copies.length} copies, 1 submit per step`);
}

const gpu = await requestDevice();
const sessions = await Promise.all(names.map((name) => Session.create(gpu.device, plans[name]!)));
for (const session of sessions) for (let i = 0; i < WARMUP; i++) await session.trainStep(feeds, { outputs: ['loss'] });
const nodeTimes = sessions.map((): number[] => []);
for (let i = 0; i < STEPS; i++) {
  for (const [k, session] of sessions.entries()) {
    const start = performance.now();
    await session.trainStep(feeds, { outputs: ['loss'] });
    nodeTimes[k]!.push(performance.now() - start);
  }
}
for (const session of sessions) session.destroy();
const adapter = gpu.info.description || gpu.info.vendor;
gpu.destroy();

const bundle = await esbuild.build({ ...browserBundleOptions('bench/mlp-step-page.ts'), write: false });
const page = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="entry.js"></script>';
const files: Record<string, string> = { '/index.html': page, '/entry.js': bundle.outputFiles[0]!.text };
for (const name of names) files[`/${name}.json`] = JSON.stringify(plans[name]);
const server = await startStaticServer({ files });
const chromium = await launchChromium();
let browserTimes: number[][];
try {
  const tab = await chromium.browser.newPage();
  await tab.goto(`${server.url}index.html`);
  await tab.waitForFunction(() => typeof window.kilnTimeSteps === 'function');
  browserTimes = await tab.evaluate((n, f, w, s) => window.kilnTimeSteps(n, f, w, s), names, feeds, WARMUP, STEPS);
} finally {
  await chromium.close();
  await server.close();
}

console.log(`\nms per trainStep, batch ${BATCH}, ${STEPS} steps each after ${WARMUP} warm-up:`);
names.forEach((name, k) => {
  console.log(`  Node (Dawn, ${adapter}) ${name.padEnd(8)} ${summary(nodeTimes[k]!)}`);
  console.log(`  headless Chromium       ${name.padEnd(8)} ${summary(browserTimes[k]!)}`);
});
const ratio = (times: number[][]): string => (median(times[1]!) / median(times[0]!)).toFixed(2);
console.log(`  fused is ${ratio(nodeTimes)}× faster in Node and ${ratio(browserTimes)}× in Chromium (median unfused / median fused)`);
