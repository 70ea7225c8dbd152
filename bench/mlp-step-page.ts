/**
 * Page side of bench/mlp-step.ts: runs the seed MLP's `trainStep` from plans compiled
 * ahead of time in Node, with the runtime alone, timing each step with performance.now().
 * The plans' steps are interleaved (A, B, A, B, …) so machine noise hits them alike.
 */

import type { Plan } from '../compiler/plan-format.js';
import { requestDevice } from '../runtime/device.js';
import { Session } from '../runtime/session.js';

declare global {
  interface Window {
    kilnTimeSteps(planNames: string[], feeds: Record<string, number[]>, warmup: number, steps: number): Promise<number[][]>;
  }
}

window.kilnTimeSteps = async (planNames, feeds, warmup, steps) => {
  const gpu = await requestDevice();
  const sessions = await Promise.all(
    planNames.map(async (name) => Session.create(gpu.device, (await (await fetch(`${name}.json`)).json()) as Plan)),
  );
  for (const session of sessions) for (let i = 0; i < warmup; i++) await session.trainStep(feeds, { outputs: ['loss'] });
  const times = sessions.map((): number[] => []);
  for (let i = 0; i < steps; i++) {
    for (const [k, session] of sessions.entries()) {
      const start = performance.now();
      await session.trainStep(feeds, { outputs: ['loss'] });
      times[k]!.push(performance.now() - start);
    }
  }
  for (const session of sessions) session.destroy();
  gpu.destroy();
  return times;
};
