/**
 * Hostile names: user-given names (graph, inputs, params, state, outputs, dropout streams)
 * that try to end a WGSL comment, inject a shader entry point, break a printed line, send
 * terminal escapes or inject HTML. They must compile and train exactly as tame names do,
 * reach WGSL only sanitized, reach printed text only escaped, and the playground must
 * render them as text, never as markup.
 *
 * Also part of issue 10's security item, tested elsewhere: the playground server binds to
 * 127.0.0.1 and refuses path traversal (test/scripts/static-server.test.ts and
 * test/playground/playground.test.ts); the ONNX importer bounds every size it reads before
 * allocating (test/onnx/import.test.ts, test/reliability/bad-input.test.ts).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { batchNormLayer } from '../../compiler/ops/norm.js';
import { dropout } from '../../compiler/ops/random.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { printPlan } from '../../compiler/plan-print.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { compileReport } from '../../compiler/report.js';
import { printReport } from '../../compiler/report-print.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { trainingProgram } from '../../compiler/train.js';
import { validatePlan } from '../../compiler/plan-check.js';
import type { Feed } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { gpu } from '../gpu/harness.js';
import { expectClose, testData } from '../helpers.js';

const HOSTILE = {
  comment: 'x*/@compute @group(0)',
  html: '<img src=x onerror=alert(1)>',
  newline: 'w\n@compute @workgroup_size(1) fn evil() {}',
  separator: 'b\u2028@compute @workgroup_size(1) fn evil2() {}',
  terminal: '\u001b[2J\u001b[31mred',
  bidi: 'scale\u202e}{ lave',
  verticalTab: 'v\u000bfn evil3() {}',
} as const;

/** Raw fragments that must never appear in WGSL: each name as given, markup, injected code, the line breaks that end a WGSL comment. */
const FORBIDDEN_IN_WGSL = [...Object.values(HOSTILE), '<img', 'fn evil', '\u2028', '\u2029', '\u000b', '\u000c', '\u0085', '\u001b', '\u202e'];
/** Raw characters that must never appear in printed text, where they would forge lines or drive the terminal. */
const FORBIDDEN_IN_TEXT = ['\u2028', '\u000b', '\u001b', '\u202e', '\nfn evil', '\n@compute'];

/** A small classifier whose every user-given name is hostile: inputs, params, batch-norm state, momentum state, a dropout stream, outputs, the graph. */
function hostileProgram(): TrainingProgram {
  const g = new Graph(HOSTILE.html, { seed: 4 });
  const x = g.input(HOSTILE.comment, [6, 5]);
  const labels = g.input(HOSTILE.bidi, [6], 'i32');
  const w = g.param(HOSTILE.newline, [5, 4], { init: 'glorotUniform' });
  const b = g.param(HOSTILE.separator, [4], { init: 'normal' });
  const norm = batchNormLayer(g, HOSTILE.terminal, 4);
  const hidden = dropout(norm(x.matmul(w).add(b)).relu(), 0.25, { name: HOSTILE.verticalTab });
  const logits = hidden.matmul(g.param(HOSTILE.html, [4, 3], { init: 'glorotUniform' }));
  g.output(HOSTILE.terminal, logits);
  return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.1, momentum: 0.9 }), outputs: { [HOSTILE.comment]: hidden } });
}

const feeds = { [HOSTILE.comment]: testData(30, 9), [HOSTILE.bidi]: [0, 1, 2, 2, 1, 0] };

function expectSanitizedWgsl(plan: Plan): void {
  expect(() => validatePlan(JSON.parse(JSON.stringify(plan)))).not.to.throw();
  for (const kernel of plan.kernels) {
    expect(kernel.name, 'kernel name').to.match(/^[A-Za-z0-9_]+$/);
    for (const fragment of FORBIDDEN_IN_WGSL) expect(kernel.wgsl.includes(fragment), `${kernel.name} contains ${JSON.stringify(fragment)}`).to.equal(false);
    expect(kernel.wgsl.match(/@compute/g), `${kernel.name}: one entry point`).to.have.length(1);
    expect(kernel.wgsl.match(/\bfn main\b/g), `${kernel.name}: one main`).to.have.length(1);
  }
}

