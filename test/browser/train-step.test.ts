import { expect } from 'chai';
import * as esbuild from 'esbuild';
import type { Page } from 'puppeteer-core';
import { Graph } from '../../compiler/graph.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';
import type { TrainingProgram } from '../../compiler/train.js';
import type { HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { encodeSafetensors } from '../../runtime/safetensors.js';
import { browserBundleOptions } from '../../scripts/build.mjs';
import type { ChromiumSession } from '../../scripts/chromium.js';
import { launchChromium, recordPageLog } from '../../scripts/chromium.js';
import type { StaticServer } from '../../scripts/static-server.js';
import { startStaticServer } from '../../scripts/static-server.js';
import { gpu } from '../gpu/harness.js';
import { testData } from '../helpers.js';
import type { TrainStepsResult } from './train-step-entry.js';
// What the runtime may bundle from outside runtime/: the same set test/architecture.test.ts holds it to.
import { RUNTIME_MAY_IMPORT } from '../import-graph.js';

const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>kiln train step</title><script type="module" src="entry.js"></script>';
const ENTRY = 'test/browser/train-step-entry.ts';

/** A small MLP classifier (20 → 16 → ReLU → 5, softmax cross-entropy), trained by SGD with momentum; `batch` a size or a dim name. */
function mlp(batch: number | string): TrainingProgram {
  const g = new Graph('browser_mlp', { seed: 9 });
  const x = g.input('x', [batch, 20]);
  const labels = g.input('labels', [batch], 'i32');
  const w1 = g.param('w1', [20, 16], { init: 'glorotUniform' });
  const b1 = g.param('b1', [16], { init: 'normal' });
  const w2 = g.param('w2', [16, 5], { init: 'glorotUniform' });
  const b2 = g.param('b2', [5]);
  const logits = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
  g.output('logits', logits);
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.1, momentum: 0.9 }) });
}

const BATCH = 7;
const steps = [0, 1].map((step) => ({
  x: testData(BATCH * 20, 50 + step, -2, 2),
  labels: Array.from({ length: BATCH }, (_, i) => (i * 3 + step) % 5),
}));

describe('a training step in headless Chromium, on a plan compiled ahead of time in Node', function () {
  this.timeout(120000);
  let bundle: esbuild.BuildResult<{ write: false; metafile: true }>;
  let plan: Plan;
  let symbolicPlan: Plan;
  let symbolicReference: ReferenceSession;
  let checkpoint: Uint8Array;
  let reference: ReferenceSession;
  let server: StaticServer;
  let chromium: ChromiumSession;
  let page: Page;
  let log: string[];

  before(async () => {
    const program = mlp(BATCH);
    // WebGPU's guaranteed limits: a plan shipped to browsers must run on any device.
    plan = compile(program);
    reference = new ReferenceSession(program);
    const symbolicProgram = mlp('batch');
    symbolicPlan = compile(symbolicProgram);
    symbolicReference = new ReferenceSession(symbolicProgram);
    checkpoint = encodeSafetensors(reference.params as Record<string, HostTensor>);
    bundle = await esbuild.build({ ...browserBundleOptions(ENTRY), write: false, metafile: true });
    server = await startStaticServer({
      files: {
        '/index.html': PAGE,
        '/entry.js': bundle.outputFiles[0]!.text,
        '/plan.json': JSON.stringify(plan),
        '/symbolic-plan.json': JSON.stringify(symbolicPlan),
        '/init.safetensors': checkpoint,
      },
    });
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    log = recordPageLog(page);
  });
  after(async () => {
    await chromium?.close();
    await server?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`page log:\n  ${log.join('\n  ')}`);
  });

  it('bundles the runtime alone: no compiler module besides the plan format and error classes', () => {
    // esbuild names its inputs relative to the repository root (its working directory).
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs).to.include('runtime/session.ts');
    const foreign = inputs.filter((path) => !path.startsWith('runtime/') && path !== ENTRY && !RUNTIME_MAY_IMPORT.has(path));
    expect(foreign).to.deep.equal([]);
    const text = bundle.outputFiles[0]!.text;
    // Identifiers only the compiler has: the compile entry point, the lowering and autodiff.
    for (const identifier of ['function compile(', 'function lowerNode(', 'function trainingProgram(', 'has no WGSL lowering']) {
      expect(text, identifier).to.not.include(identifier);
    }
    expect(text).to.include('function validatePlan(');
  });

  it('gives the loss of each step that Node (Dawn) gives to 1e-5, and the CPU reference gives to 1e-4', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => typeof window.kilnTrainSteps === 'function');
    const result: TrainStepsResult = await page.evaluate((s) => window.kilnTrainSteps(s), steps);
    if (!result.ok) expect.fail(`${result.name}: ${result.message}`);
    expect(result.backend).to.equal('browser');

    const { device } = await gpu();
    const node = await Session.create(device, plan);
    const nodeLosses: number[] = [];
    try {
      await node.loadCheckpoint(checkpoint);
      for (const feeds of steps) nodeLosses.push((await node.trainStep(feeds, { outputs: ['loss'] }))['loss']!.data[0]!);
    } finally {
      node.destroy();
    }
    const referenceLosses = steps.map((feeds) => reference.trainStep(feeds)['loss']!.data[0]!);

    steps.forEach((_, i) => {
      const [browser, dawn, cpu] = [result.losses[i]!, nodeLosses[i]!, referenceLosses[i]!];
      expect(Math.abs(browser - dawn), `step ${i}: browser ${browser}, Node ${dawn}`).to.be.at.most(1e-5 * Math.abs(dawn));
      expect(Math.abs(browser - cpu), `step ${i}: browser ${browser}, reference ${cpu}`).to.be.at.most(1e-4 * Math.abs(cpu));
    });
    // The second step runs on the weights the first one updated, so a missing update would show.
    expect(result.losses[1]).to.not.equal(result.losses[0]);
  });

  it('runs a plan with a symbolic batch, compiled once in Node, at batch 7, 1 and 13 in one session as the CPU reference does', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => typeof window.kilnTrainSteps === 'function');
    const forwards = [1, 13].map((rows, i) => ({ x: testData(rows * 20, 70 + i, -2, 2) }));
    const result: TrainStepsResult = await page.evaluate((s, f) => window.kilnTrainSteps(s, 'symbolic-plan.json', f), steps, forwards);
    if (!result.ok) expect.fail(`${result.name}: ${result.message}`);
    expect(symbolicPlan.dims).to.deep.equal(['batch']);

    const referenceLosses = steps.map((feeds) => symbolicReference.trainStep(feeds)['loss']!.data[0]!);
    steps.forEach((_, i) => {
      const [browser, cpu] = [result.losses[i]!, referenceLosses[i]!];
      expect(Math.abs(browser - cpu), `step ${i}: browser ${browser}, reference ${cpu}`).to.be.at.most(1e-4 * Math.abs(cpu));
    });
    forwards.forEach((feeds, i) => {
      const expected = symbolicReference.forward(feeds)['logits']!;
      const got = result.logits[i]!;
      expect(got.shape, `forward ${i}`).to.deep.equal([...expected.shape]);
      got.data.forEach((value, k) => expect(Math.abs(value - expected.data[k]!), `forward ${i} logit ${k}`).to.be.at.most(1e-4 * (1 + Math.abs(expected.data[k]!))));
    });
  });
});
