/**
 * Time to the first result, in Node on whatever adapter Dawn finds: from the start of
 * `Session.create` to the first `trainStep`'s loss on the host, on a FRESH device each time
 * (pipelines are cached per device, so a second session on the same device would measure
 * nothing), for the seed MLP (batch 64), LeNet (batch 64) and the 2-layer char transformer
 * (batch 16). Plans are compiled before the clock starts. Also printed: when
 * `Session.create` resolved, and the compute pipelines the device was asked to create
 * (calls to createComputePipelineAsync, counted on the device).
 *
 * `--against DIR` measures another checkout of kiln too (it must hold this script): each
 * sample runs in a child process, alternating this tree and DIR, so machine noise hits
 * both alike; medians per workload.
 *
 *   npm run bench:first                                   # this tree, 3 rounds
 *   npm run bench:first -- --against /tmp/speed-base --rounds 5
 *
 * A benchmark, not a test: it asserts nothing.
 */

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Session, compile, requestDevice } from '../index.js';
import type { Plan, TrainingProgram } from '../index.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { leNet } from '../examples/models/lenet.js';
import { charTransformer } from '../examples/models/char-transformer.js';

const VOCAB = 65;

const WORKLOADS: Record<string, { readonly name: string; build(): TrainingProgram }> = {
  mlp: { name: 'seed MLP (batch 64)', build: () => seedMlp({ batch: 64, seed: 1 }) },
  lenet: { name: 'LeNet (batch 64)', build: () => leNet({ batch: 64, seed: 1 }) },
  transformer: { name: 'char transformer, 2 layers (batch 16)', build: () => charTransformer({ vocab: VOCAB, batch: 16, layers: 2, seed: 1 }) },
};

interface Sample {
  /** Milliseconds from the start of Session.create to its resolving, and to the first trainStep's loss. */
  readonly createMs: number;
  readonly firstMs: number;
  readonly kernels: number;
  readonly pipelines: number;
}

/** Seeded feeds for trainStep: f32 in [0, 1), i32 ids below 10 (labels, tokens). */
function trainFeeds(plan: Plan): Record<string, Float32Array | Int32Array> {
  let state = 12345;
  const next = (): number => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const feeds: Record<string, Float32Array | Int32Array> = {};
  for (const [name, id] of Object.entries(plan.entries['trainStep']!.inputs)) {
    const buffer = plan.buffers[id]!;
    const count = buffer.shape.reduce<number>((n, d) => n * Number(d), 1);
    feeds[name] = buffer.dtype === 'i32' ? Int32Array.from({ length: count }, () => Math.floor(next() * 10)) : Float32Array.from({ length: count }, next);
  }
  return feeds;
}

async function measure(key: string): Promise<Sample> {
  const plan = compile(WORKLOADS[key]!.build());
  const feeds = trainFeeds(plan);
  const gpu = await requestDevice();
  const device = gpu.device;
  let pipelines = 0;
  const create = device.createComputePipelineAsync.bind(device);
  // An own property on this device only: counts the pipelines this tree's runtime asks for.
  device.createComputePipelineAsync = (descriptor) => {
    pipelines++;
    return create(descriptor);
  };
  const start = performance.now();
  const session = await Session.create(device, plan);
  const createMs = performance.now() - start;
  await session.trainStep(feeds, { outputs: ['loss'] });
  const firstMs = performance.now() - start;
  session.destroy();
  gpu.destroy();
  return { createMs, firstMs, kernels: plan.kernels.length, pipelines };
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One sample in a child process of the checkout at `dir`. */
function sampleIn(dir: string, key: string): Sample {
  const out = execFileSync('npx', ['tsx', 'bench/first-result.ts', '--sample', key], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Sample;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      workloads: { type: 'string', default: Object.keys(WORKLOADS).join(',') },
      against: { type: 'string' },
      sample: { type: 'string' },
    },
  });
  if (values.sample) {
    console.log(JSON.stringify(await measure(values.sample)));
    return;
  }
  const keys = values.workloads.split(',');
  for (const key of keys) if (!WORKLOADS[key]) throw new Error(`unknown workload '${key}'; choose from ${Object.keys(WORKLOADS).join(', ')}`);
  const trees = values.against ? [{ name: 'this tree', dir: process.cwd() }, { name: values.against, dir: values.against }] : [{ name: 'this tree', dir: '' }];
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const key of keys) {
      // Alternate which tree goes first, so neither always runs on a machine the other just warmed.
      const order = round % 2 === 0 ? trees : [...trees].reverse();
      for (const tree of order) {
        const sample = tree.dir ? sampleIn(tree.dir, key) : await measure(key);
        const id = `${key} ${tree.name}`;
        samples.set(id, [...(samples.get(id) ?? []), sample]);
        console.error(`round ${round + 1} ${id}: create ${sample.createMs.toFixed(0)} ms, first trainStep ${sample.firstMs.toFixed(0)} ms`);
      }
    }
  }
  console.log(`\n${values.rounds} rounds, medians, a fresh device per sample`);
  console.log('| workload | tree | kernels | pipelines created | Session.create ms | first trainStep result ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const key of keys) {
    for (const tree of trees) {
      const runs = samples.get(`${key} ${tree.name}`)!;
      const last = runs.at(-1)!;
      console.log(`| ${WORKLOADS[key]!.name} | ${tree.name} | ${last.kernels} | ${last.pipelines} | ${median(runs.map((s) => s.createMs)).toFixed(0)} | ${median(runs.map((s) => s.firstMs)).toFixed(0)} |`);
    }
  }
}

await main();
