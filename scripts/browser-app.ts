/**
 * `npm run app`: the browser app (examples/browser-app/) built as an app's own project
 * builds it. The package is staged in a temporary project's node_modules (scripts/build.mjs),
 * the app's files are copied next to it, esbuild bundles them (so `kiln-webgpu` resolves to
 * the package, never to the sources), and the site is served on 127.0.0.1 with
 * Fashion-MNIST's files under data/fashion-mnist/.
 *
 *   npm run app                       build and serve (a free port)
 *   npm run app -- --port 8080        build and serve on port 8080
 *   npm run app -- --screenshot       train 300 steps in headless Chromium and write the
 *                                     desktop (1280×800) and phone (390×844) screenshots
 *
 * Also exports the steps, which the consumer test (test/consumer/) runs on an installed tarball.
 */

import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { Page } from 'puppeteer-core';
import { FASHION_MNIST_DIR } from '../examples/data/fashion-mnist.js';
import { ROOT, stagePackage } from './build.mjs';
import { launchChromium, recordPageLog } from './chromium.js';
import type { StaticServer } from './static-server.js';
import { startStaticServer } from './static-server.js';

export const APP_DIR = join(ROOT, 'examples', 'browser-app');

/** The app's own files: what a user copies into a project of their own. */
export const APP_FILES = ['index.html', 'style.css', 'main.ts', 'data.ts', 'model.ts', 'chart.ts', 'sketch.ts', 'weights.ts', 'tsconfig.json'] as const;

/** Copies the app's files into `project` (a folder where `kiln-webgpu` is installed). */
export async function copyApp(project: string): Promise<void> {
  await Promise.all(APP_FILES.map((name) => copyFile(join(APP_DIR, name), join(project, name))));
}

/** Bundles the app in `project` with esbuild, as a plain esbuild app would (no flags, no plugins), into `out`. */
export async function bundleWithEsbuild(project: string, out: string): Promise<void> {
  await esbuild.build({
    absWorkingDir: project,
    entryPoints: ['main.ts'],
    bundle: true,
    format: 'esm',
    minify: true,
    outdir: out,
    logLevel: 'warning',
  });
  const html = await readFile(join(project, 'index.html'), 'utf8');
  if (!html.includes('src="main.ts"')) throw new Error('browser app: index.html no longer loads main.ts; update bundleWithEsbuild.');
  await writeFile(join(out, 'index.html'), html.replace('src="main.ts"', 'src="main.js"'));
  await copyFile(join(project, 'style.css'), join(out, 'style.css'));
}

/** Bundles the app in `project` with Vite's production build and a minimal inline config, into `out`. */
export async function bundleWithVite(project: string, out: string): Promise<void> {
  const { build } = await import('vite');
  await build({ root: project, configFile: false, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
}

/** Serves a built app from `site`, with the dataset's .gz files where the page fetches them. */
export function serveApp(site: string, options: { port?: number } = {}): Promise<StaticServer> {
  return startStaticServer({ mounts: { '/': site, '/data/fashion-mnist/': FASHION_MNIST_DIR }, ...options });
}

/** Waits for the page's `data-state` to be `state`, or fails with the page's status when it shows an error. */
export async function waitForState(page: Page, state: 'ready' | 'trained', timeout: number): Promise<void> {
  await page.waitForFunction((wanted) => [wanted, 'error'].includes(document.body.dataset['state'] ?? ''), { timeout }, state);
  if ((await page.$eval('body', (body) => body.dataset['state'])) === 'error') {
    throw new Error(`browser app: ${await page.$eval('#train-status', (node) => node.textContent)}`);
  }
}

/** Presses Train and waits until it is done; returns the losses the chart shows. */
export async function trainInPage(page: Page, timeout: number): Promise<number[]> {
  await page.click('#train');
  await waitForState(page, 'trained', timeout);
  const losses = await page.$eval('#loss-chart', (canvas) => (canvas as HTMLCanvasElement).dataset['losses'] ?? '');
  return losses.split(' ').map(Number);
}

export const SCREENSHOTS = {
  desktop: { path: join(APP_DIR, 'screenshot-desktop.png'), viewport: { width: 1280, height: 800 } },
  phone: { path: join(APP_DIR, 'screenshot-phone.png'), viewport: { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
} as const;

async function screenshots(url: string): Promise<void> {
  const chromium = await launchChromium();
  try {
    for (const { path, viewport } of Object.values(SCREENSHOTS)) {
      const page = await chromium.browser.newPage();
      const log = recordPageLog(page);
      try {
        await page.setViewport({ deviceScaleFactor: 1, ...viewport });
        await page.goto(`${url}?steps=300`);
        await waitForState(page, 'ready', 120_000);
        await trainInPage(page, 300_000);
        await page.click('#gallery button:nth-child(3)');
        await page.waitForFunction(() => document.getElementById('prediction')!.textContent!.includes('it is'));
        await page.screenshot({ path, fullPage: viewport.width < 600 });
        console.log(`wrote ${path}`);
      } catch (error) {
        console.error(`page log:\n  ${log.join('\n  ')}`);
        throw error;
      }
      await page.close();
    }
  } finally {
    await chromium.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, screenshot: { type: 'boolean', default: false } } });
  const project = await mkdtemp(join(tmpdir(), 'kiln-browser-app-'));
  const removeProject = (): Promise<void> => rm(project, { recursive: true, force: true });
  try {
    await stagePackage(project);
    await copyApp(project);
    const site = join(project, 'site');
    await mkdir(site);
    await bundleWithEsbuild(project, site);
    const server = await serveApp(site, values.port === undefined ? {} : { port: Number(values.port) });
    if (values.screenshot) {
      await screenshots(server.url).finally(() => server.close());
      await removeProject();
      return;
    }
    console.log(`browser app at ${server.url} (Ctrl-C to stop)`);
    process.once('SIGINT', () => {
      void Promise.all([server.close(), removeProject()]).finally(() => process.exit(0));
    });
  } catch (error) {
    await removeProject();
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
