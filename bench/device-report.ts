/**
 * `npm run bench:device`: one self-contained Markdown report of what this machine's
 * adapter is and how kiln runs on it, to compare adapters (a laptop GPU, a datacenter GPU,
 * SwiftShader) from one file each: the adapter's info, whether it offers `shader-f16` and
 * `subgroups` (the features faster kernels would need), its limits; `kiln profile` of the
 * seed MLP's, LeNet's and the transformer block's training steps (per kernel: time, FLOPs,
 * bytes, GFLOP/s, GB/s) and of the block's pipeline creation; then the benchmark against
 * the peers (`npm run bench -- --node`, or in headless Chromium with `--chromium`).
 *
 *   npm run bench:device [-- --quick] [--chromium] [--out bench/results]
 *
 * `--quick`: 2 timed runs per kernel and the benchmark's --quick (a few minutes on
 * SwiftShader). Writes `<out>/device-<date>.md`.
 */

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify, parseArgs } from 'node:util';
import { ROOT } from '../scripts/build.mjs';
import { profile } from '../scripts/kiln-profile.js';
import { limitsRecord, requestDevice } from '../runtime/device.js';
import { leNet } from '../examples/models/lenet.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { transformerBlock } from './transformer-block.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    chromium: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});

/** Features a kernel could use where offered: half-precision arithmetic, subgroup operations, GPU timestamps. */
const FEATURES_OF_NOTE = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

/** The limits that size kiln's kernels and buffers, listed first; the rest follow in a second table. */
const LIMITS_OF_NOTE = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
];

const log = (line: string): void => console.log(line);

async function adapterSection(): Promise<string> {
  const gpu = await requestDevice();
  try {
    const { info, adapter } = gpu;
    const features = [...adapter.features].sort();
    const limits = limitsRecord(gpu.limits);
    const other = Object.keys(limits)
      .filter((name) => !LIMITS_OF_NOTE.includes(name))
      .sort();
    const adapterInfo = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    const subgroupSizes = adapterInfo.subgroupMinSize ? `, subgroup sizes ${adapterInfo.subgroupMinSize}–${adapterInfo.subgroupMaxSize}` : '';
    return [
      '## Adapter',
      '',
      `- ${info.description || '(no description)'}: vendor \`${info.vendor || '?'}\`, architecture \`${info.architecture || '?'}\`${subgroupSizes}`,
      `- ${info.backend === 'browser' ? 'in the browser' : 'Node on Dawn (npm webgpu)'}; ${info.software ? 'a software adapter: runs on the CPU' : 'a hardware adapter'}`,
      `- machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${platform()} ${release()}, Node ${process.version}`,
      '',
      '| feature | offered |',
      '| --- | --- |',
      ...FEATURES_OF_NOTE.map((name) => `| \`${name}\` | ${adapter.features.has(name) ? 'yes' : 'no'} |`),
      '',
      `Every feature offered: ${features.map((f) => `\`${f}\``).join(', ') || 'none'}.`,
      '',
      '| limit (the device kiln requests: the adapter\'s maxima) | value |',
      '| --- | --- |',
      ...LIMITS_OF_NOTE.map((name) => `| ${name} | ${limits[name]} |`),
      '',
      `<details><summary>Other limits</summary>\n\n| limit | value |\n| --- | --- |\n${other.map((name) => `| ${name} | ${limits[name]} |`).join('\n')}\n\n</details>`,
      '',
    ].join('\n');
  } finally {
    gpu.destroy();
  }
}

async function profileSection(runs: number): Promise<string> {
  const sections = ['## Where the time goes: `kiln profile`', ''];
  sections.push(
    'Each kernel dispatched alone (after one untimed dispatch), the median of ' +
      `${runs} submits, from submit to onSubmittedWorkDone: a kernel's figure includes one submit's overhead, so the total exceeds a fused step's. ` +
      'FLOPs and bytes come from the plan (compiler/kernel-cost.ts): 2·m·n·k for a matmul, one per element per elementwise op, the bytes of the buffers a kernel binds.',
    '',
  );
  const models = [
    ['seed MLP training step, batch 128 (`npx kiln profile seed-mlp`)', () => seedMlp({ batch: 128 })],
    ['LeNet training step, batch 64 (`npx kiln profile lenet`)', () => leNet({ batch: 64 })],
    ['transformer block training step, batch 8 (bench/transformer-block.ts)', () => transformerBlock()],
  ] as const;
  for (const [title, build] of models) {
    log(`profiling the ${title}`);
    sections.push(`### ${title}`, '', '```text', (await profile(build(), { runs })).trimEnd(), '```', '');
  }
  log('profiling the transformer block’s pipeline creation');
  const compiled = (await profile(transformerBlock(), { compile: true })).trimEnd().split('\n');
  // The adapter line, the header, the ten slowest kernels and the totals.
  const top = [...compiled.slice(0, 12), ...(compiled.length > 13 ? ['   …'] : []), compiled.at(-1)!];
  sections.push('### Pipeline creation, transformer block: the ten slowest kernels (`kiln profile --compile`)', '', '```text', top.join('\n'), '```', '');
  return sections.join('\n');
}

/** Runs the benchmark in a child process and returns its Markdown report, headings one level down. */
async function benchSection(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'kiln-device-bench-'));
  try {
    const flags = [...(args.chromium ? [] : ['--node']), ...(args.quick ? ['--quick'] : []), '--out', out];
    log(`running npm run bench -- ${flags.slice(0, -2).join(' ')}`);
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...flags], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const markdown = await readFile(join(out, args.chromium ? 'latest.md' : 'latest-node.md'), 'utf8');
    const body = markdown
      .replace(/^# .*\n/, '')
      .replace(/^(#+) /gm, '#$1 ')
      .trim();
    return [`## Against the peers: \`npm run bench -- ${flags.slice(0, -2).join(' ')}\``, '', body, ''].join('\n');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const started = performance.now();
const date = new Date().toISOString();
const parts = [
  `# kiln on this device (${date.slice(0, 10)})`,
  '',
  `Written by \`npm run bench:device${args.quick || args.chromium ? ` -- ${[args.quick ? '--quick' : '', args.chromium ? '--chromium' : ''].filter(Boolean).join(' ')}` : ''}\` (bench/device-report.ts) on ${date}.` +
    (args.quick ? ' Quick mode: few runs and iterations, for a smoke test and orders of magnitude, not for quoting.' : ''),
  '',
  await adapterSection(),
  await profileSection(args.quick ? 2 : 5),
  await benchSection(),
];
await mkdir(args.out, { recursive: true });
const path = join(args.out, `device-${date.slice(0, 10)}.md`);
await writeFile(path, `${parts.join('\n').trimEnd()}\n`);
log(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
