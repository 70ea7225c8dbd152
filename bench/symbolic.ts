/**
 * What a symbolic batch costs and saves, in Node on whatever adapter Dawn finds: for the
 * seed MLP, LeNet and the transformer block, each compiled once with a static batch and
 * once with the batch a symbolic dim (`'batch'`),
 *
 * - steady-state ms per training step, static and symbolic interleaved in one run (rounds
 *   alternate, so machine noise hits both alike), and their ratio;
 * - distinct pipelines, and the time `Session.create` takes on a fresh device, for what an
 *   app needs to train at 64 and predict one example: two static plans, or one symbolic;
 * - device memory of the symbolic session's buffers when it runs at batch 1 and at 128.
 *
 * A benchmark, not a test: it asserts nothing.
 *
 *   npx tsx bench/symbolic.ts                  # every workload, 5 rounds of 10 steps
 *   npx tsx bench/symbolic.ts -- --rounds 3 --steps 5 --workloads mlp,lenet
 */

import { parseArgs } from 'node:util';
import { Session, compile, requestDevice } from '../index.js';
import type { Plan, TrainingProgram } from '../index.js';
import { evaluatePlanSize } from '../compiler/plan-format.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { leNet } from '../examples/models/lenet.js';
import { transformerBlock } from './transformer-block.js';
import { BLOCK } from './workloads.js';

interface Workload {
  readonly name: string;
  readonly batch: number;
  /** Rows of `x` per batch element (the transformer block's x is [batch·context, width]). */
  build(batch: number | string): TrainingProgram;
}

const WORKLOADS: Record<string, Workload> = {
  mlp: { name: 'seed MLP train step', batch: 64, build: (batch) => seedMlp({ batch, seed: 1 }) },
  lenet: { name: 'LeNet train step', batch: 64, build: (batch) => leNet({ batch, seed: 1 }) },
  block: { name: 'transformer block train step', batch: BLOCK.batch, build: (batch) => transformerBlock(batch) },
};

type Feeds = Record<string, Float32Array | Int32Array>;

/** Random feeds for `entry` of `plan` at `dims`: f32 in [0, 1), i32 class labels in [0, 10). */
function feedsFor(plan: Plan, entry: string, dims: Readonly<Record<string, number>>, seed: number): Feeds {
  let state = seed * 2654435761 + 1;
  const next = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const feeds: Feeds = {};
  for (const [name, id] of Object.entries(plan.entries[entry]!.inputs)) {
    const buffer = plan.buffers[id]!;
    const count = buffer.shape.reduce<number>((n, d) => n * evaluatePlanSize(d, dims), 1);
    feeds[name] = buffer.dtype === 'i32' ? Int32Array.from({ length: count }, () => Math.floor(next() * 10)) : Float32Array.from({ length: count }, next);
  }
  return feeds;
}

const distinctPipelines = (plans: readonly Plan[]): number => new Set(plans.flatMap((plan) => plan.kernels.map((k) => k.wgsl.replace(/^\/\/.*\n/gm, '')))).size;

/** Bytes of the buffers a session holds when it runs at `dims`: each allocation at its largest buffer, plus buffers of their own. */
function deviceBytesAt(plan: Plan, dims: Readonly<Record<string, number>>): number {
  const allocations = (plan.allocations ?? []).map((a) => a.bytes);
  let own = 0;
  for (const buffer of plan.buffers) {
    const bytes = Math.max(4, evaluatePlanSize(buffer.bytes, dims));
    if (buffer.allocation === undefined) own += bytes;
    else allocations[buffer.allocation] = Math.max(allocations[buffer.allocation]!, bytes);
  }
  return own + allocations.reduce((a, b) => a + b, 0);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function timeSteps(session: Session, feeds: Feeds, steps: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await session.trainStep(feeds, { outputs: ['loss'] });
    times.push(performance.now() - start);
  }
  return times;
}

async function createTime(plans: readonly Plan[]): Promise<number> {
  const gpu = await requestDevice(); // a fresh device: no pipeline is cached yet
  const start = performance.now();
  const sessions = await Promise.all(plans.map((plan) => Session.create(gpu.device, plan)));
  const seconds = (performance.now() - start) / 1000;
  for (const session of sessions) session.destroy();
  gpu.destroy();
  return seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, steps: { type: 'string', default: '10' }, workloads: { type: 'string', default: Object.keys(WORKLOADS).join(',') } },
  });
  const rounds = Number(values.rounds);
  const steps = Number(values.steps);
  const gpu = await requestDevice();
  console.log(`adapter: ${[gpu.info.vendor, gpu.info.architecture, gpu.info.description].filter(Boolean).join(' / ')}; ${rounds} rounds × ${steps} steps each, interleaved`);
  const rows: string[] = [];
  for (const key of values.workloads.split(',')) {
    const workload = WORKLOADS[key];
    if (!workload) throw new Error(`unknown workload '${key}'; choose from ${Object.keys(WORKLOADS).join(', ')}`);
    const n = workload.batch;
    const staticPlan = compile(workload.build(n));
    const predictOne = compile(workload.build(1));
    const symbolicPlan = compile(workload.build('batch'));
    const dims = { batch: n };
    const staticSession = await Session.create(gpu.device, staticPlan);
    const symbolicSession = await Session.create(gpu.device, symbolicPlan);
    const staticFeeds = feedsFor(staticPlan, 'trainStep', {}, 1);
    const symbolicFeeds = feedsFor(symbolicPlan, 'trainStep', dims, 1);
    await timeSteps(staticSession, staticFeeds, 2);
    await timeSteps(symbolicSession, symbolicFeeds, 2);
    const staticTimes: number[] = [];
    const symbolicTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      staticTimes.push(...(await timeSteps(staticSession, staticFeeds, steps)));
      symbolicTimes.push(...(await timeSteps(symbolicSession, symbolicFeeds, steps)));
    }
    // One session runs at batch 1 and then at 128: the memory it holds at each size.
    for (const size of [1, 128]) await symbolicSession.forward(feedsFor(symbolicPlan, 'forward', { batch: size }, 2));
    staticSession.destroy();
    symbolicSession.destroy();
    const [staticMs, symbolicMs] = [median(staticTimes), median(symbolicTimes)];
    const twoStatic = await createTime([staticPlan, predictOne]);
    const oneSymbolic = await createTime([symbolicPlan]);
    rows.push(
      `| ${workload.name} (batch ${n}) | ${staticMs.toFixed(2)} | ${symbolicMs.toFixed(2)} | ${(symbolicMs / staticMs).toFixed(3)} | ` +
        `${distinctPipelines([staticPlan, predictOne])} in ${twoStatic.toFixed(2)} s | ${distinctPipelines([symbolicPlan])} in ${oneSymbolic.toFixed(2)} s | ` +
        `${(deviceBytesAt(symbolicPlan, { batch: 1 }) / 1024).toFixed(0)} KiB | ${(deviceBytesAt(symbolicPlan, { batch: 128 }) / 1024).toFixed(0)} KiB |`,
    );
    console.log(rows[rows.length - 1]);
  }
  console.log('');
  console.log('| workload | static ms/step | symbolic ms/step | symbolic ÷ static | pipelines: static plans for batch n and 1 (create) | pipelines: one symbolic plan (create) | device memory at batch 1 | at batch 128 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  gpu.destroy();
}

await main();
