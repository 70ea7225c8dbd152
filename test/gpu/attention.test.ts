import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import type { AttentionOptions } from '../../compiler/ops/attention.js';
import { attention, attentionWeights } from '../../compiler/ops/attention.js';
import { mul } from '../../compiler/ops/binary.js';
import { sum } from '../../compiler/ops/reduce.js';
import type { CompileOptions } from '../../compiler/plan.js';
import type { TuningTable } from '../../compiler/codegen/tuning.js';
import type { AttentionTuning, AttentionVariant } from '../../compiler/codegen/attention-tuning.js';
import { ATTENTION_VARIANTS, DEFAULT_ATTENTION_VARIANT } from '../../compiler/codegen/attention-tuning.js';
import { ArgumentError } from '../../compiler/errors.js';
import { compile } from '../../compiler/plan.js';
import { autotuneAttention } from '../../tune/attention.js';
import { testData } from '../helpers.js';
import { expectPlanMatchesReference, gpu } from './harness.js';

/** A tuning table choosing only the attention variant. */
const tuned = (attention: AttentionVariant): TuningTable & AttentionTuning => ({ format: 'kiln-tuning', version: 1, adapter: 'test', matmul: {}, attention });

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Tolerance: the GPU accumulates dot products and the online softmax in f32, the reference
 * in double rounded once: measured max absolute error 4e-7 on these shapes (inputs in
 * [-2, 2), outputs of magnitude ≤ 2).
 */
const TOLERANCE = { rtol: 2e-5, atol: 2e-6 };

interface Case {
  q: number[];
  k: number[];
  v: number[];
  options?: (g: Graph) => AttentionOptions;
  compile?: CompileOptions;
}

/**
 * attention's forward pass on the GPU against the reference, with every variant (tiled,
 * and 1, 2 or 4 queries per invocation), which must also agree bit for bit: they do the
 * same arithmetic per query in the same order. Returns the default variant's plan.
 */
async function checkForward({ q, k, v, options, compile }: Case) {
  const g = new Graph('attention');
  const [qi, ki, vi] = [g.input('q', q), g.input('k', k), g.input('v', v)];
  g.output('out', attention(qi, ki, vi, options?.(g)));
  const feeds = { q: Float32Array.from(testData(size(q), 1, -2, 2)), k: Float32Array.from(testData(size(k), 2, -2, 2)), v: Float32Array.from(testData(size(v), 3, -2, 2)) };
  const runs = new Map<AttentionVariant, Awaited<ReturnType<typeof expectPlanMatchesReference>>>();
  for (const variant of ATTENTION_VARIANTS) {
    runs.set(variant, await expectPlanMatchesReference(g, feeds, { ...TOLERANCE, compile: { ...compile, tuning: tuned(variant) } }));
  }
  const tiled = Array.from(runs.get('tiled')!.outputs['out']!.data);
  for (const variant of ATTENTION_VARIANTS) expect(Array.from(runs.get(variant)!.outputs['out']!.data), variant).to.deep.equal(tiled);
  return runs.get(DEFAULT_ATTENTION_VARIANT)!.plan;
}

