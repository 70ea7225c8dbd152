/**
 * Process replay (after tinygrad): compiles a fixed set of graphs — the examples, the
 * golden graphs, a model with dropout and batch norm, and random fuzz graphs — under
 * several option sets, and writes every kernel's WGSL and every entry's dispatch list to
 * a folder. Run it before and after a compiler refactor and `diff -r` the two folders:
 * generated code that should not change shows that it did not.
 *
 *   npx tsx scripts/replay.ts <out-dir>
 */

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../compiler/graph.js';
import type { TrainingProgram } from '../compiler/train.js';
import { compile } from '../compiler/plan.js';
import type { CompileOptions } from '../compiler/plan.js';
import type { Plan } from '../compiler/plan-format.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { leNet } from '../examples/models/lenet.js';
import { charTransformer } from '../examples/models/char-transformer.js';
import { dropoutBatchNormMlp } from '../examples/models/dropout-bn-mlp.js';
import { GOLDEN_GRAPHS } from '../test/golden-snapshots.js';
import { randomGraph } from '../test/fuzz/random-graph.js';

type Source = Graph | TrainingProgram;

const SOURCES: Record<string, () => Source> = {
  'seed-mlp': () => seedMlp({ batch: 128 }),
  lenet: () => leNet({ batch: 64 }),
  'char-transformer': () => charTransformer({ vocab: 43, batch: 8 }),
  'dropout-bn-mlp': () => dropoutBatchNormMlp({ batch: 24 }),
  ...Object.fromEntries(GOLDEN_GRAPHS.map((g) => [`golden-${g.name}`, g.build])),
  ...Object.fromEntries(Array.from({ length: 40 }, (_, seed) => [`fuzz-${seed}`, () => randomGraph(seed, { maxSteps: 12 }).graph])),
};

const OPTIONS: Record<string, CompileOptions> = {
  default: {},
  unfused: { fuse: false },
  unplanned: { memory: false },
  // A device that binds few storage buffers: kernels must fit or split.
  'eight-bindings': { limits: { maxStorageBuffersPerShaderStage: 8 } },
};

function render(plan: Plan): Map<string, string> {
  const files = new Map<string, string>();
  plan.kernels.forEach((kernel, k) => {
    const { wgsl, ...rest } = kernel;
    files.set(`kernel-${String(k).padStart(3, '0')}.wgsl.txt`, wgsl);
    files.set(`kernel-${String(k).padStart(3, '0')}.json`, JSON.stringify(rest, null, 1));
  });
  files.set('entries.json', JSON.stringify(plan.entries, null, 1));
  files.set('buffers.json', JSON.stringify({ buffers: plan.buffers, allocations: plan.allocations ?? null }, null, 1));
  return files;
}

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/replay.ts <out-dir>');
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
for (const [name, build] of Object.entries(SOURCES)) {
  for (const [optionName, options] of Object.entries(OPTIONS)) {
    const dir = join(out, name, optionName);
    mkdirSync(dir, { recursive: true });
    let files: Map<string, string>;
    try {
      files = render(compile(build(), options));
    } catch (error) {
      files = new Map([['error.txt', `${(error as Error).name}: ${(error as Error).message}\n`]]);
    }
    for (const [file, text] of files) writeFileSync(join(dir, file), text);
  }
}
console.log(`replay: wrote ${Object.keys(SOURCES).length} graphs × ${Object.keys(OPTIONS).length} option sets to ${out}`);
