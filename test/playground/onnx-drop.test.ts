/**
 * Opening an .onnx file in the playground (playground/onnx-drop.ts), in headless Chromium:
 * chosen with "Open .onnx…" (puppeteer's uploadFile on #onnx-input), its dynamic dim asked
 * for and answered, compiled so its graph, kernels and WGSL show, Forward and Train run it
 * from the file's weights; dropped on the page (the overlay shows while dragging); and a
 * file that is not ONNX gives a clear error.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { Graph, sgd, trainingProgram } from '../../index.js';
import { exportOnnx } from '../../compiler/onnx/export/index.js';
import { NODE_TESTS } from '../../scripts/onnx-backend-test.js';
import { trainSteps, waitUntilReady } from '../../scripts/playground-screenshot.js';
import { testData } from '../helpers.js';
import { usePlaygroundInChromium } from './browser-harness.js';

/** A 4 → 3 classifier over a symbolic batch with a mean cross-entropy `loss` output, as kiln exports it, with weights far from zero. */
function classifierBytes(): Uint8Array {
  const g = new Graph('classifier', { seed: 1 });
  const x = g.input('x', ['batch', 4]);
  const logits = x.matmul(g.param('w', [4, 3])).add(g.param('b', [3]));
  g.output('logits', logits);
  const loss = logits.softmaxCrossEntropy(g.input('labels', ['batch'], 'i32'));
  g.output('loss', loss);
  const params = { w: Float32Array.from(testData(12, 5, -2, 2)), b: Float32Array.from(testData(3, 6, -1, 1)) };
  return exportOnnx(trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1 }) }), { params });
}

async function editorText(page: Page): Promise<string> {
  return page.$eval('#editor .cm-content', (node) => Array.from(node.querySelectorAll('.cm-line'), (line) => line.textContent).join('\n'));
}

/** Waits for an error in the status line and returns the error box's text. */
async function errorShown(page: Page): Promise<string> {
  await page.waitForFunction(() => document.getElementById('status')!.classList.contains('error'));
  return page.$eval('#error-box', (node) => node.textContent!);
}

