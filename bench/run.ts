/**
 * `npm run bench`: kiln side by side with TensorFlow.js, jax-js and ONNX Runtime Web, in
 * one headless Chromium session (WebGPU on the browser's adapter), every system on every
 * workload, interleaved. Writes `<out>/<date>.json` and `<out>/latest.md`.
 *
 *   npm run bench [-- --quick] [--node] [--systems kiln,tfjs-webgpu,...] [--workloads lenet-train,...] [--not-isolated] [--out bench/results]
 *
 * `--node` runs the same harness in this process on Dawn (npm `webgpu`) instead, and
 * writes `<date>-node.json` and `latest-node.md`. `--quick` is the smoke test's mode: a
 * few iterations, no 1024³ matmul; its figures are not for quoting.
 */

import { cpus, platform, release, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { ROOT, browserBundleOptions } from '../scripts/build.mjs';
import { launchChromium } from '../scripts/chromium.js';
import { startStaticServer } from '../scripts/static-server.js';
import type { BenchData } from './data-format.js';
import { encodeBenchData } from './data-format.js';
import { prepareBenchData } from './data.js';
import type { BenchSettings, HarnessOutput } from './harness.js';
import type { PageConfig, PageOutcome } from './page.js';
import type { BenchResults } from './report.js';
import { renderMarkdown } from './report.js';
import { runInNode } from './node.js';
import { BROWSER_ASSETS, DEFAULT_SYSTEMS, SYSTEM_IDS } from './systems/index.js';
import { WORKLOADS } from './workloads.js';

/** Packages whose installed versions the results carry. */
const PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@jax-js/jax', 'onnxruntime-web', 'webgpu', 'puppeteer-core'];

/** The whole browser run may take this long before it is abandoned. */
const BROWSER_TIMEOUT_MS = 20 * 60_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    node: { type: 'boolean', default: false },
    systems: { type: 'string', default: DEFAULT_SYSTEMS.join(',') },
    workloads: { type: 'string' },
    'not-isolated': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});

const systems = args.systems.split(',').map((id) => id.trim());
const unknown = systems.filter((id) => !SYSTEM_IDS.includes(id));
if (unknown.length) throw new Error(`bench: unknown system(s) ${unknown.join(', ')}. Known: ${SYSTEM_IDS.join(', ')}.`);

const workloadIds: readonly string[] = WORKLOADS.map((w) => w.id);
const chosen = args.workloads?.split(',').map((id) => id.trim()) ?? WORKLOADS.filter((w) => !(args.quick && w.slow)).map((w) => w.id);
const unknownWorkloads = chosen.filter((id) => !workloadIds.includes(id));
if (unknownWorkloads.length) throw new Error(`bench: unknown workload(s) ${unknownWorkloads.join(', ')}. Known: ${workloadIds.join(', ')}.`);
const settings: BenchSettings = {
  ...(args.quick ? { warmup: 1, iterations: 3, quick: true } : { warmup: 3, iterations: 20 }),
  workloads: WORKLOADS.map((w) => w.id).filter((id) => chosen.includes(id)),
};

const log = (line: string): void => console.log(line);

