/**
 * `npm run playground:screenshot`: regenerates the playground's pictures:
 *
 * - playground/screenshot.png: the main view at 1280×800 after training the seed MLP for a
 *   while: the graph with a kernel's nodes highlighted, the timed kernels table, that
 *   kernel's WGSL and the loss curve;
 * - playground/screenshot-transformer.png: the transformer block example at 1440×900, its
 *   attention kernel selected (a big graph, grouped and zoomed to the kernel);
 * - playground/screenshot-phone.png: the seed MLP at 390×844, a phone, on the Graph tab, a node
 *   found by the graph's search.
 *
 *   npm run playground:screenshot                 all three
 *   npm run playground:screenshot -- phone        only the ones named (main, transformer, phone)
 *
 * Also exports the steps that drive the page, which the browser tests share.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'puppeteer-core';
import { ROOT } from './build.mjs';
import { launchChromium, recordPageLog } from './chromium.js';
import { buildPlayground, servePlayground } from './playground.js';

const SCREENSHOT_PATH = join(ROOT, 'playground', 'screenshot.png');
export const VIEWPORT = { width: 1280, height: 800 } as const;

interface Shot {
  readonly path: string;
  readonly viewport: { readonly width: number; readonly height: number };
  readonly example: string;
  /** Drives the page from ready to what the picture shows. */
  readonly steps: (page: Page) => Promise<void>;
}

/** Selects the first kernel of `kind` (kind-row, kind-sibling…), or the first kernel when there is none. */
async function selectKernel(page: Page, kind: string): Promise<void> {
  const row = (await page.$(`#kernels-table tbody tr:has(.kind-${kind})`)) ?? (await page.$('#kernels-table tbody tr[data-position]'));
  await row!.click();
}

const SHOTS: Readonly<Record<string, Shot>> = {
  main: {
    path: SCREENSHOT_PATH,
    viewport: VIEWPORT,
    example: 'seed-mlp',
    steps: async (page) => {
      await trainSteps(page, 300);
      await page.click('#time-button');
      await page.waitForFunction(() => !document.getElementById('kernels-note')!.textContent!.startsWith('timing'));
      // A kernel that fuses a weight gradient, its bias gradient and both of their updates: gradient and update nodes light up together.
      await selectKernel(page, 'sibling');
    },
  },
  transformer: {
    path: join(ROOT, 'playground', 'screenshot-transformer.png'),
    viewport: { width: 1440, height: 900 },
    example: 'transformer-block',
    // The fused attention kernel, drawn open inside its scope's group among the collapsed others.
    steps: async (page) => {
      const position = await page.$$eval('#kernels-table tbody tr[data-position]', (rows) => rows.find((row) => /^k\d+_attention/.test(row.querySelector('td:nth-child(2)')!.textContent!))?.getAttribute('data-position'));
      if (position === undefined) await selectKernel(page, 'row');
      else await page.click(`#kernels-table tbody tr[data-position="${position}"]`);
    },
  },
  phone: {
    path: join(ROOT, 'playground', 'screenshot-phone.png'),
    viewport: { width: 390, height: 844 },
    example: 'seed-mlp',
    // On the Graph tab, the graph's search finds the loss's logSoftmax and selects it: its kernel lit, the view brought to it, its facts beside it.
    steps: async (page) => {
      await page.click('#phone-tabs button[data-pane="graph"]');
      await page.type('#graph-search', 'logSoftmax');
      await page.keyboard.press('Enter');
    },
  },
};

/** Waits until the page has compiled its code and readied a session (status `… · ready`), or shown an error. */
export async function waitUntilReady(page: Page, timeout = 60000): Promise<void> {
  await page.waitForFunction(
    () => {
      const status = document.getElementById('status');
      return status !== null && (status.textContent!.endsWith('· ready') || status.classList.contains('error'));
    },
    { timeout },
  );
  const status = await page.$eval('#status', (node) => ({ text: node.textContent, error: node.classList.contains('error') }));
  if (status.error) throw new Error(`playground: ${status.text}: ${await page.$eval('#error-box', (node) => node.textContent)}`);
}

/** Trains `steps` steps and returns the first and last loss the page shows. */
export async function trainSteps(page: Page, steps: number, timeout = 120000): Promise<{ first: number; last: number; shown: number }> {
  await page.$eval('#train-steps-input', (input, n) => ((input as HTMLInputElement).value = String(n)), steps);
  await page.click('#train-button');
  await page.waitForFunction((n) => document.getElementById('train-steps')?.textContent === String(n) && document.getElementById('status')!.textContent!.startsWith('trained'), { timeout }, steps);
  const read = (id: string): Promise<number> => page.$eval(`#${id}`, (node) => Number(node.textContent));
  return { first: await read('loss-first'), last: await read('loss-last'), shown: await read('train-steps') };
}

async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((name) => !(name in SHOTS));
  if (unknown.length > 0) throw new Error(`playground:screenshot: no picture named ${unknown.join(', ')}; the pictures are ${Object.keys(SHOTS).join(', ')}`);
  const site = await buildPlayground();
  const server = await servePlayground(site.dir);
  const chromium = await launchChromium();
  try {
    for (const name of names.length > 0 ? names : Object.keys(SHOTS)) {
      const shot = SHOTS[name]!;
      // A fresh tab each: SwiftShader shares the cores among open tabs, and a tab left training slows the next.
      const page = await chromium.browser.newPage();
      const log = recordPageLog(page);
      await page.setViewport({ ...shot.viewport, deviceScaleFactor: 1 });
      try {
        await page.goto(`${server.url}#example=${shot.example}`);
        await waitUntilReady(page, 120000);
        await shot.steps(page);
        // The graph lays out again when a selection opens groups (#dag is aria-busy meanwhile); then the views' redraws.
        await page.waitForFunction(() => document.querySelector('#dag[aria-busy="true"]') === null, { timeout: 60000 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        await page.screenshot({ path: shot.path });
      } catch (error) {
        console.error(`page log:\n  ${log.join('\n  ')}`);
        throw error;
      }
      await page.close();
      console.log(`wrote ${shot.path}`);
    }
  } finally {
    await chromium.close();
    await server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
