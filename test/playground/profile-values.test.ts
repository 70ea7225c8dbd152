import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { waitUntilReady } from '../../scripts/playground-screenshot.js';
import { usePlaygroundInChromium } from './browser-harness.js';

/** What the kernels table shows: per row its position, time, share and FLOPs; the total row's figures. */
async function kernelsTable(page: Page) {
  // No named functions inside: the test's transpiler would wrap them in a helper the page lacks.
  return page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll('#kernels-table tbody tr[data-position]')).map((row) => {
      const bar = row.querySelector<HTMLElement>('.share-bar');
      return {
        position: Number(row.getAttribute('data-position')),
        us: Number(row.querySelector('[data-us]')?.textContent ?? NaN),
        share: row.querySelector('[data-share]') ? Number(row.querySelector('[data-share]')!.getAttribute('data-share')) : null,
        bar: bar ? parseFloat(bar.style.width) / 100 : null,
        flops: Number(row.querySelector('[data-flops]')?.getAttribute('data-flops')),
        rates: row.querySelector('[data-rates]')!.textContent!,
      };
    });
    const total = document.getElementById('kernels-total');
    return { rows, total: total ? { us: Number(total.querySelector('[data-us]')?.textContent ?? NaN), text: total.textContent! } : undefined, note: document.getElementById('kernels-note')!.textContent! };
  });
}

/** Heat fill of every node the graph draws, by id (none where the node has no heat). */
function heatedNodes(page: Page): Promise<string[]> {
  return page.$$eval('#dag .node.heated', (nodes) => nodes.map((node) => node.getAttribute('data-node')!));
}