async function installedVersions(): Promise<Record<string, string>> {
  const versionOf = async (dir: string): Promise<string> => (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const versions: Record<string, string> = { kiln: await versionOf(ROOT) };
  for (const name of PACKAGES) versions[name] = await versionOf(join(ROOT, 'node_modules', name));
  return versions;
}

const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>kiln bench</title><script src="counters.js"></script><script type="module" src="page.js"></script>';

/** Bundles the page into a temporary folder, serves it and runs the harness in headless Chromium. */
async function runInBrowser(data: BenchData): Promise<{ output: HarnessOutput; runtime: string; userAgent?: string }> {
  const bundleDir = await mkdtemp(join(tmpdir(), 'kiln-bench-'));
  const chromium = await launchChromium();
  const encoded = encodeBenchData(data);
  // Cross-origin isolated, so the WebAssembly peers may use threads: each gets its best configuration
  // (`--not-isolated` turns it off, to see what threads change).
  const server = await startStaticServer({
    crossOriginIsolated: !args['not-isolated'],
    files: { '/index.html': PAGE, '/data/index.json': encoded.index, '/data/arrays.bin': encoded.bytes },
    mounts: {
      '/': bundleDir,
      [BROWSER_ASSETS.tfjsWasm]: join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'),
      [BROWSER_ASSETS.ortWasm]: join(ROOT, 'node_modules/onnxruntime-web/dist'),
    },
  });
  try {
    await esbuild.build({ ...browserBundleOptions('bench/page-counters.ts'), format: 'iife', outfile: join(bundleDir, 'counters.js') });
    // Each library is a chunk of its own, loaded by the harness after the counters are in place.
    await esbuild.build({ ...browserBundleOptions('bench/page.ts'), splitting: true, outdir: bundleDir, entryNames: '[name]' });
    const tab = await chromium.browser.newPage();
    tab.on('pageerror', (error) => log(`page error: ${error instanceof Error ? error.message : String(error)}`));
    tab.on('console', (entry) => {
      if (entry.type() === 'error' || entry.type() === 'warn') log(`page console.${entry.type()}: ${entry.text()}`);
    });
    let finish!: (outcome: PageOutcome) => void;
    const done = new Promise<PageOutcome>((resolve) => (finish = resolve));
    await tab.exposeFunction('kilnBenchLog', log);
    await tab.exposeFunction('kilnBenchDone', (outcome: PageOutcome) => finish(outcome));
    await tab.goto(`${server.url}index.html`);
    await tab.waitForFunction(() => typeof window.kilnBench === 'function');
    const config: PageConfig = { systems, settings };
    await tab.evaluate((c) => window.kilnBench(c), config);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench: the page did not finish within ${BROWSER_TIMEOUT_MS / 60_000} minutes.`)), BROWSER_TIMEOUT_MS);
    });
    const outcome = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    if (!outcome.ok) throw new Error(`bench: the page failed: ${outcome.error}`);
    return { output: outcome.output, runtime: await chromium.browser.version(), userAgent: outcome.userAgent };
  } finally {
    await chromium.close();
    await server.close();
    await rm(bundleDir, { recursive: true, force: true });
  }
}

const started = performance.now();
const date = new Date().toISOString();
const data = await prepareBenchData(settings.workloads);
log(`${args.node ? 'Node on Dawn' : 'headless Chromium'}: ${systems.join(', ')}; ${settings.iterations} timed iterations after ${settings.warmup} warm-up`);
const run: { output: HarnessOutput; runtime: string; userAgent?: string } = args.node ? await runInNode(systems, data, settings, log) : await runInBrowser(data);
const cpu = cpus();
const results: BenchResults = {
  schema: 'kiln-bench/2',
  date,
  mode: args.node ? 'node' : 'browser',
  quick: args.quick,
  settings,
  environment: {
    runtime: run.runtime,
    ...(run.userAgent ? { userAgent: run.userAgent } : {}),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
  },
  adapter: run.output.adapter,
  versions: await installedVersions(),
  countersInstalled: run.output.countersInstalled,
  ...(run.output.crossOriginIsolated === undefined ? {} : { crossOriginIsolated: run.output.crossOriginIsolated }),
  systems: run.output.systems,
  workloads: run.output.workloads,
};
const markdown = renderMarkdown(results);
const suffix = args.node ? '-node' : '';
await mkdir(args.out, { recursive: true });
const jsonPath = join(args.out, `${date.slice(0, 10)}${suffix}.json`);
await writeFile(jsonPath, `${JSON.stringify(results, null, 1)}\n`);
await writeFile(join(args.out, `latest${suffix}.md`), markdown);
console.log(`\n${markdown}`);
log(`wrote ${jsonPath} and latest${suffix}.md in ${((performance.now() - started) / 1000).toFixed(0)} s`);
