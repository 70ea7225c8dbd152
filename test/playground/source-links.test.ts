import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { waitUntilReady } from '../../scripts/playground-screenshot.js';
import * as kiln from '../../index.js';
import { compileStages, reportOfStages } from '../../index.js';
import type { EntryReport } from '../../index.js';
import { playgroundData } from '../../playground/datasets.js';
import { EXAMPLES } from '../../playground/examples.js';
import { graphModel } from '../../playground/graph-model.js';
import type { DagModel } from '../../playground/graph-model.js';
import { SourceLinks, wgslLineNodes } from '../../playground/source-links.js';
import type { LinkedKernel } from '../../playground/source-links.js';
import { runUserCode } from '../../playground/user-code.js';
import { compile } from '../../playground/worker/compile.js';
import { stages, unfusedReport } from '../../playground/worker/stages.js';
import { usePlaygroundInChromium } from './browser-harness.js';

interface Example {
  readonly code: string;
  readonly model: DagModel;
  readonly entry: (name: string) => EntryReport;
}

async function compiledExample(id: string, fuse = true): Promise<Example> {
  const { code } = EXAMPLES.find((example) => example.id === id)!;
  const user = await runUserCode(code, { kiln, data: playgroundData });
  const compiled = compileStages(user.model, { fuse });
  const report = reportOfStages(compiled);
  return { code, model: graphModel(compiled.simplified), entry: (name) => report.entries.find((e) => e.name === name)! };
}

/** The 1-based line of `code` that contains `text`. */
function lineOf(code: string, text: string): number {
  const index = code.split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no line contains ${text}`);
  return index + 1;
}

/** The WGSL line (1-based) of `kernel` that is exactly `text` once trimmed. */
function wgslLine(kernel: LinkedKernel, text: string): number {
  const index = kernel.wgsl.split('\n').findIndex((line) => line.trim() === text);
  if (index < 0) throw new Error(`${text} is not a line of the kernel's WGSL`);
  return index + 1;
}

