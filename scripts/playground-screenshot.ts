/**
 * `npm run playground:screenshot`: regenerates playground/screenshot.png, the playground's
 * main view at 1280×800 after training the seed MLP for a while: the graph with a kernel's
 * nodes highlighted, the kernels table, that kernel's WGSL and the loss curve. Also
 * exports the steps that drive the page, which the browser tests share.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'puppeteer-core';
import { ROOT } from './build.mjs';
import { launchChromium, recordPageLog } from './chromium.js';
import { buildPlayground, servePlayground } from './playground.js';

export const SCREENSHOT_PATH = join(ROOT, 'playground', 'screenshot.png');
export const VIEWPORT = { width: 1280, height: 800 } as const;

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

async function main(): Promise<void> {
  const site = await buildPlayground();
  const server = await servePlayground(site.dir);
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    const log = recordPageLog(page);
    await page.setViewport({ ...VIEWPORT, deviceScaleFactor: 1 });
    try {
      await page.goto(`${server.url}#example=seed-mlp`);
      await waitUntilReady(page);
      await trainSteps(page, 300);
      await page.click('#time-button');
      await page.waitForFunction(() => !document.getElementById('kernels-note')!.textContent!.startsWith('timing'));
      // A kernel that fuses a weight gradient, its bias gradient and both of their updates: gradient and update nodes light up together.
      const sibling = await page.$('#kernels-table tbody tr:has(.kind-sibling)');
      await (sibling ?? (await page.$('#kernels-table tbody tr')))!.click();
      await page.screenshot({ path: SCREENSHOT_PATH });
    } catch (error) {
      console.error(`page log:\n  ${log.join('\n  ')}`);
      throw error;
    }
    console.log(`wrote ${SCREENSHOT_PATH}`);
  } finally {
    await chromium.close();
    await server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
