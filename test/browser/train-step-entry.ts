/**
 * The page side of the browser training test: it runs a plan compiled ahead of time in
 * Node, with the runtime alone (no compiler is bundled): fetch the plan JSON and a
 * safetensors checkpoint of the starting weights, create a session, load the weights,
 * take training steps and return the losses. Only plain data crosses to puppeteer.
 */

import type { Plan } from '../../compiler/plan-format.js';
import { requestDevice } from '../../runtime/device.js';
import { Session } from '../../runtime/session.js';

export type TrainStepsResult =
  | { readonly ok: true; readonly losses: number[]; readonly backend: string }
  | { readonly ok: false; readonly name: string; readonly message: string };

declare global {
  interface Window {
    kilnTrainSteps(steps: readonly Record<string, number[]>[]): Promise<TrainStepsResult>;
  }
}

async function fetchOk(path: string): Promise<Response> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${response.statusText}`);
  return response;
}

window.kilnTrainSteps = async (steps) => {
  try {
    const plan = (await (await fetchOk('plan.json')).json()) as Plan;
    const checkpoint = new Uint8Array(await (await fetchOk('init.safetensors')).arrayBuffer());
    const gpu = await requestDevice();
    const session = await Session.create(gpu.device, plan);
    await session.loadCheckpoint(checkpoint);
    const losses: number[] = [];
    for (const feeds of steps) losses.push((await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!);
    session.destroy();
    gpu.destroy();
    return { ok: true, losses, backend: gpu.info.backend };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return { ok: false, name, message };
  }
};
