/**
 * `npm run playground:measure`: how responsive the playground is, per example, in headless
 * Chromium at 1440×900: the longest main-thread task (PerformanceObserver 'longtask',
 * tasks over 50 ms) from navigation until the page is ready, and the time to ready
 * (status `… · ready`) since navigation — for a cold direct link to each example, then for
 * switching to each example from the menu on an open page.
 *
 *   npm run playground:measure                 every example
 *   npm run playground:measure -- seed-mlp     the examples named
 */

import { pathToFileURL } from 'node:url';
import type { Dialog, Page } from 'puppeteer-core';
import { EXAMPLES } from '../playground/examples.js';
import { launchChromium } from './chromium.js';
import { buildPlayground, servePlayground } from './playground.js';
import { waitUntilReady } from './playground-screenshot.js';

export const MEASURE_VIEWPORT = { width: 1440, height: 900 } as const;

export interface Responsiveness {
  /** The longest main-thread task seen, in ms (0 when none was over 50 ms). */
  readonly longestTaskMs: number;
  /** Milliseconds from the start (navigation or the menu change) until the status says ready. */
  readonly readyMs: number;
}

/** Starts recording long tasks in every document the page opens (call before `goto`). */
async function recordLongTasks(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(() => {
    const tasks: number[] = [];
    (window as unknown as { kilnLongTasks: number[] }).kilnLongTasks = tasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** The long tasks recorded since the last call (and forgets them). */
async function takeLongTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const tasks = (window as unknown as { kilnLongTasks?: number[] }).kilnLongTasks ?? [];
    return tasks.splice(0, tasks.length);
  });
}

/** Opens `url` (recording long tasks) and measures until the page is ready. */
export async function measureLoad(page: Page, url: string, timeout = 120000): Promise<Responsiveness> {
  await recordLongTasks(page);
  await page.goto(url);
  await waitUntilReady(page, timeout);
  const readyMs = await page.evaluate(() => performance.now());
  const tasks = await takeLongTasks(page);
  return { longestTaskMs: Math.max(0, ...tasks), readyMs };
}

/** Picks `exampleId` in the menu of an open, ready page and measures until it is ready again. */
export async function measureSwitch(page: Page, exampleId: string, timeout = 120000): Promise<Responsiveness> {
  await takeLongTasks(page);
  const start = await page.evaluate(() => performance.now());
  await page.evaluate(() => document.getElementById('status')!.replaceChildren('switching…'));
  // The page asks before dropping edits: there are none here, but accept if it asks.
  const accept = (dialog: Dialog): void => void dialog.accept();
  page.on('dialog', accept);
  try {
    await page.select('#example-select', exampleId);
    await waitUntilReady(page, timeout);
  } finally {
    page.off('dialog', accept);
  }
  const readyMs = (await page.evaluate(() => performance.now())) - start;
  const tasks = await takeLongTasks(page);
  return { longestTaskMs: Math.max(0, ...tasks), readyMs };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const examples = EXAMPLES.filter((example) => wanted.length === 0 || wanted.includes(example.id));
  const site = await buildPlayground();
  const server = await servePlayground(site.dir);
  const chromium = await launchChromium();
  const ms = (value: number): string => value.toFixed(0).padStart(6);
  try {
    for (const example of examples) {
      const page = await chromium.browser.newPage();
      await page.setViewport(MEASURE_VIEWPORT);
      const cold = await measureLoad(page, `${server.url}#example=${example.id}`);
      await page.close();
      console.log(`${example.id.padEnd(20)} cold link: longest task ${ms(cold.longestTaskMs)} ms, ready ${ms(cold.readyMs)} ms`);
    }
    const page = await chromium.browser.newPage();
    await page.setViewport(MEASURE_VIEWPORT);
    await measureLoad(page, `${server.url}#example=your-own`);
    for (const example of examples) {
      if (example.id === 'your-own') continue;
      const switched = await measureSwitch(page, example.id);
      console.log(`${example.id.padEnd(20)} switch:    longest task ${ms(switched.longestTaskMs)} ms, ready ${ms(switched.readyMs)} ms`);
    }
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