describe('attention on the GPU', () => {
  it('runs the forward pass as one kernel (scores, scale, causal mask, online softmax, weighted sum)', async () => {
    const plan = await checkForward({ q: [37, 5], k: [37, 5], v: [37, 3], options: () => ({ causal: true }) });
    const forward = plan.entries['forward']!.dispatches;
    expect(forward).to.have.length(1);
    expect(plan.kernels[forward[0]!]!.ops).to.deep.equal(['attention']);
  });

  it('handles one query and one key per head over batch × heads axes', async () => {
    await checkForward({ q: [2, 3, 1, 5], k: [2, 3, 1, 5], v: [2, 3, 1, 4] });
  });

  it('handles Tq ≠ Tk across several query blocks and key tiles, causal', async () => {
    await checkForward({ q: [70, 5], k: [45, 5], v: [45, 2], options: () => ({ causal: true }) });
    await checkForward({ q: [3, 5], k: [130, 5], v: [130, 6], options: () => ({ scale: 0.3 }) });
  });

  it('shares keys and values across heads and applies a broadcast key padding mask', async () => {
    const padding = Array.from({ length: 2 * 9 }, (_, i) => (i % 9 === 8 || i === 3 ? 0 : 1));
    const plan = await checkForward({
      q: [2, 3, 7, 4],
      k: [2, 1, 9, 4],
      v: [2, 1, 9, 3],
      options: (g) => ({ causal: true, mask: g.constant(padding, { dtype: 'bool', shape: [2, 1, 1, 9] }) }),
    });
    expect(plan.entries['forward']!.dispatches).to.have.length(1);
  });

  it('reads keys and values from their buffers when a tile does not fit workgroup memory', async () => {
    const plan = await checkForward({ q: [9, 5], k: [11, 5], v: [11, 3], options: () => ({ causal: true }), compile: { limits: { maxComputeWorkgroupStorageSize: 16 } } });
    expect(plan.kernels[0]!.wgsl).to.not.include('var<workgroup>');
  });

  it('runs vec4 rows, query counts no variant block divides, batch 1, and a mask per query', async () => {
    const keep = Array.from({ length: 19 * 23 }, (_, i) => (i % 7 === 3 || i % 23 === 0 ? 0 : 1));
    await checkForward({ q: [1, 2, 19, 8], k: [1, 2, 23, 8], v: [1, 2, 23, 4], options: (g) => ({ causal: true, mask: g.constant(keep, { dtype: 'bool', shape: [19, 23] }) }) });
    await checkForward({ q: [3, 130, 4], k: [3, 7, 4], v: [3, 7, 12] });
  });

  it('runs the rows variants without workgroup memory or barriers, and heads too wide for registers tiled', async () => {
    const g = new Graph('variants');
    const [q, k, v] = [g.input('q', [6, 8]), g.input('k', [6, 8]), g.input('v', [6, 4])];
    g.output('out', attention(q, k, v, { causal: true }));
    const feeds = { q: Float32Array.from(testData(48, 1)), k: Float32Array.from(testData(48, 2)), v: Float32Array.from(testData(24, 3)) };
    const { plan } = await expectPlanMatchesReference(g, feeds, { ...TOLERANCE, compile: { tuning: tuned('rows2') } });
    expect(plan.kernels[0]!.wgsl).to.not.match(/var<workgroup>|workgroupBarrier/);
    expect(plan.kernels[0]!.wgsl).to.include('2 queries per invocation');
    await checkForward({ q: [5, 100], k: [6, 100], v: [6, 40], options: () => ({ causal: true }) });
    const wide = new Graph('wide');
    const [wq, wk, wv] = [wide.input('q', [5, 100]), wide.input('k', [6, 100]), wide.input('v', [6, 40])];
    wide.output('out', attention(wq, wk, wv));
    const wideFeeds = { q: Float32Array.from(testData(500, 1)), k: Float32Array.from(testData(600, 2)), v: Float32Array.from(testData(240, 3)) };
    const { plan: widePlan } = await expectPlanMatchesReference(wide, wideFeeds, { ...TOLERANCE, compile: { tuning: tuned('rows1') } });
    expect(widePlan.kernels[0]!.wgsl).to.include('var<workgroup>');
  });

  it('stays finite and exact at scores of ±1e4, and gives zeros for a query with no allowed key', async () => {
    const g = new Graph('extreme');
    const q = g.input('q', [3, 2]);
    const k = g.input('k', [3, 2]);
    const v = g.input('v', [3, 2]);
    const mask = g.constant([1, 1, 1, 1, 1, 0, 0, 0, 0], { dtype: 'bool', shape: [3, 3] });
    g.output('out', attention(q, k, v, { scale: 1, mask }));
    g.output('weights', attentionWeights(q, k, { scale: 1, mask }));
    // Integer scores, exact in f32: 1e4, 9999 and −1e4 for the first query.
    const feeds = {
      q: Float32Array.from([100, 1, -100, 0, 1, 0]),
      k: Float32Array.from([100, 0, 99, 99, -100, 0]),
      v: Float32Array.from([1, 0, 0, 1, 5, 5]),
    };
    const { outputs } = await expectPlanMatchesReference(g, feeds, TOLERANCE);
    const w = 1 / (1 + Math.exp(-1));
    expect(outputs['out']!.data[0]).to.be.closeTo(w, 1e-6);
    expect([...outputs['out']!.data.slice(4)]).to.deep.equal([0, 0]);
    expect([...outputs['weights']!.data.slice(6)]).to.deep.equal([0, 0, 0]);
  });

  it('computes gradients of q, k and v on the GPU as the reference does', async () => {
    const g = new Graph('attention-grad');
    const [q, k, v] = [g.input('q', [2, 6, 5]), g.input('k', [2, 9, 5]), g.input('v', [2, 9, 3])];
    const out = attention(q, k, v, { causal: true });
    const [dq, dk, dv] = grad(sum(mul(out, g.constant(testData(36, 5), { shape: [2, 6, 3] }))), [q, k, v]);
    g.output('dq', dq!);
    g.output('dk', dk!);
    g.output('dv', dv!);
    const feeds = { q: Float32Array.from(testData(60, 1, -2, 2)), k: Float32Array.from(testData(90, 2, -2, 2)), v: Float32Array.from(testData(54, 3, -2, 2)) };
    await expectPlanMatchesReference(g, feeds, { rtol: 1e-4, atol: 1e-5 });
  });

  it('autotuneAttention times every variant and records the fastest; compile refuses an unknown one', async () => {
    const table = await autotuneAttention(await gpu(), { format: 'kiln-tuning', version: 1, adapter: 'test', matmul: {} }, { repeats: 1, runMs: 1 });
    expect(ATTENTION_VARIANTS).to.include(table.attention);
    expect(Object.keys(table.measured!.attention!).sort()).to.deep.equal([...ATTENTION_VARIANTS].sort());
    const g = new Graph('unknown');
    g.output('out', attention(g.input('q', [3, 4]), g.input('k', [3, 4]), g.input('v', [3, 4])));
    const bad = { ...tuned('rows1'), attention: 'rows3' as AttentionVariant };
    expect(() => compile(g, { tuning: bad })).to.throw(ArgumentError, /attention variant 'rows3' is not one of tiled, rows1, rows2, rows4/);
  });
});
