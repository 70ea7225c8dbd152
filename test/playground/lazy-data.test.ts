/**
 * The playground's dataset loads when the first feeds need it, not at compile, with the
 * download's bytes of its total shown in the status (playground/datasets.ts, through the
 * worker's progress for the feeds call), in headless Chromium on the built site.
 */

import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { VIEWPORT, waitUntilReady } from '../../scripts/playground-screenshot.js';
import { usePlaygroundInChromium } from './browser-harness.js';

describe('playground: Fashion-MNIST loads on demand', function () {
  this.timeout(180000);
  const playground = usePlaygroundInChromium('lazy-data');
  let page: Page;
  const dataRequests: string[] = [];

  before(async () => {
    const site = playground.site;
    if (site.missingDataFiles.length > 0) throw new Error(`the dataset is missing (${site.missingDataFiles.join(', ')}): apt-get install dataset-fashion-mnist`);
    page = await playground.open('#example=seed-mlp', VIEWPORT, async (tab) => {
      tab.on('request', (request) => {
        if (request.url().includes('/data/')) dataRequests.push(new URL(request.url()).pathname);
      });
      // Every text the status shows, in order.
      await tab.evaluateOnNewDocument(() => {
        const seen: string[] = [];
        (window as unknown as { statusTexts: string[] }).statusTexts = seen;
        document.addEventListener('DOMContentLoaded', () => {
          const status = document.getElementById('status')!;
          new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
        });
      });
    });
    await waitUntilReady(page);
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
