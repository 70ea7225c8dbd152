/**
 * `npm run soak [-- --steps N] [--json]`: trains a small model (scripts/soak-model.ts) for
 * N steps (default 100,000) in one session and shows that a long run holds its memory
 * constant: live GPU buffers and their bytes (counted by wrapping createBuffer/destroy), and
 * the JS heap after a full garbage collection (run with `node --expose-gc`, as the npm
 * script does; without it the heap figures include garbage not yet collected). The loss is
 * read back every step and every 500th step is checked for NaN/Infinity, so both paths
 * stay under the soak. It prints the figures after a warmup and at the end, then destroys
 * the session and shows what is left (nothing, if every buffer was released). `--json`
 * prints one JSON line instead (the soak test in `npm test` parses it).
 */

import { compile } from '../compiler/plan.js';
import { requestDevice } from '../runtime/device.js';
import { Session } from '../runtime/session.js';
import { countBuffers } from './gpu-buffers.js';
import type { LiveBuffers } from './gpu-buffers.js';
import { soakBatch, soakModel } from './soak-model.js';

/** Steps before the first measurement: every lazily made buffer (readback staging, numerics flags) exists by then. */
const WARMUP_STEPS = 600;

interface Snapshot {
  readonly step: number;
  readonly buffers: LiveBuffers;
  readonly heapUsed: number;
  readonly external: number;
  readonly loss: number;
}

export interface SoakResult {
  readonly steps: number;
  readonly gc: boolean;
  readonly seconds: number;
  readonly beforeCreate: LiveBuffers;
  readonly warm: Snapshot;
  readonly end: Snapshot;
  readonly afterDestroy: LiveBuffers;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may only queue finalizers whose objects the second frees.
  gc?.();
  gc?.();
}

/** Text mode prints a snapshot this often, so a long run shows its figures staying put. */
const PROGRESS_EVERY = 10000;

async function soak(steps: number, progress: (s: Snapshot) => void): Promise<SoakResult> {
  const gpu = await requestDevice();
  const counter = countBuffers();
  const beforeCreate = counter.live(gpu.device);
  const session = await Session.create(gpu.device, compile(soakModel(), { limits: gpu.limits }), { checkNumerics: { every: 500 } });
  const started = performance.now();
  let loss = Number.NaN;
  const snapshot = (step: number): Snapshot => {
    collectGarbage();
    const { heapUsed, external } = process.memoryUsage();
    return { step, buffers: counter.live(gpu.device), heapUsed, external, loss };
  };
  let warm: Snapshot | undefined;
  for (let step = 0; step < steps; step++) {
    loss = (await session.trainStep(soakBatch(step), { outputs: ['loss'] }))['loss']!.data[0]!;
    if (step + 1 === Math.min(WARMUP_STEPS, steps)) warm = snapshot(step + 1);
    else if ((step + 1) % PROGRESS_EVERY === 0 && step + 1 < steps) progress(snapshot(step + 1));
  }
  const end = snapshot(steps);
  const seconds = (performance.now() - started) / 1000;
  session.destroy();
  await gpu.device.queue.onSubmittedWorkDone();
  const afterDestroy = counter.live(gpu.device);
  counter.stop();
  gpu.destroy();
  return { steps, gc: typeof (globalThis as { gc?: unknown }).gc === 'function', seconds, beforeCreate, warm: warm!, end, afterDestroy };
}

function describe(s: Snapshot): string {
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  return `step ${s.step}: ${s.buffers.count} GPU buffers, ${s.buffers.bytes} bytes; JS heap ${mib(s.heapUsed)}, external ${mib(s.external)}; loss ${s.loss.toFixed(4)}`;
}

const steps = Number(argument('--steps') ?? 100000);
if (!Number.isSafeInteger(steps) || steps < 1) throw new Error(`soak: --steps must be a positive integer, got ${argument('--steps')}`);
const json = process.argv.includes('--json');
const result = await soak(steps, (s) => json || console.log(`  ${describe(s)}`));
if (json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`soak: ${result.steps} training steps in ${result.seconds.toFixed(1)} s (${(result.steps / result.seconds).toFixed(0)} steps/s)${result.gc ? '' : ' (no --expose-gc: heap figures include uncollected garbage)'}`);
  console.log(`  before the session: ${result.beforeCreate.count} GPU buffers`);
  console.log(`  after warmup,  ${describe(result.warm)}`);
  console.log(`  at the end,    ${describe(result.end)}`);
  console.log(`  heap growth ${((result.end.heapUsed - result.warm.heapUsed) / 1024).toFixed(1)} KiB over ${result.end.step - result.warm.step} steps`);
  console.log(`  after destroy(): ${result.afterDestroy.count} GPU buffers, ${result.afterDestroy.bytes} bytes`);
}