/** The text of the example menu's chosen option. */
function menuShows(page: Page): Promise<string> {
  return page.$eval('#example-select', (select) => (select as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
}

describe('playground: opening an .onnx file', function () {
  this.timeout(180000);
  const playground = usePlaygroundInChromium('onnx-drop', { dataDir: false, siteFolder: 'site' });
  let page: Page;
  const files: Record<string, string> = {};

  before(async () => {
    files['classifier'] = join(playground.dir, 'classifier.onnx');
    await writeFile(files['classifier'], classifierBytes());
    files['notes'] = join(playground.dir, 'notes.txt');
    await writeFile(files['notes'], 'name,age\nada,36\n');
    page = await playground.open('#example=your-own');
    await waitUntilReady(page);
  });

  it('opens a file chosen with "Open .onnx…": asks its dynamic dim, compiles it, shows graph, kernels and WGSL', async () => {
    expect(await page.$eval('#onnx-button', (node) => node.textContent)).to.equal('Open .onnx…');
    expect(await menuShows(page)).to.equal('Your own');
    const input = (await page.$('#onnx-input'))!;
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(files['classifier']!);
    await page.waitForSelector('#onnx-dims-dialog[open]');
    expect(await page.$eval('#onnx-dims-form', (node) => node.textContent)).to.contain("batch").and.contain("dim_param 'batch'");
    expect(await page.$eval('#onnx-dims-form input[name="batch"]', (node) => (node as HTMLInputElement).value)).to.equal('1');
    await page.$eval('#onnx-dims-form input[name="batch"]', (node) => ((node as HTMLInputElement).value = '6'));
    await page.click('#onnx-dims-form button[value="compile"]');
    await page.waitForFunction(() => /^classifier: /.test(document.getElementById('status')!.textContent!) || document.getElementById('status')!.classList.contains('error'));
    await waitUntilReady(page);
    expect(await page.$eval('#status', (node) => node.textContent)).to.match(/^classifier: init \d+, forward \d+, trainStep \d+ kernels · ready$/);
    const note = await editorText(page);
    expect(note).to.contain('This graph came from the file classifier.onnx (ONNX), not from code.');
    expect(note).to.contain('bound to batch = 6');
    expect(note).to.contain('A share link cannot hold a file');
    // The example menu names the file, not the example it replaced.
    expect(await menuShows(page)).to.equal('File: classifier.onnx');
    const ops = await page.$$eval('#dag .node .node-title', (titles) => titles.map((title) => title.textContent!.split(' ').pop()));
    expect(ops).to.include('matmul');
    expect(await page.$$eval('#kernels-table tbody tr', (rows) => rows.length)).to.be.greaterThan(1);
    expect(await page.$eval('#wgsl-code', (node) => node.textContent)).to.contain('@compute');
  });

  it('runs Forward on its random inputs with the file’s weights, and trains it', async () => {
    await page.click('#forward-button');
    await page.waitForSelector('#outputs table');
    const outputs = await page.$eval('#outputs', (node) => node.textContent!);
    expect(outputs).to.match(/logitsf32\[6,3\]/);
    const { first, last, shown } = await trainSteps(page, 5);
    expect(shown).to.equal(5);
    expect(Number.isFinite(first) && Number.isFinite(last), `losses ${first}, ${last}`).to.equal(true);
    // Zero weights (the file's not loaded) give every class the same score: a loss of exactly ln 3.
    expect(Math.abs(first - Math.log(3)), `first loss ${first}`).to.be.above(0.01);
  });

  it('compiles the file again while the editor holds its note', async () => {
    await page.click('#compile-button');
    await page.waitForFunction(() => !document.getElementById('status')!.textContent!.endsWith('· ready'));
    await waitUntilReady(page);
    expect(await page.$eval('#status', (node) => node.textContent)).to.match(/^classifier: /);
  });

  it('opens a file dropped on the page, with an overlay while it is dragged over', async () => {
    const bytes = [...(await readFile(join(NODE_TESTS, 'test_conv_with_autopad_same', 'model.onnx')))];
    const overlayShown = await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'conv.onnx'));
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true }));
      const shown = !document.getElementById('drop-overlay')!.hidden;
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      return shown && document.getElementById('drop-overlay')!.hidden;
    }, bytes);
    expect(overlayShown, 'overlay shown while dragging, hidden after the drop').to.equal(true);
    // No dynamic dims: no form, straight to the compile.
    await page.waitForFunction(() => /^test_conv_with_autopad_same: /.test(document.getElementById('status')!.textContent!) || document.getElementById('status')!.classList.contains('error'));
    await waitUntilReady(page);
    expect(await page.$('#onnx-dims-dialog')).to.equal(null);
    expect(await menuShows(page)).to.equal('File: conv.onnx');
    expect(await page.$$eval('#example-select option[value=""]', (options) => options.length), 'one option for a file, reused').to.equal(1);
    expect(await page.$$eval('#entry-tabs button', (buttons) => buttons.map((b) => b.getAttribute('data-entry')))).to.deep.equal(['init', 'forward']);
    await page.click('#forward-button');
    await page.waitForFunction(() => /yf32\[1,1,3,3\]/.test(document.getElementById('outputs')?.textContent ?? ''));
  });

  it('says clearly when a file is not ONNX', async () => {
    const input = (await page.$('#onnx-input'))!;
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(files['notes']!);
    expect(await errorShown(page)).to.contain('notes.txt is not an ONNX model').and.contain('Fix: open a .onnx file');
    expect(await page.$eval('#status', (node) => node.textContent)).to.equal('OnnxError');
  });

  it('asks before a file replaces edited code, and keeps the edits when told to', async () => {
    await page.click('#editor .cm-content');
    await page.keyboard.type('// my edit');
    const asked: string[] = [];
    const dismiss = (dialog: { message(): string; dismiss(): Promise<void> }): void => {
      asked.push(dialog.message());
      void dialog.dismiss();
    };
    page.on('dialog', dismiss);
    try {
      const input = (await page.$('#onnx-input'))!;
      await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(files['classifier']!);
      for (let waited = 0; asked.length === 0 && waited < 10000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(asked).to.deep.equal(['Open classifier.onnx? Your edits to the code in the editor will be lost (Cancel keeps them; Share makes a link to them).']);
      expect(await page.$('#onnx-dims-dialog')).to.equal(null);
    expect(await menuShows(page)).to.equal('File: conv.onnx');
    expect(await page.$$eval('#example-select option[value=""]', (options) => options.length), 'one option for a file, reused').to.equal(1);
      expect(await editorText(page)).to.contain('// my edit');
    } finally {
      page.off('dialog', dismiss);
    }
  });
});
