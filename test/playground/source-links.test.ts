import { expect } from 'chai';
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

  it('gives the loss line the loss kernel, and every computed node of the seed MLP a line', () => {
    const trainStep = seed.entry('trainStep');
    const links = new SourceLinks(seed.model.nodes, trainStep.kernels);
    const loss = lineOf(seed.code, 'loss: logits.softmaxCrossEntropy(labels)');
    const rowKernel = trainStep.kernels.find((k) => k.kind === 'row')!;
    expect(links.kernelsOfNodes(links.nodesOfLine(loss))).to.include(rowKernel.position);
    const computed = seed.model.nodes.filter((n) => !['input', 'param', 'state', 'const'].includes(n.part));
    expect(computed.filter((n) => n.line === undefined).map((n) => `%${n.id} ${n.op}`)).to.deep.equal([]);
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
