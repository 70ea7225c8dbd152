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
  | { readonly ok: true; readonly losses: number[]; readonly backend: string; readonly logits: { shape: number[]; data: number[] }[] }
  | { readonly ok: false; readonly name: string; readonly message: string };

declare global {
  interface Window {
    /**
     * Trains the plan at `planPath` from the checkpoint, one step per `steps` entry, then
     * runs `forward` on each of `forwards` (of any batch size, for a symbolic plan).
     */
    kilnTrainSteps(steps: readonly Record<string, number[]>[], planPath?: string, forwards?: readonly Record<string, number[]>[]): Promise<TrainStepsResult>;
  }
}

async function fetchOk(path: string): Promise<Response> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${response.statusText}`);
  return response;
}

window.kilnTrainSteps = async (steps, planPath = 'plan.json', forwards = []) => {
  try {
    const plan = (await (await fetchOk(planPath)).json()) as Plan;
    const checkpoint = new Uint8Array(await (await fetchOk('init.safetensors')).arrayBuffer());
    const gpu = await requestDevice();
    const session = await Session.create(gpu.device, plan);
    await session.loadCheckpoint(checkpoint);
    const losses: number[] = [];
    for (const feeds of steps) losses.push((await session.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!);
    const logits: { shape: number[]; data: number[] }[] = [];
    for (const feeds of forwards) {
      const out = (await session.forward(feeds, { outputs: ['logits'] }))['logits']!;
      logits.push({ shape: [...out.shape], data: Array.from(out.data) });
    }
    session.destroy();
    gpu.destroy();
    return { ok: true, losses, backend: gpu.info.backend, logits };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return { ok: false, name, message };
  }
};
