/**
 * The playground worker's compile and feeds handlers, run in Node as the worker runs them:
 * a compile returns plain data (structured-clonable) with per-stage timings and keeps the
 * last compile; feeds come as copies (the code's own arrays stay whole when the copies are
 * transferred), plain numbers exactly as given; errors keep the user's line.
 */

import { expect } from 'chai';
import type { HandlerContext } from '../../playground/worker/host.js';
import { compile, describeError } from '../../playground/worker/compile.js';
import { feeds } from '../../playground/worker/feeds.js';
import { stages } from '../../playground/worker/stages.js';

const context: HandlerContext = { progress: () => undefined };

/** A graph fed by the code: `x` from an array the code keeps and reuses, `b` as plain numbers, `t` as a tensor. */
const CODE = `
const g = new kiln.Graph('feeds');
const x = g.input('x', [2, 3]);
const b = g.input('b', [3]);
const t = g.input('t', [2, 3]);
g.output('y', x.add(b).mul(t));
const kept = new Float32Array([1, 2, 3, 4, 5, 6]);
globalThis.kilnKept = kept;
return { model: g, feeds: (step) => ({ x: kept, b: [0.5, step, -1], t: { shape: [2, 3], dtype: 'f32', data: new Float32Array(6).fill(2) } }) };
`;

describe('playground worker: compile and feeds', () => {
  it('compiles the code into plain data, with timings per stage, and serves the feeds as copies', async () => {
    const { result } = await compile({ source: { kind: 'code', code: CODE }, fuse: true }, context);
    // Crosses to the page by structured clone: no class instances, no functions.
    expect(() => structuredClone(result)).to.not.throw();
    expect(result.hasFeeds).to.equal(true);
    expect(result.report.name).to.equal('feeds');
    expect(result.model.nodes.map((node) => node.label)).to.include.members(['x', 'b', 't']);
    expect(Object.keys(result.timings)).to.include.members(['run code', 'compile', 'graph model']);
    expect(stages({ stage: 'written' }).result.text).to.contain('graph feeds');

    const { result: step3, transfer } = await feeds({ entry: 'forward', step: 3 }, context);
    expect(Object.keys(step3).sort()).to.deep.equal(['b', 't', 'x']);
    expect(step3['x']!.data).to.be.instanceOf(Float32Array);
    expect([...step3['x']!.data]).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(step3['b']!.data).to.be.instanceOf(Float64Array);
    expect([...step3['b']!.data]).to.deep.equal([0.5, 3, -1]);
    expect(step3['t']!.shape).to.deep.equal([2, 3]);
    // Transferring the copies leaves the code's own array whole for the next step.
    structuredClone(step3, { transfer: transfer! });
    expect(step3['x']!.data.length).to.equal(0);
    const kept = (globalThis as unknown as { kilnKept: Float32Array }).kilnKept;
    expect([...kept]).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a tensor feed of the wrong shape, naming the step and the input', async () => {
    const code = CODE.replace("t: { shape: [2, 3]", "t: { shape: [3, 2]");
    await compile({ source: { kind: 'code', code }, fuse: true }, context);
    let error: unknown;
    await feeds({ entry: 'forward', step: 0 }, context).catch((e: unknown) => (error = e));
    expect(describeError(error)).to.deep.equal({ name: 'FeedError', message: 'feeds(0).t: expected f32[2,3], got f32[3,2].' });
  });

  it('sends an error thrown by the code with its editor line', async () => {
    let error: unknown;
    await compile({ source: { kind: 'code', code: "const g = new kiln.Graph('bad');\n\nthrow new RangeError('boom');" }, fuse: true }, context).catch((e: unknown) => (error = e));
    expect(describeError(error)).to.deep.equal({ name: 'RangeError', message: 'boom', line: 3 });
  });
});
