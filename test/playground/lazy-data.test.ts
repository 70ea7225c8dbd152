/**
 * The playground's dataset loads when the first feeds need it, not at compile, with the
 * download's bytes of its total shown in the status (playground/datasets.ts, through the
 * worker's progress for the feeds call), in headless Chromium on the built site.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { ChromiumSession } from '../../scripts/chromium.js';
import { launchChromium, recordPageLog } from '../../scripts/chromium.js';
import { buildPlayground, servePlayground } from '../../scripts/playground.js';
import { VIEWPORT, waitUntilReady } from '../../scripts/playground-screenshot.js';
import type { StaticServer } from '../../scripts/static-server.js';

describe('playground: Fashion-MNIST loads on demand', function () {
  this.timeout(180000);
  let dir: string;
  let server: StaticServer;
  let chromium: ChromiumSession;
  let page: Page;
  let log: string[];
  const dataRequests: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-lazy-data-'));
    const site = await buildPlayground(dir);
    if (site.missingDataFiles.length > 0) throw new Error(`the dataset is missing (${site.missingDataFiles.join(', ')}): apt-get install dataset-fashion-mnist`);
    server = await servePlayground(site.dir);
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    log = recordPageLog(page);
    page.on('request', (request) => {
      if (request.url().includes('/data/')) dataRequests.push(new URL(request.url()).pathname);
    });
    await page.setViewport(VIEWPORT);
    // Every text the status shows, in order.
    await page.evaluateOnNewDocument(() => {
      const seen: string[] = [];
      (window as unknown as { statusTexts: string[] }).statusTexts = seen;
      document.addEventListener('DOMContentLoaded', () => {
        const status = document.getElementById('status')!;
        new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
      });
    });
    await page.goto(`${server.url}#example=seed-mlp`);
    await waitUntilReady(page);
  });
  after(async () => {
    await chromium?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`page log:\n  ${log.join('\n  ')}`);
  });

  it('compiles the seed MLP and readies its session without fetching the dataset', () => {
    expect(dataRequests).to.deep.equal([]);
  });

  it('fetches the training split at Forward, showing its bytes of the total, then runs', async () => {
    await page.click('#forward-button');
    await page.waitForSelector('#outputs table', { timeout: 120000 });
    expect(dataRequests.sort()).to.deep.equal(['/data/fashion-mnist/train-images-idx3-ubyte.gz', '/data/fashion-mnist/train-labels-idx1-ubyte.gz']);
    const texts = await page.evaluate(() => (window as unknown as { statusTexts: string[] }).statusTexts);
    const downloads = texts.filter((text) => text.startsWith('downloading Fashion-MNIST train: '));
    expect(downloads.length, texts.join(' | ')).to.be.at.least(1);
    expect(downloads.at(-1)).to.match(/^downloading Fashion-MNIST train: [\d.]+ of 26\.\d MB$/);
    // The status returns to what it said once the data is here.
    expect(await page.$eval('#status', (node) => node.textContent)).to.match(/· ready$/);
    await page.click('#forward-button');
    await page.waitForFunction(() => document.getElementById('outputs')?.textContent?.includes('logits'));
    expect(dataRequests.length, 'fetched once').to.equal(2);
  });
});