describe('the playground’s profiling and values, in headless Chromium', function () {
  this.timeout(180000);
  const playground = usePlaygroundInChromium('profile-values', { dataDir: false });
  let page: Page;

  before(async () => {
    page = await playground.open('#example=logistic-regression');
    await waitUntilReady(page);
  });

  it('lists the kernels in dispatch order with their FLOPs before timing, and no times', async () => {
    const { rows, total } = await kernelsTable(page);
    expect(rows.length).to.be.at.least(3);
    expect(rows.map((row) => row.position)).to.deep.equal(rows.map((_, i) => i));
    expect(rows.some((row) => row.flops > 0)).to.equal(true);
    // Untimed: an empty time cell, no share, no bar.
    expect(rows.map((row) => [row.share, row.bar, row.us])).to.deep.equal(rows.map(() => [null, null, null]));
    expect(total?.text).to.match(/total · \d+ dispatches/);
  });

  it('Time kernels sorts them slowest first, with a total, share bars and rates, and heats the graph by time', async () => {
    await page.click('#time-button');
    await page.waitForFunction(() => !document.getElementById('kernels-note')!.textContent!.startsWith('timing'), { timeout: 60000 });
    const { rows, total, note } = await kernelsTable(page);
    expect(note).to.match(/µs per dispatch/);
    const times = rows.map((row) => row.us);
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    expect(times.some((us) => us > 0)).to.equal(true);
    // The total is the sum of the times (each shown rounded to 0.1 µs).
    expect(total!.us).to.be.closeTo(times.reduce((a, b) => a + b, 0), 0.1 * rows.length + 1);
    expect(rows.reduce((sum, row) => sum + row.share!, 0)).to.be.closeTo(1, 1e-6);
    for (const row of rows) expect(row.bar).to.be.closeTo(row.share!, 0.002);
    const timed = rows.find((row) => row.flops > 0 && row.us > 0)!;
    expect(timed.rates).to.match(/^[\d.]+[\d.—]+$/);
    expect(await page.$eval('#heat-select', (select) => (select as HTMLSelectElement).value)).to.equal('time');
    expect(await page.$eval('#heat-label', (label) => label.textContent)).to.match(/heat: GPU time of trainStep's kernels/);
    expect((await heatedNodes(page)).length).to.be.greaterThan(3);
  });

  it('sorts by a column on a click of its header, and turns the order round on a second', async () => {
    await page.click('#kernels-table th[data-sort="position"]');
    let rows = (await kernelsTable(page)).rows;
    expect(rows.map((row) => row.position)).to.deep.equal(rows.map((_, i) => i));
    await page.click('#kernels-table th[data-sort="position"]');
    rows = (await kernelsTable(page)).rows;
    expect(rows.map((row) => row.position)).to.deep.equal(rows.map((_, i) => rows.length - 1 - i));
    await page.click('#kernels-table th[data-sort="flops"]');
    const flops = (await kernelsTable(page)).rows.map((row) => row.flops);
    expect(flops).to.deep.equal([...flops].sort((a, b) => b - a));
    expect(await page.$eval('#kernels-table th[data-sort="flops"]', (th) => th.getAttribute('aria-sort'))).to.equal('descending');
  });

  it('heats the graph by bytes, or not at all', async () => {
    await page.select('#heat-select', 'bytes');
    expect(await page.$eval('#heat-label', (label) => label.textContent)).to.match(/bytes of trainStep's kernels/);
    expect((await heatedNodes(page)).length).to.be.greaterThan(3);
    await page.select('#heat-select', 'off');
    expect(await heatedNodes(page)).to.deep.equal([]);
  });

  it('times only the plan the session runs: with the unfused kernels listed, it asks for the fused ones', async () => {
    await page.select('#fused-select', 'unfused');
    await page.waitForFunction(() => document.getElementById('graph-note')!.textContent!.startsWith('unfused'));
    const unfused = (await kernelsTable(page)).rows.length;
    await page.click('#time-button');
    expect(await page.$eval('#kernels-note', (note) => note.textContent)).to.equal('Time kernels times the plan the session runs: choose fused to time its kernels.');
    expect((await kernelsTable(page)).rows).to.have.length(unfused);
    await page.select('#fused-select', 'fused');
    await page.waitForFunction(() => !document.getElementById('graph-note')!.textContent!.startsWith('unfused'));
  });

  it('asks for Forward before it shows a node’s values', async () => {
    await page.click('#dag .node[data-node]');
    await page.waitForSelector('#node-panel:not([hidden]) #values-hint');
    expect(await page.$eval('#values-hint', (hint) => hint.textContent)).to.contain('Run Forward');
  });

  it('after Forward, shows a clicked node’s values from the CPU reference: shape, range, histogram, first values, and its agreement with the GPU', async () => {
    await page.click('#forward-button');
    await page.waitForSelector('#outputs table');
    // The matmul of x and w: f32[100,1].
    const matmul = await page.$$eval('#dag .node[data-node]', (nodes) => nodes.find((node) => node.querySelector('.node-title')!.textContent!.endsWith('matmul'))!.getAttribute('data-node')!);
    await page.click(`#dag .node[data-node="${matmul}"]`);
    await page.waitForSelector('#node-panel:not([hidden]) #values-summary', { timeout: 30000 });
    const shown = await page.evaluate(() => {
      const stats = Object.fromEntries(Array.from(document.querySelectorAll('#values-summary [data-stat]'), (dd) => [dd.getAttribute('data-stat')!, dd.textContent!]));
      return {
        type: document.querySelector('#node-panel [data-fact="type"]')!.textContent,
        shape: stats['shape'],
        min: Number(stats['min']),
        max: Number(stats['max']),
        mean: Number(stats['mean']),
        nan: Number(stats['nan']),
        bars: Array.from(document.querySelectorAll('#values-summary .values-histogram rect'), (rect) => Number(rect.getAttribute('data-count'))),
        first: document.querySelector('#values-summary .values-first')!.textContent!.split(' ').filter((v) => v !== '…').map(Number),
        source: document.getElementById('values-source')!.textContent,
        difference: Number(document.getElementById('values-agreement')!.getAttribute('data-difference')),
      };
    });
    expect(shown.shape).to.equal('f32[100,1]');
    expect(shown.type).to.equal('f32[100,1]');
    expect(shown.min).to.be.below(shown.mean);
    expect(shown.mean).to.be.below(shown.max);
    expect(shown.nan).to.equal(0);
    expect(shown.bars).to.have.length(24);
    expect(shown.bars.reduce((a, b) => a + b, 0)).to.equal(100);
    expect(shown.first).to.have.length(32);
    for (const value of shown.first) expect(value).to.be.within(shown.min - 1e-3, shown.max + 1e-3);
    expect(shown.source).to.contain('CPU reference interpreter');
    expect(shown.difference).to.be.below(1e-4);
  });
});
