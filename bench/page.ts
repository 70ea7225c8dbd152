/**
 * The benchmark page's module: fetches the shared data, runs the harness over the systems
 * it is asked for, and hands progress lines and the results to puppeteer through the
 * functions bench/run.ts exposes. The GPU counters were installed by the classic script
 * that runs before this module.
 */

import { decodeBenchData } from './data-format.js';
import type { BenchSettings, HarnessOutput } from './harness.js';
import { runHarness } from './harness.js';
import { BROWSER_ASSETS, systemEntries } from './systems/index.js';

export interface PageConfig {
  readonly systems: readonly string[];
  readonly settings: BenchSettings;
}

export type PageOutcome = { readonly ok: true; readonly output: HarnessOutput; readonly userAgent: string } | { readonly ok: false; readonly error: string };

declare global {
  interface Window {
    kilnBench(config: PageConfig): void;
    kilnBenchLog(line: string): Promise<void>;
    kilnBenchDone(outcome: PageOutcome): Promise<void>;
  }
}

async function fetchOk(path: string): Promise<Response> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${response.statusText}`);
  return response;
}

window.kilnBench = (config) => {
  void (async (): Promise<PageOutcome> => {
    try {
      const [index, bytes] = await Promise.all([(await fetchOk('data/index.json')).text(), (await fetchOk('data/arrays.bin')).arrayBuffer()]);
      const data = decodeBenchData(index, bytes);
      const output = await runHarness(systemEntries(config.systems, BROWSER_ASSETS), data, config.settings, (line) => void window.kilnBenchLog(line));
      return { ok: true, output, userAgent: navigator.userAgent };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  })().then((outcome) => window.kilnBenchDone(outcome));
};