describe('playground/source-links', () => {
  let seed: Example;
  before(async () => {
    seed = await compiledExample('seed-mlp');
  });

  it('links the seed MLP’s layer line to its nodes, the kernels computing them and their WGSL lines', () => {
    const trainStep = seed.entry('trainStep');
    const links = new SourceLinks(seed.model.nodes, trainStep.kernels);
    // The layers' nodes are built where the model is applied to the images.
    const layers = lineOf(seed.code, 'const logits = mlp(images);');
    const nodes = links.nodesOfLine(layers);
    const ops = (ids: readonly number[]): string[] => ids.map((id) => seed.model.nodes.find((n) => n.id === id)!.op);
    // The three layers' forward matmuls, bias adds and ReLUs (and their gradients) come from that line.
    expect(ops(nodes).filter((op) => op === 'matmul').length).to.be.at.least(3);
    expect(links.linesOfNodes(nodes)).to.deep.equal([layers]);
    // The first kernel (fc1's matmul with its bias and ReLU) computes some of them; its header and epilogue lines are lit.
    const kernels = links.kernelsOfNodes(nodes);
    expect(kernels).to.include(0);
    const first = trainStep.kernels[0]!;
    const lit = links.wgslLinesOfNodes(0, nodes);
    const text = first.wgsl.split('\n');
    expect(lit.map((line) => text[line - 1]!)).to.include.members(['  let v1: f32 = v0 + in0[c1];', '  out[i] = v2;']);
    expect(lit.some((line) => text[line - 1]!.startsWith('//   %'))).to.equal(true);
    // And back: the epilogue's bias add is the add node of fc1, built on the layers' line.
    const add = links.nodesOfWgslLine(0, wgslLine(first, 'let v1: f32 = v0 + in0[c1];'));
    expect(ops(add)).to.deep.equal(['add']);
    expect(links.linesOfNodes(add)).to.deep.equal([layers]);
  });

  it('gives the loss line the loss’s row kernel, and a comment line nothing', () => {
    const trainStep = seed.entry('trainStep');
    const links = new SourceLinks(seed.model.nodes, trainStep.kernels);
    const loss = lineOf(seed.code, 'loss: logits.softmaxCrossEntropy(labels)');
    const rowKernel = trainStep.kernels.find((k) => k.kind === 'row')!;
    expect(links.kernelsOfNodes(links.nodesOfLine(loss))).to.include(rowKernel.position);
    // A line with no nodes (a comment) links nothing.
    expect(links.nodesOfLine(1)).to.deep.equal([]);
  });

  it('maps a row kernel’s locals and loops (v3, acc3, row_sum1) to the nodes of its header, in order', () => {
    const rowKernel = seed.entry('trainStep').kernels.find((k) => k.kind === 'row')!;
    const header = rowKernel.wgsl.split('\n').flatMap((line) => /^\/\/\s+%(\d+):/.exec(line)?.[1] ?? []).map(Number);
    const lines = wgslLineNodes(rowKernel);
    const at = (text: string): readonly number[] => lines[wgslLine(rowKernel, text) - 1]!;
    expect(at('var row_sum1 = 0.0f;')).to.deep.equal([header[1]]);
    expect(at('acc3 += v2[c];')).to.deep.equal([header[3]]);
    expect(at('let v4: f32 = -v3;')).to.deep.equal([header[4]]);
    // A loop computes what its body computes.
    const loop = rowKernel.wgsl.split('\n').findIndex((line) => line.trim() === 'acc3 += v2[c];');
    expect(lines[loop - 1]).to.deep.equal([header[3]]);
    expect(lines[loop + 1]).to.deep.equal([header[3]]);
  });

  it('numbers a sibling kernel’s column sums from their own sum, and a template’s body computes its anchor', () => {
    const sibling = seed.entry('trainStep').kernels.find((k) => k.kind === 'sibling')!;
    const sum = sibling.ops.find((op) => op.op === 'sum')!.node;
    const lines = wgslLineNodes(sibling);
    const text = sibling.wgsl.split('\n');
    const sums = text.findIndex((line) => line.startsWith('fn kiln_epilogue_column_sums'));
    const matrix = text.findIndex((line) => line.startsWith('fn kiln_epilogue_matrix'));
    expect(lines[sums + 1]).to.deep.equal([sum]);
    expect(lines[matrix + 1]).to.deep.equal([sibling.ops[0]!.node]);
    const accumulate = text.findIndex((line) => line.trim().startsWith('acc0 +='));
    expect(lines[accumulate]).to.deep.equal([sibling.ops[0]!.node]);
    // Declarations and helpers compute nothing.
    expect(lines[text.findIndex((line) => line.startsWith('@group(0) @binding(0)'))]).to.deep.equal([]);
  });

  it('links a prologue’s nodes (which the report’s ops leave out) to their kernel and its kiln_prologue lines', async () => {
    const regularized = await compiledExample('regularized-mlp');
    const kernels = regularized.entry('trainStep').kernels;
    const input = kernels.find((k) => k.kind === 'input')!;
    const prologue = Number(/^\/\/\s+prologue %(\d+):/m.exec(input.wgsl)![1]);
    expect(input.ops.map((op) => op.node)).not.to.include(prologue);
    const links = new SourceLinks(regularized.model.nodes, kernels);
    expect(links.kernelsOfNodes([prologue])).to.deep.equal([input.position]);
    const text = input.wgsl.split('\n');
    const body = text.findIndex((line) => line.startsWith('fn kiln_prologue')) + 1;
    expect(links.wgslLinesOfNodes(input.position, [prologue])).to.include(body + 1);
  });

  it('lights a loop kernel’s statements by their locals, and a one-node kernel’s whole body', async () => {
    const transformer = await compiledExample('transformer-block');
    const kernels = transformer.entry('trainStep').kernels;
    const loop = kernels.find((k) => k.kind === 'loop' && k.ops.length > 1)!;
    const lines = wgslLineNodes(loop);
    const text = loop.wgsl.split('\n');
    loop.ops.forEach(({ node }, k) => {
      const line = text.findIndex((l) => l.trim().startsWith(`let v${k}:`));
      expect(lines[line], `v${k}`).to.deep.equal([node]);
    });
    const single = kernels.find((k) => k.kind === 'single' && k.ops.length === 1)!;
    const main = single.wgsl.split('\n').findIndex((l) => l.startsWith('fn main'));
    expect(wgslLineNodes(single)[main + 1]).to.deep.equal([single.ops[0]!.node]);
  });
});

