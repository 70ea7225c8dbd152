/**
 * The playground's layout in headless Chromium at a desktop, a small laptop and a phone
 * size (upright and on its side): every pane shown has room, the page fits the window, the page never scrolls sideways (not even after a
 * kernel is selected, whose row and WGSL scroll into view), the phone's tabs switch the
 * pane shown, the separators resize the panes (mouse and keyboard) and remember it, and
 * a failed compile dims the compiler's views until a compile succeeds.
 */

import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { waitUntilReady } from '../../scripts/playground-screenshot.js';
import { PANE_NAMES, STALE_LABEL } from '../../playground/panes.js';
import { usePlaygroundInChromium } from './browser-harness.js';

interface Box {
  readonly pane: string;
  readonly width: number;
  readonly height: number;
  readonly shown: boolean;
}

/** Each pane's size (`data-pane`), and whether it is displayed at all. */
function paneBoxes(page: Page): Promise<Box[]> {
  return page.$$eval('main [data-pane]', (panes) =>
    panes.map((pane) => {
      const { width, height } = pane.getBoundingClientRect();
      return { pane: pane.getAttribute('data-pane')!, width: Math.round(width), height: Math.round(height), shown: getComputedStyle(pane).display !== 'none' };
    }),
  );
}

/** How far the page is wider than the window, and every scroll offset sideways from the page down to the panes (all should be 0). */
function sidewaysScroll(page: Page): Promise<{ overflow: number; scrolled: string[] }> {
  return page.evaluate(() => {
    const scrolled: string[] = [];
    if (window.scrollX !== 0) scrolled.push(`window.scrollX ${window.scrollX}`);
    const seen = new Set<Element>();
    for (const pane of Array.from(document.querySelectorAll('main [data-pane]'))) {
      for (let at: Element | null = pane.parentElement; at && !seen.has(at); at = at.parentElement) {
        seen.add(at);
        if (at.scrollLeft !== 0) scrolled.push(`${at.tagName.toLowerCase()}${at.id ? `#${at.id}` : ''}.${at.className} scrollLeft ${at.scrollLeft}`);
      }
    }
    return { overflow: document.documentElement.scrollWidth - window.innerWidth, scrolled };
  });
}

/** How far the page is taller than the window: the panes scroll inside, the page does not. */
function overflowDown(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
}

describe('the playground layout', function () {
  this.timeout(180000);
  const playground = usePlaygroundInChromium('layout');
  let page: Page;

  async function open(width: number, height: number, hash = '#example=seed-mlp'): Promise<void> {
    page = await playground.open(hash, { width, height, deviceScaleFactor: 1 });
    await waitUntilReady(page, 120000);
  }

  for (const [width, height, wgslBeside] of [
    [1440, 900, true],
    [1024, 700, false],
  ] as const) {
    it(`at ${width}×${height} shows every pane with room, the WGSL ${wgslBeside ? 'beside' : 'under'} the kernels, and never scrolls sideways, also after selecting each kernel`, async () => {
      await open(width, height);
      const boxes = await paneBoxes(page);
      expect(boxes.map((box) => box.pane)).to.have.members([...PANE_NAMES]);
      for (const box of boxes) {
        expect(box.shown, `${box.pane} shown`).to.equal(true);
        expect(box.width, `${box.pane} width`).to.be.at.least(200);
        expect(box.height, `${box.pane} height`).to.be.at.least(100);
      }
      const kernels = await page.$eval('main [data-pane="kernels"]', (pane) => pane.getBoundingClientRect().toJSON() as DOMRect);
      const wgsl = await page.$eval('main [data-pane="wgsl"]', (pane) => pane.getBoundingClientRect().toJSON() as DOMRect);
      if (wgslBeside) expect(wgsl.left).to.be.at.least(kernels.right);
      else expect(wgsl.top).to.be.at.least(kernels.bottom);
      expect(await page.$eval('#dag', (svg) => svg.getBoundingClientRect().height)).to.be.at.least(100);
      expect(await page.$eval('#phone-tabs', (bar) => getComputedStyle(bar).display)).to.equal('none');
      expect(await overflowDown(page), 'the page fits the window\'s height too').to.equal(0);
      // The kernel names keep a column wide enough to read (at 1024×700 it was one letter per line).
      expect(await page.$eval('#kernels-table thead th:nth-child(2)', (th) => th.getBoundingClientRect().width)).to.be.at.least(160);
      expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
      const rows = await page.$$('#kernels-table tbody tr[data-position]');
      expect(rows.length).to.be.greaterThan(3);
      for (const row of rows) {
        await row.click();
        expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
      }
      expect(await page.$eval('#wgsl-code', (code) => code.textContent)).to.contain('@compute');
      // A node's panel and the minimap never cover each other; in a short graph pane the panel has its height.
      await page.click('#dag .node.hl');
      await page.waitForSelector('#node-panel:not([hidden])');
      // No named functions inside: the test's transpiler would wrap them in a helper the page lacks.
      const { panel, minimap, body } = await page.evaluate(() => {
        const [panelBox, minimapBox, bodyBox] = ['#node-panel', '.minimap', '.dag-body'].map((selector) => document.querySelector(selector)!.getBoundingClientRect().toJSON() as DOMRect);
        const shown = getComputedStyle(document.querySelector('.minimap')!).display !== 'none';
        return { panel: panelBox!, minimap: shown ? minimapBox : undefined, body: bodyBox! };
      });
      if (minimap) expect(panel.bottom <= minimap.top || panel.right <= minimap.left, 'the node panel clear of the minimap').to.equal(true);
      expect(panel.height, 'the node panel\'s height').to.be.at.least(Math.min(160, body.height - 20));
    });
  }

  it('at 390×844 (a phone) shows one pane at a time, switched by the tab bar, and never scrolls sideways, also after selecting a kernel', async () => {
    await open(390, 844);
    expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
    const tabs = await page.$$eval('#phone-tabs button', (buttons) => buttons.map((button) => ({ pane: button.getAttribute('data-pane')!, height: button.getBoundingClientRect().height })));
    expect(tabs.map((tab) => tab.pane)).to.deep.equal([...PANE_NAMES]);
    expect(await overflowDown(page), 'the page fits the window\'s height too').to.equal(0);
    for (const tab of tabs) expect(tab.height, `${tab.pane} tab`).to.be.greaterThan(20);
    for (const name of PANE_NAMES) {
      await page.click(`#phone-tabs button[data-pane="${name}"]`);
      const boxes = await paneBoxes(page);
      expect(boxes.filter((box) => box.shown).map((box) => box.pane), `panes shown on the ${name} tab`).to.deep.equal([name]);
      const shown = boxes.find((box) => box.pane === name)!;
      expect(shown.width, `${name} width`).to.be.at.least(370);
      expect(shown.height, `${name} height`).to.be.at.least(500);
      expect(await page.$eval(`#phone-tabs button[data-pane="${name}"]`, (button) => button.getAttribute('aria-selected'))).to.equal('true');
      expect(await sidewaysScroll(page), `on the ${name} tab`).to.deep.equal({ overflow: 0, scrolled: [] });
    }
    // What each tab shows is usable: the graph is drawn in its room, the kernels can be selected, the WGSL follows.
    await page.click('#phone-tabs button[data-pane="graph"]');
    expect(await page.$eval('#dag', (svg) => svg.getBoundingClientRect().height)).to.be.at.least(300);
    await page.click('#phone-tabs button[data-pane="kernels"]');
    const rows = await page.$$('#kernels-table tbody tr[data-position]');
    await rows[rows.length - 1]!.click();
    expect(await page.$eval('#kernels-table tbody tr.selected', (row) => row.getAttribute('data-position'))).to.equal(String(rows.length - 1));
    expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
    // The kernel chosen while the graph was hidden is brought into view when its tab opens.
    await page.click('#phone-tabs button[data-pane="graph"]');
    await page.waitForFunction(() => document.querySelector('#dag[aria-busy="true"]') === null, { timeout: 30000 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const inView = await page.$$eval('#dag .node.hl', (shapes) => {
      const canvas = document.getElementById('dag')!.getBoundingClientRect();
      return shapes.map((shape) => {
        const box = shape.getBoundingClientRect();
        return box.right > canvas.left && box.left < canvas.right && box.bottom > canvas.top && box.top < canvas.bottom;
      });
    });
    expect(inView.length, 'the last kernel\'s nodes are lit').to.be.greaterThan(0);
    expect(inView.filter(Boolean).length, 'lit nodes in the canvas').to.be.greaterThan(0);
    await page.click('#phone-tabs button[data-pane="wgsl"]');
    expect(await page.$eval('#wgsl-code', (code) => code.getBoundingClientRect().width)).to.be.at.least(350);
    expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
    // The arrow keys move along the tab bar.
    await page.focus('#phone-tabs button[data-pane="wgsl"]');
    await page.keyboard.press('ArrowRight');
    expect((await paneBoxes(page)).filter((box) => box.shown).map((box) => box.pane)).to.deep.equal(['run']);
  });

  it('at 844×390 (a phone on its side) shows one pane at a time too, with room for it', async () => {
    await open(844, 390);
    expect(await page.$eval('#phone-tabs', (bar) => getComputedStyle(bar).display)).to.equal('flex');
    await page.click('#phone-tabs button[data-pane="kernels"]');
    const boxes = await paneBoxes(page);
    expect(boxes.filter((box) => box.shown).map((box) => box.pane)).to.deep.equal(['kernels']);
    expect(boxes.find((box) => box.pane === 'kernels')!.height).to.be.at.least(220);
    expect(await overflowDown(page)).to.equal(0);
    expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });
  });

  it('resizes panes by dragging a separator or with its arrow keys, remembers the size across a reload, and restores the default on a double click', async () => {
    await open(1440, 900);
    const width = (name: string): Promise<number> => page.$eval(`main [data-pane="${name}"]`, (pane) => pane.getBoundingClientRect().width);
    const separator = await page.$('#workspace > .pane-split');
    const bar = (await separator!.boundingBox())!;
    const [code, graph, defaultKernels] = [await width('code'), await width('graph'), await width('kernels')];
    await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x + bar.width / 2 + 60, bar.y + 200, { steps: 3 });
    await page.mouse.move(bar.x + bar.width / 2 + 150, bar.y + 200, { steps: 3 });
    await page.mouse.up();
    expect(await width('code')).to.be.closeTo(code + 150, 2);
    expect(await width('graph')).to.be.closeTo(graph - 150, 2);
    expect(await sidewaysScroll(page)).to.deep.equal({ overflow: 0, scrolled: [] });

    // The kernels | WGSL separator from the keyboard: focused, ArrowLeft gives the WGSL 2 % more.
    const [kernels, wgsl] = [await width('kernels'), await width('wgsl')];
    await page.focus('.bottom > .pane-split');
    expect(await page.$eval('.bottom > .pane-split', (node) => [node.getAttribute('role'), node.getAttribute('aria-orientation')])).to.deep.equal(['separator', 'vertical']);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    const moved = (kernels + wgsl) * 0.04;
    expect(await width('kernels')).to.be.closeTo(kernels - moved, 2);
    expect(await width('wgsl')).to.be.closeTo(wgsl + moved, 2);

    // The remembered size is applied before the editor (a chunk loaded later) appears: no default layout shown first.
    await page.evaluateOnNewDocument(() => {
      const observer = new MutationObserver(() => {
        if (!document.querySelector('.cm-editor')) return;
        observer.disconnect();
        const first = document.getElementById('workspace')?.firstElementChild as HTMLElement | null;
        (window as unknown as { kilnGrowAtEditor: string }).kilnGrowAtEditor = first?.style.flexGrow ?? '';
      });
      observer.observe(document, { childList: true, subtree: true });
    });
    await page.reload();
    await waitUntilReady(page, 120000);
    expect(await page.evaluate(() => (window as unknown as { kilnGrowAtEditor?: string }).kilnGrowAtEditor), 'the code pane\'s remembered share when the editor appeared').to.match(/^0\.\d+$/);
    expect(await width('code'), 'editor width after a reload').to.be.closeTo(code + 150, 2);
    expect(await width('kernels'), 'kernels width after a reload').to.be.closeTo(kernels - moved, 2);

    for (const selector of ['#workspace > .pane-split', '.bottom > .pane-split']) await page.click(selector, { count: 2 });
    expect(await width('code')).to.be.closeTo(code, 2);
    expect(await width('kernels')).to.be.closeTo(defaultKernels, 2);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('kiln-playground:split:')))).to.deep.equal([]);
  });

  it('keeps every pane in the window with each separator at either end (Home, End), at 1100×800 where the kernels and WGSL sit side by side in the least room', async () => {
    await open(1100, 800);
    const separators = ['#workspace > .pane-split', '.left > .pane-split', '.right > .pane-split', '.bottom > .pane-split'];
    const positions: (readonly ('Home' | 'End')[])[] = [['End', 'End', 'End', 'End'], ['Home', 'Home', 'Home', 'Home'], ['End', 'Home', 'End', 'Home']];
    for (const ends of positions) {
      for (const [i, selector] of separators.entries()) {
        await page.focus(selector);
        await page.keyboard.press(ends[i]!);
      }
      const boxes = await paneBoxes(page);
      for (const box of boxes) {
        expect(box.width, `${box.pane} width with the separators at ${ends.join(', ')}`).to.be.at.least(80);
        expect(box.height, `${box.pane} height with the separators at ${ends.join(', ')}`).to.be.at.least(80);
      }
      expect(await sidewaysScroll(page), `separators at ${ends.join(', ')}`).to.deep.equal({ overflow: 0, scrolled: [] });
      expect(await overflowDown(page), 'no scroll down either').to.equal(0);
    }
    // Enter restores each default.
    for (const selector of separators) {
      await page.focus(selector);
      await page.keyboard.press('Enter');
    }
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('kiln-playground:split:')))).to.deep.equal([]);
  });

  it(`dims the graph, kernels and WGSL with "${STALE_LABEL}" while a compile has failed, and clears them when one succeeds`, async () => {
    await open(1440, 900);
    const stale = (): Promise<{ pane: string; stale: boolean; label: string; opacity: string }[]> =>
      page.$$eval('[data-stale-able]', (panes) =>
        panes.map((pane) => {
          const badge = pane.querySelector<HTMLElement>('.stale-badge')!;
          const content = pane.querySelector<HTMLElement>(':scope > :not(.stale-badge):not(.pane-bar)')!;
          return { pane: pane.getAttribute('data-pane')!, stale: pane.classList.contains('stale'), label: badge.offsetHeight > 0 ? badge.textContent! : '', opacity: getComputedStyle(content).opacity };
        }),
      );
    expect(await stale()).to.deep.equal(['graph', 'kernels', 'wgsl'].map((pane) => ({ pane, stale: false, label: '', opacity: '1' })));
    // A line that throws, typed at the top of the code, then compiled.
    await page.click('.cm-content');
    await page.keyboard.down('Control');
    await page.keyboard.press('Home');
    await page.keyboard.up('Control');
    await page.keyboard.type('x;');
    await page.keyboard.press('Enter');
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Control');
    await page.waitForSelector('#error-box:not([hidden])');
    await page.waitForSelector('.pane.stale');
    expect(await page.$eval('#error-box', (box) => box.textContent)).to.contain('x is not defined');
    expect(await stale()).to.deep.equal(['graph', 'kernels', 'wgsl'].map((pane) => ({ pane, stale: true, label: STALE_LABEL, opacity: '0.45' })));
    expect(await page.$$eval('#dag .node', (nodes) => nodes.length), 'the last graph stays up').to.be.greaterThan(5);
    // Fixed and compiled again: the marks go.
    await page.keyboard.down('Control');
    await page.keyboard.press('Home');
    await page.keyboard.up('Control');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Delete');
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Control');
    await page.waitForFunction(() => document.querySelector('.pane.stale') === null, { timeout: 60000 });
    await waitUntilReady(page, 120000);
    expect(await stale()).to.deep.equal(['graph', 'kernels', 'wgsl'].map((pane) => ({ pane, stale: false, label: '', opacity: '1' })));
  });
});
