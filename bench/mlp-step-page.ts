/**
 * Page side of bench/mlp-step.ts: runs the seed MLP's `trainStep` from a plan compiled
 * ahead of time in Node, with the runtime alone, and times it with performance.now().
 */

import type { Plan } from '../compiler/plan-format.js';
import { requestDevice } from '../runtime/device.js';
import { Session } from '../runtime/session.js';

declare global {
  interface Window {
    kilnTimeSteps(feeds: Record<string, number[]>, warmup: number, steps: number): Promise<number[]>;
  }
}

window.kilnTimeSteps = async (feeds, warmup, steps) => {
  const plan = (await (await fetch('plan.json')).json()) as Plan;
  const gpu = await requestDevice();
  const session = await Session.create(gpu.device, plan);
  for (let i = 0; i < warmup; i++) await session.trainStep(feeds, { outputs: ['loss'] });
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await session.trainStep(feeds, { outputs: ['loss'] });
    times.push(performance.now() - start);
  }
  session.destroy();
  gpu.destroy();
  return times;
};