describe('playground/source-links on every example', function () {
  this.timeout(120000);

  for (const { id } of EXAMPLES) {
    it(`finds a WGSL line computing each node a ${id} kernel's header names, fused and unfused, and an editor line for each computed node`, async () => {
      for (const fuse of [true, false]) {
        const example = await compiledExample(id, fuse);
        const missing: string[] = [];
        for (const entry of ['init', 'forward', 'trainStep'].filter((name) => example.entry(name))) {
          for (const kernel of example.entry(entry).kernels) {
            const text = kernel.wgsl.split('\n');
            const lines = wgslLineNodes(kernel);
            const body = new Set(lines.flatMap((ids, i) => (text[i]!.startsWith('//') ? [] : ids)));
            const header = lines.flatMap((ids, i) => (text[i]!.startsWith('//') ? ids : []));
            missing.push(...header.filter((node) => !body.has(node)).map((node) => `${entry} ${kernel.name} %${node}`));
          }
        }
        expect(missing, `fuse: ${fuse}`).to.deep.equal([]);
        const computed = example.model.nodes.filter((n) => !['input', 'param', 'state', 'const'].includes(n.part));
        expect(computed.filter((n) => n.line === undefined).map((n) => `%${n.id} ${n.op}`)).to.deep.equal([]);
      }
    });
  }
});