describe('hostile names', function () {
  this.timeout(60000);

  it('reach WGSL only sanitized, in fused and unfused plans, with in-place updates of hostile params', () => {
    for (const options of [{}, { fuse: false }, { memory: false }]) expectSanitizedWgsl(compile(hostileProgram(), options));
    // Unfused, fusion writes the update in place: the kernel binds the param read_write and names it, sanitized, in its header.
    const unfused = compile(hostileProgram(), { fuse: false });
    const w = unfused.buffers.findIndex((b) => b.name === HOSTILE.newline);
    const writer = unfused.kernels.find((k) => k.bindings[0]?.buffer === w && /^@group\(0\) @binding\(0\) var<storage, read_write> out:/m.test(k.wgsl));
    expect(writer?.wgsl).to.include(' w_compute_workgroup_size_1_fn_evil_:');
  });

  it('are data in the plan: feeds, params and outputs keep their exact names', () => {
    const plan = compile(hostileProgram());
    expect(plan.name).to.equal(HOSTILE.html);
    expect(Object.keys(plan.entries['trainStep']!.inputs).sort()).to.deep.equal([HOSTILE.comment, HOSTILE.bidi].sort());
    expect(Object.keys(plan.entries['forward']!.outputs)).to.deep.equal([HOSTILE.terminal]);
    const persistent = plan.buffers.filter((b) => b.role === 'param' || b.role === 'state').map((b) => b.name);
    expect(persistent).to.include.members([HOSTILE.newline, HOSTILE.separator, HOSTILE.html, `${HOSTILE.terminal}.runningMean`, `${HOSTILE.newline}.momentum`]);
  });

  it('compile, train and save on the GPU exactly as the reference does', async () => {
    const program = hostileProgram();
    const reference = new ReferenceSession(program);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(program, { limits }));
    try {
      await session.setParams(reference.params as Record<string, Feed>);
      for (let step = 0; step < 2; step++) {
        const out = await session.trainStep(feeds, { checkFeeds: true });
        const expected = reference.trainStep(feeds);
        expectClose(out['loss']!.data, expected['loss']!.data, 1e-4, 1e-5);
        expectClose(out[HOSTILE.comment]!.data, expected[HOSTILE.comment]!.data, 1e-4, 1e-5);
      }
      const params = await session.getParams([HOSTILE.newline, `${HOSTILE.terminal}.runningVar`]);
      expectClose(params[HOSTILE.newline]!.data, reference.params[HOSTILE.newline]!.data, 1e-4, 1e-5);
      expectClose(params[`${HOSTILE.terminal}.runningVar`]!.data, reference.params[`${HOSTILE.terminal}.runningVar`]!.data, 1e-4, 1e-5);
      // A checkpoint keeps the names: saved, trained past, and loaded back, the session computes what it did.
      const forwardFeeds = { [HOSTILE.comment]: feeds[HOSTILE.comment]! };
      const checkpoint = await session.saveCheckpoint();
      const before = await session.forward(forwardFeeds);
      await session.trainStep(feeds);
      await session.loadCheckpoint(checkpoint);
      expect(Array.from((await session.forward(forwardFeeds))[HOSTILE.terminal]!.data)).to.deep.equal(Array.from(before[HOSTILE.terminal]!.data));
    } finally {
      session.destroy();
    }
  });

  it('are escaped in printed text: the graph, the plan and the compile report (what kiln inspect prints)', () => {
    const program = hostileProgram();
    const texts = { graph: program.graph.toString(), plan: printPlan(compile(program)), report: printReport(compileReport(program).report, { wgsl: true }) };
    for (const [what, text] of Object.entries(texts)) {
      for (const fragment of FORBIDDEN_IN_TEXT) expect(text.includes(fragment), `${what} contains ${JSON.stringify(fragment)}`).to.equal(false);
    }
    expect(texts.graph).to.include(String.raw`"w\n@compute @workgroup_size(1) fn evil() {}":f32[5,4]`);
    expect(texts.plan).to.include(String.raw`"b\u2028@compute @workgroup_size(1) fn evil2() {}"`);
    expect(texts.plan.split('\n')[0]).to.match(/^plan <img src=x onerror=alert\(1\)> \(kiln-plan v3\)/);
    expect(texts.report).to.include(String.raw`"scale\u202e}{ lave" #`);
  });

  describe('in the playground', () => {
    const sources = readdirSync(new URL('../../playground/', import.meta.url)).filter((file) => file.endsWith('.ts'));

    it('builds its DOM with text nodes and attributes only: no HTML parsing of anything', () => {
      expect(sources.length).to.be.greaterThan(5);
      for (const file of sources) {
        const code = readFileSync(new URL(`../../playground/${file}`, import.meta.url), 'utf8');
        expect(code, file).not.to.match(/\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|srcdoc/);
      }
    });
  });
});
