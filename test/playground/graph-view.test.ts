import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { waitUntilReady } from '../../scripts/playground-screenshot.js';
import { usePlaygroundInChromium } from './browser-harness.js';

/** Waits until the graph has drawn the view it wants (a layout in the worker may be on its way). */
async function graphSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('#dag[aria-busy="true"]') === null, { timeout: 30000 });
}

/** Where the view's layer is: its transform, which panning changes. */
function layerTransform(page: Page): Promise<string> {
  return page.$eval('#dag > g', (layer) => layer.getAttribute('transform')!);
}

describe('the playground’s graph, in headless Chromium', function () {
  this.timeout(120000);
  const playground = usePlaygroundInChromium('graph-view', { dataDir: false });
  let page: Page;

  before(async () => {
    page = await playground.open('#example=transformer-block');
    await waitUntilReady(page);
    await graphSettled(page);
  });

  it('opens the transformer with its groups collapsed, zoomed to the selected kernel at a scale that reads', async () => {
    const shown = await page.evaluate(() => {
      const canvas = document.getElementById('dag')!.getBoundingClientRect();
      const lit = Array.from(document.querySelectorAll<SVGGElement>('#dag .node.hl'));
      const title = lit[0]?.querySelector<SVGTextElement>('.node-title');
      const inView = lit.filter((shape) => {
        const box = shape.getBoundingClientRect();
        return box.left >= canvas.left - 1 && box.right <= canvas.right + 1 && box.top >= canvas.top - 1 && box.bottom <= canvas.bottom + 1;
      });
      return {
        groups: document.querySelectorAll('#dag .group').length,
        nodes: document.querySelectorAll('#dag .node').length,
        lit: lit.length,
        inView: inView.length,
        // The title's font size in CSS pixels on screen: its size times the layer's scale.
        fontPx: title ? parseFloat(getComputedStyle(title).fontSize) * title.getScreenCTM()!.a : 0,
        selected: document.querySelectorAll('#kernels-table tbody tr.selected').length,
      };
    });
    expect(shown.groups, 'collapsed groups').to.be.greaterThan(5);
    // 550 nodes in all: most are inside collapsed groups.
    expect(shown.nodes).to.be.greaterThan(0).and.lessThan(300);
    expect(shown.selected).to.equal(1);
    expect(shown.lit).to.be.greaterThan(0);
    expect(shown.inView, 'the selected kernel’s nodes in view').to.equal(shown.lit);
    expect(shown.fontPx).to.be.at.least(8);
    expect(await page.$$eval('#minimap rect', (rects) => rects.length)).to.be.greaterThan(5);
    // The minimap outlines exactly the canvas's part of the layout: its width at the view's scale is the canvas's.
    const outline = await page.evaluate(() => ({
      width: Number(document.querySelector('#minimap .minimap-view')!.getAttribute('width')),
      scale: Number(/scale\(([\d.e-]+)\)/.exec(document.querySelector('#dag > g')!.getAttribute('transform')!)![1]),
      canvas: document.getElementById('dag')!.getBoundingClientRect().width,
    }));
    expect(outline.width * outline.scale).to.be.closeTo(outline.canvas, 2);
  });

  it('opens a group on click, drawing its nodes inside its frame, and closes it again', async () => {
    const group = await page.$eval('#dag .group:not(.hl)', (shape) => ({ id: shape.getAttribute('data-group')!, size: Number(/(\d+) nodes/.exec(shape.textContent!)![1]) }));
    const before = await page.$$eval('#dag .node', (nodes) => nodes.length);
    await page.$eval(`#dag .group[data-group="${group.id}"]`, (shape) => shape.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await graphSettled(page);
    const opened = await page.evaluate((id) => {
      const frame = document.querySelector(`#dag .frame[data-frame="${id}"] rect`)!.getBoundingClientRect();
      const inside = Array.from(document.querySelectorAll('#dag .node')).filter((node) => {
        const box = node.getBoundingClientRect();
        return box.left >= frame.left && box.right <= frame.right && box.top >= frame.top && box.bottom <= frame.bottom;
      });
      return { nodes: document.querySelectorAll('#dag .node').length, inside: inside.length, collapsed: document.querySelector(`#dag .group[data-group="${id}"]`) !== null };
    }, group.id);
    expect(opened.collapsed).to.equal(false);
    expect(opened.inside).to.be.at.least(2);
    expect(opened.nodes).to.be.greaterThan(before);
    await page.$eval(`#dag .frame[data-frame="${group.id}"] .frame-title`, (title) => title.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await graphSettled(page);
    expect(await page.$$eval(`#dag .group[data-group="${group.id}"]`, (shapes) => shapes.length)).to.equal(1);
    expect(await page.$$eval('#dag .node', (nodes) => nodes.length)).to.equal(before);
  });

  it('finds a node by its op (attention: the op and the weights’ op), selects it on Enter and shows its facts in the side panel', async () => {
    await page.click('#graph-search');
    await page.type('#graph-search', 'attention');
    const count = await page.$eval('#graph-search-count', (node) => node.textContent!);
    const total = Number(/^(\d+) found$/.exec(count)?.[1]);
    expect(total, count).to.be.greaterThan(0);
    await page.keyboard.press('Enter');
    await graphSettled(page);
    expect(await page.$eval('#graph-search-count', (node) => node.textContent)).to.equal(`1 of ${total}`);
    const focused = await page.$eval('#dag .node.focus', (shape) => ({
      // Brought into view, readable: its title's font size on screen, and whether it is inside the canvas.
      fontPx: parseFloat(getComputedStyle(shape.querySelector('.node-title')!).fontSize) * (shape as SVGGElement).getScreenCTM()!.a,
      inView: ((box, canvas) => box.left >= canvas.left && box.right <= canvas.right && box.top >= canvas.top && box.bottom <= canvas.bottom)(shape.getBoundingClientRect(), document.getElementById('dag')!.getBoundingClientRect()),
      id: shape.getAttribute('data-node')!,
      title: shape.querySelector('.node-title')!.textContent!,
      type: shape.querySelector('.node-detail')!.textContent!.split(' ')[0]!,
    }));
    const facts = await page.$eval('#node-panel', (panel) => ({
      hidden: (panel as HTMLElement).hidden,
      title: panel.querySelector('.node-panel-title')!.textContent,
      facts: Object.fromEntries(Array.from(panel.querySelectorAll('dd'), (dd) => [dd.getAttribute('data-fact'), dd.textContent])),
    }));
    expect(facts.hidden).to.equal(false);
    expect(focused.title).to.match(/ attention$/);
    expect(focused.fontPx).to.be.at.least(8);
    expect(focused.inView).to.equal(true);
    expect(facts.title).to.equal(`%${focused.id}`);
    expect(facts.facts['op']).to.equal('attention');
    expect(facts.facts['type']).to.equal(focused.type);
    expect(facts.facts['scope']).to.equal('attn');
    expect(facts.facts['kernel']).to.match(/^k\d+_attention/);
    expect(Number(facts.facts['line'])).to.be.greaterThan(0);
  });

  it('groups by kernel on request: a box per kernel, the selected one open around exactly its nodes', async () => {
    await page.click('#kernels-table tbody tr[data-position="2"]');
    await graphSettled(page);
    await page.select('#group-by', 'kernel');
    await graphSettled(page);
    const shown = await page.evaluate(() => {
      const row = document.querySelector('#kernels-table tbody tr.selected')!;
      const frame = document.querySelector('#dag .frame[data-frame="g:k:2"]');
      const box = frame?.querySelector('rect')!.getBoundingClientRect();
      const inside = Array.from(document.querySelectorAll('#dag .node')).filter((node) => {
        const b = node.getBoundingClientRect();
        return box !== undefined && b.left >= box.left && b.right <= box.right && b.top >= box.top && b.bottom <= box.bottom;
      });
      return {
        // The name cell holds the kernel's name, then its ops.
        kernel: row.querySelector('.ops')!.parentElement!.textContent!.replace(row.querySelector('.ops')!.textContent!, ''),
        ops: row.querySelector('.ops')!.textContent!.match(/%\d+/g)!.map((id) => id.slice(1)).sort(),
        frame: frame?.querySelector('.frame-title')!.textContent,
        inside: inside.map((node) => node.getAttribute('data-node')!).sort(),
        lit: Array.from(document.querySelectorAll('#dag .node.hl'), (node) => node.getAttribute('data-node')!).sort(),
        groups: Array.from(document.querySelectorAll('#dag .group .group-title'), (title) => title.textContent!),
      };
    });
    expect(shown.frame).to.equal(`▾ ${shown.kernel}`);
    expect(shown.inside).to.deep.equal(shown.ops);
    expect(shown.lit).to.deep.equal(shown.ops);
    expect(shown.groups.length).to.be.greaterThan(5);
    for (const title of shown.groups) expect(title).to.match(/^k\d+_/);
    await page.select('#group-by', 'scope');
    await graphSettled(page);
    expect(await page.$$eval('#dag .group[data-group^="g:k:"]', (groups) => groups.length)).to.equal(0);
  });

  it('heats a collapsed group by its hottest node, and cools it again', async () => {
    await page.select('#heat-select', 'bytes');
    const heated = await page.$$eval('#dag .group.heated > rect:first-of-type', (rects) => rects.map((rect) => (rect as SVGRectElement).style.fill));
    expect(heated.length).to.be.greaterThan(3);
    // Not all one colour: the groups' bytes differ.
    expect(new Set(heated).size).to.be.greaterThan(1);
    await page.select('#heat-select', 'off');
    expect(await page.$$eval('#dag .heated', (shapes) => shapes.length)).to.equal(0);
    expect(await page.$eval('#heat-label', (label) => (label as HTMLElement).hidden)).to.equal(true);
  });

  it('pans the view by a click and a drag on the minimap', async () => {
    const before = await layerTransform(page);
    const box = (await (await page.$('#minimap'))!.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.1, box.y + box.height * 0.5);
    const clicked = await layerTransform(page);
    expect(clicked).to.not.equal(before);
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 4 });
    await page.mouse.up();
    const dragged = await layerTransform(page);
    const x = (transform: string): number => Number(/translate\(([-\d.e]+),/.exec(transform)![1]);
    // Moving the view right over the layout moves the layer left.
    expect(x(dragged)).to.be.lessThan(x(clicked));
    const view = await page.$eval('#minimap .minimap-view', (rect) => Number(rect.getAttribute('x')));
    expect(view).to.be.greaterThan(0);
  });

  it('opens the small CNN on its first kernel’s first op, readable, though the kernel’s relu is drawn far from its conv2d', async () => {
    await page.goto(`${playground.server.url}#example=small-cnn`);
    await waitUntilReady(page);
    await graphSettled(page);
    const first = await page.evaluate(() => {
      const canvas = document.getElementById('dag')!.getBoundingClientRect();
      const ops = document.querySelector('#kernels-table tbody tr.selected .ops')!.textContent!;
      const id = /%(\d+)/.exec(ops)![1]!;
      const shape = document.querySelector<SVGGElement>(`#dag .node[data-node="${id}"]`)!;
      const box = shape.getBoundingClientRect();
      return {
        ops,
        inView: box.left >= canvas.left && box.right <= canvas.right && box.top >= canvas.top && box.bottom <= canvas.bottom,
        fontPx: parseFloat(getComputedStyle(shape.querySelector('.node-title')!).fontSize) * shape.getScreenCTM()!.a,
      };
    });
    expect(first.ops).to.match(/^conv2d %\d+, add %\d+, relu %\d+$/);
    expect(first.inView).to.equal(true);
    expect(first.fontPx).to.be.at.least(8);
  });
});