describe('playground/worker/stages', function () {
  this.timeout(60000);

  it('prints each stage of the last compile, and compiles the unfused plan on demand: more kernels, the same nodes', async () => {
    const { code } = EXAMPLES.find((example) => example.id === 'seed-mlp')!;
    const { result: compiled } = await compile({ source: { kind: 'code', code }, fuse: true }, { progress: () => undefined });
    const text = (stage: Parameters<typeof stages>[0]['stage']): string => stages({ stage }).result.text;
    expect(text('written')).to.match(/^graph seed_mlp \{/);
    expect(text('written')).to.contain('entry trainStep');
    expect(text('simplified')).to.contain('entry trainStep');
    expect(text('fusion')).to.match(/entry trainStep: \d+ groups/);
    expect(text('fused')).to.contain(`${compiled.plan.kernels.length} kernels`);
    const unfused = unfusedReport().result;
    const fusedKernels = compiled.report.entries.find((e) => e.name === 'trainStep')!.kernels;
    const unfusedKernels = unfused.entries.find((e) => e.name === 'trainStep')!.kernels;
    expect(unfusedKernels.length).to.be.greaterThan(fusedKernels.length);
    const planKernels = (stage: 'fused' | 'unfused'): number => Number(/, (\d+) kernels, entries/.exec(text(stage))![1]);
    expect(planKernels('unfused')).to.be.greaterThan(planKernels('fused'));
    const ids = new Set(compiled.model.nodes.map((n) => n.id));
    expect(unfusedKernels.flatMap((k) => k.ops.map((op) => op.node)).filter((id) => !ids.has(id))).to.deep.equal([]);
    expect(() => stages({ stage: 'memory' as never })).to.throw("Stages: unknown stage 'memory'");
  });
});

/** Moves the pointer onto the middle of `selector`'s element that `text` matches (trimmed, exactly). */
async function hoverText(page: Page, selector: string, text: string): Promise<void> {
  const box = await page.$$eval(
    selector,
    (elements, wanted) => {
      const found = elements.find((element) => element.textContent!.trim() === wanted);
      if (!found) return undefined;
      found.scrollIntoView({ block: 'center' });
      const { left, top, width, height } = found.getBoundingClientRect();
      return { x: left + Math.min(width / 2, 40), y: top + height / 2 };
    },
    text,
  );
  if (!box) throw new Error(`no ${selector} reads ${text}`);
  await page.mouse.move(box.x, box.y);
}

describe('the playground’s source links, stages and shared view, in headless Chromium', function () {
  this.timeout(180000);
  const playground = usePlaygroundInChromium('source-links', { dataDir: false });
  let page: Page;

  async function open(hash: string): Promise<void> {
    page = await playground.open(hash);
    await waitUntilReady(page);
  }

  before(async () => {
    await open('#example=seed-mlp');
  });

  it('lights a hovered editor line’s nodes, kernel rows and WGSL lines, and marks the editor line of a hovered WGSL line', async () => {
    await hoverText(page, '.cm-line', 'const logits = mlp(images);');
    const lit = await page.evaluate(() => ({
      nodes: Array.from(document.querySelectorAll('#dag .node.hl .node-title'), (title) => title.textContent!.split(' ').pop()),
      rows: Array.from(document.querySelectorAll('#kernels-table tr.linked'), (row) => Number(row.getAttribute('data-position'))),
      wgsl: Array.from(document.querySelectorAll('#wgsl-code .code-line.hl'), (line) => line.textContent!.trim()),
    }));
    expect(lit.nodes.filter((op) => op === 'matmul').length).to.be.at.least(3);
    expect(lit.rows).to.include(0);
    expect(lit.wgsl).to.include.members(['let v1: f32 = v0 + in0[c1];', 'out[i] = v2;']);
    // The loss line lights the loss's row kernel, not the layers'.
    await hoverText(page, '.cm-line', 'loss: logits.softmaxCrossEntropy(labels),');
    const rowKernel = await page.$eval('#kernels-table tr:has(.kind-row)', (row) => Number(row.getAttribute('data-position')));
    expect(await page.$$eval('#kernels-table tr.linked', (rows) => rows.map((row) => Number(row.getAttribute('data-position'))))).to.include(rowKernel).and.not.include(0);
    // And back: a WGSL line of the first kernel marks the line that built its node.
    await hoverText(page, '#wgsl-code .code-line', 'let v1: f32 = v0 + in0[c1];');
    expect(await page.$$eval('.cm-linked-line', (lines) => lines.map((line) => line.textContent!.trim()))).to.deep.equal(['const logits = mlp(images);']);
    await page.mouse.move(1, 1);
  });

  it('selects a clicked line’s kernel, and marks the selection’s lines and the editor line of a hovered node or kernel row', async () => {
    // Clicking the loss line selects the first kernel computing it: the loss's row kernel.
    const rowKernel = await page.$eval('#kernels-table tr:has(.kind-row)', (row) => Number(row.getAttribute('data-position')));
    await hoverText(page, '.cm-line', 'loss: logits.softmaxCrossEntropy(labels),');
    await page.mouse.down();
    await page.mouse.up();
    expect(await page.$eval('#kernels-table tr.selected', (row) => Number(row.getAttribute('data-position')))).to.equal(rowKernel);
    expect(await page.$$eval('.cm-selected-line', (lines) => lines.map((line) => line.textContent!.trim()))).to.deep.equal(['loss: logits.softmaxCrossEntropy(labels),']);
    await page.hover('#kernels-table tr[data-position="0"] td:nth-child(2)');
    expect(await page.$$eval('.cm-linked-line', (lines) => lines.map((line) => line.textContent!.trim()))).to.deep.equal(['const logits = mlp(images);']);
    // A node of the selected (row) kernel, which the graph brought into view.
    await page.waitForFunction(() => document.querySelector('#dag[aria-busy="true"]') === null, { timeout: 30000 });
    const point = await page.$$eval('#dag .node.hl', (shapes) => {
      const canvas = document.getElementById('dag')!.getBoundingClientRect();
      const boxes = shapes.map((shape) => shape.getBoundingClientRect());
      const inside = boxes.find((box) => box.left >= canvas.left && box.right <= canvas.right && box.top >= canvas.top && box.bottom <= canvas.bottom)!;
      return { x: inside.left + inside.width / 2, y: inside.top + inside.height / 2 };
    });
    await page.mouse.move(point.x, point.y);
    expect(await page.$$eval('.cm-linked-line', (lines) => lines.map((line) => line.textContent!.trim()))).to.deep.equal(['loss: logits.softmaxCrossEntropy(labels),']);
    await page.mouse.move(1, 1);
  });

  it('shows each stage’s text in the Stages tab, and the unfused plan’s kernels in the kernels pane', async () => {
    await page.click('[data-tab="ssa-pane"]');
    expect(await page.$eval('[data-tab="ssa-pane"]', (tab) => tab.textContent)).to.equal('Stages');
    const stageText = async (stage: string): Promise<string> => {
      await page.select('#stage-select', stage);
      await page.waitForFunction(() => !document.getElementById('stage-text')!.hidden && /lines$/.test(document.getElementById('stage-note')!.textContent!), { timeout: 60000 });
      return page.$eval('#stage-text', (node) => node.textContent!);
    };
    expect(await stageText('written')).to.match(/^graph seed_mlp \{/);
    expect(await stageText('specialized')).to.contain('entry trainStep');
    expect(await stageText('fusion')).to.match(/entry trainStep: \d+ groups/);
    // A fusion group's line names simplified-graph nodes: hovering it marks the line that built them.
    const group = await page.$$eval('#stage-text .code-line', (lines) => lines.map((line) => line.textContent!.trim()).find((text) => /^\[0\] epilogue matmul %\d+/.test(text))!);
    await hoverText(page, '#stage-text .code-line', group);
    expect(await page.$$eval('.cm-linked-line', (lines) => lines.map((line) => line.textContent!.trim()))).to.deep.equal(['const logits = mlp(images);']);
    await page.mouse.move(1, 1);
    const kernelsOf = (text: string): number => Number(/, (\d+) kernels, entries/.exec(text)![1]);
    const fused = kernelsOf(await stageText('fused'));
    expect(kernelsOf(await stageText('unfused'))).to.be.greaterThan(fused);
    await page.select('#stage-select', 'simplified');
    expect(await page.$eval('#ssa-root', (node) => (node as HTMLElement).hidden)).to.equal(false);
    expect(await page.$eval('#stage-text', (node) => (node as HTMLElement).hidden)).to.equal(true);

    const fusedRows = await page.$$eval('#kernels-table tbody tr[data-position]', (rows) => rows.length);
    await page.select('#fused-select', 'unfused');
    await page.waitForFunction((n) => document.querySelectorAll('#kernels-table tbody tr[data-position]').length > n, { timeout: 60000 }, fusedRows);
    await page.click('#kernels-table tbody tr[data-position="2"]');
    const selected = await page.$eval('#kernels-table tbody tr.selected', (row) => ({ position: row.getAttribute('data-position'), ops: row.querySelector('.ops')!.textContent! }));
    expect(selected.position).to.equal('2');
    // One op per unfused kernel, lit in the graph, its WGSL shown.
    const node = /%(\d+)/.exec(selected.ops)![1];
    expect(await page.$$eval('#dag .node.hl', (shapes) => shapes.map((shape) => shape.getAttribute('data-node')))).to.deep.equal([node]);
    expect(await page.$eval('#wgsl-code', (code) => code.textContent)).to.contain(`%${node}:`);
    expect(await page.evaluate(() => location.hash)).to.equal('#example=seed-mlp&entry=trainStep&kernel=2&fused=0');
    await page.select('#fused-select', 'fused');
    expect(await page.$$eval('#kernels-table tbody tr[data-position]', (rows) => rows.length)).to.equal(fusedRows);
  });

  it('wraps long WGSL lines on a toggle', async () => {
    const width = (): Promise<{ scroll: number; client: number }> => page.$eval('#wgsl-code', (code) => ({ scroll: code.scrollWidth, client: code.clientWidth }));
    const before = await width();
    expect(before.scroll, 'some WGSL line is wider than the pane').to.be.greaterThan(before.client);
    await page.click('#wrap-toggle');
    const after = await width();
    expect(after.scroll).to.be.at.most(after.client + 1);
    expect(await page.$eval('#wrap-toggle', (button) => button.getAttribute('aria-pressed'))).to.equal('true');
    await page.click('#wrap-toggle');
  });

  it('reopens a shared link with its entry, kernel and stage selected', async () => {
    await open('#example=seed-mlp&entry=trainStep&kernel=3&stage=fusion');
    await page.waitForFunction(() => document.querySelector('#kernels-table tbody tr.selected')?.getAttribute('data-position') === '3', { timeout: 30000 });
    expect(await page.$eval('#stage-select', (select) => (select as HTMLSelectElement).value)).to.equal('fusion');
    expect(await page.$eval('#entry-tabs button.active', (button) => button.getAttribute('data-entry'))).to.equal('trainStep');
    expect(await page.evaluate(() => location.hash)).to.equal('#example=seed-mlp&entry=trainStep&kernel=3&stage=fusion');
    await open('#example=seed-mlp&entry=forward&kernel=1&fused=0');
    await page.waitForFunction(() => (document.getElementById('fused-select') as HTMLSelectElement).value === 'unfused' && document.querySelector('#kernels-table tbody tr.selected')?.getAttribute('data-position') === '1', { timeout: 60000 });
    expect(await page.$eval('#entry-tabs button.active', (button) => button.getAttribute('data-entry'))).to.equal('forward');
  });

  it('lights the collapsed groups holding a hovered line’s nodes in the transformer, and restores the selection’s after', async () => {
    await open('#example=transformer-block');
    await page.waitForFunction(() => document.querySelector('#dag[aria-busy="true"]') === null && document.querySelector('#dag .group') !== null, { timeout: 60000 });
    const litGroups = (): Promise<string[]> => page.$$eval('#dag .group.hl', (groups) => groups.map((group) => group.getAttribute('data-group')!).sort());
    const before = await litGroups();
    // The MLP's line builds nodes in groups the first kernel's selection leaves collapsed (up, down, norm2).
    await hoverText(page, '.cm-line', 'h = h.add(mlp(norm2(h)));');
    const hovered = await litGroups();
    expect(hovered.filter((group) => !before.includes(group)), `lit on hover: ${hovered.join(', ')}; before: ${before.join(', ')}`).to.not.be.empty;
    expect(hovered.some((group) => /up|down|norm2/.test(group))).to.equal(true);
    await page.mouse.move(1, 1);
    expect(await litGroups()).to.deep.equal(before);
  });
});
