import { expect } from 'chai';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { logSoftmax, softmax, softmaxCrossEntropy } from '../../compiler/ops/nn.js';
import { layerNorm, rmsNorm } from '../../compiler/ops/norm.js';
import { compile } from '../../compiler/plan.js';
import { initialParams, interpret } from '../../compiler/reference.js';
import type { HostValue } from '../../compiler/reference.js';
import type { Feed } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { gpu } from '../gpu/harness.js';
import { expectClose, testData } from '../helpers.js';

/**
 * Runs the graph's outputs on the GPU in a run checked for NaN and ±Infinity (so every
 * intermediate, not only the outputs, must be finite), compares them with the f64
 * reference on the same f32 inputs, and returns them.
 */
async function expectFiniteAndAccurate(graph: Graph, feeds: Record<string, Float32Array | Int32Array>, rtol: number, atol: number) {
  const { device, limits } = await gpu();
  const session = await Session.create(device, compile(graph, { limits }));
  try {
    const params = initialParams(graph);
    if (Object.keys(params).length > 0) await session.setParams(params as Record<string, Feed>);
    const outputs = await session.forward(feeds, { checkNumerics: true });
    const reference = interpret(graph, { feeds: feeds as Record<string, HostValue>, params, precision: 'f64' });
    for (const [name, expected] of Object.entries(reference)) {
      expect([...outputs[name]!.data].every(Number.isFinite), `${name} is finite`).to.equal(true);
      expectClose(outputs[name]!.data, expected.data, rtol, atol);
    }
    return outputs;
  } finally {
    session.destroy();
  }
}

/** Logits of ±1e4: random rows, rows of one repeated 1e4, and rows where the label's logit is −1e4 and another's +1e4. */
function extremeLogits(rows: number, classes: number, seed: number): { logits: Float32Array; labels: Int32Array } {
  const logits = Float32Array.from(testData(rows * classes, seed, -1e4, 1e4));
  const labels = Int32Array.from(testData(rows, seed + 1, 0, classes), Math.floor);
  for (let r = 0; r < rows; r += 3) logits.fill(1e4, r * classes, (r + 1) * classes);
  for (let r = 1; r < rows; r += 3) {
    logits.fill(-1e4, r * classes, (r + 1) * classes);
    logits[r * classes + ((labels[r]! + 1) % classes)] = 1e4;
  }
  return { logits, labels };
}

/** softmax, logSoftmax, logsumexp and softmax cross-entropy with its gradient, of [rows, classes]. */
function softmaxFamily(rows: number, classes: number): Graph {
  const g = new Graph('softmax_family');
  const x = g.input('x', [rows, classes]);
  const labels = g.input('labels', [rows], 'i32');
  const loss = softmaxCrossEntropy(x, labels);
  g.output('softmax', softmax(x));
  g.output('logSoftmax', logSoftmax(x));
  g.output('logsumexp', x.logsumexp(-1));
  g.output('rowLosses', softmaxCrossEntropy(x, labels, { reduction: 'none' }));
  g.output('loss', loss);
  g.output('dLogits', grad(loss, [x])[0]!);
  return g;
}

describe('numerical stability on the GPU at extreme inputs, every intermediate checked finite', function () {
  this.timeout(120000);

  for (const [rows, classes] of [
    [2049, 10],
    [3, 1000],
  ] as const) {
    it(`softmax, logSoftmax, logsumexp and softmax cross-entropy with its gradient, at logits of ±1e4 (${rows} rows of ${classes})`, async () => {
      const { logits, labels } = extremeLogits(rows, classes, rows);
      // Measured against f64: 3e-6 relative at most (softmax), logSoftmax's −2e4 within one f32 ulp.
      const out = await expectFiniteAndAccurate(softmaxFamily(rows, classes), { x: logits, labels }, 1e-5, 1e-6);
      // A row whose label's logit is −1e4 against another's +1e4 costs 2e4, exactly.
      expect(out['rowLosses']!.data[1]).to.equal(2e4);
      // A row of equal logits: uniform probabilities, loss log(classes).
      expect(out['softmax']!.data[0]).to.be.closeTo(1 / classes, 1e-7);
      expect(out['rowLosses']!.data[0]).to.be.closeTo(Math.log(classes), 1e-5);
    });
  }

  it('layerNorm and rmsNorm with their gradients (input, gamma, beta) at inputs of ±1e4 over 1025 rows, constant rows included', async () => {
    const [rows, width] = [1025, 37];
    const g = new Graph('norms', { seed: 8 });
    const x = g.input('x', [rows, width]);
    const cotangent = g.input('cotangent', [rows, width]);
    const gamma = g.param('gamma', [width], { init: { kind: 'uniform', low: 0.5, high: 1.5 } });
    const beta = g.param('beta', [width], { init: { kind: 'uniform', low: -1, high: 1 } });
    const normalized = layerNorm(x, { gamma, beta }).mul(cotangent).sum().add(rmsNorm(x, { gamma }).mul(cotangent).sum());
    const [dx, dGamma, dBeta] = grad(normalized, [x, gamma, beta]);
    g.output('layerNorm', layerNorm(x, { gamma, beta }));
    g.output('rmsNorm', rmsNorm(x, { gamma }));
    g.output('dx', dx!);
    g.output('dGamma', dGamma!);
    g.output('dBeta', dBeta!);
    const data = Float32Array.from(testData(rows * width, 21, -1e4, 1e4));
    // Constant rows (zero variance: layerNorm gives beta, its gradient stays finite through epsilon).
    for (let r = 0; r < rows; r += 4) data.fill(r % 8 === 0 ? 1e4 : -1e4, r * width, (r + 1) * width);
    // f32 sums over 1025 rows against the f64 reference: measured 8e-5 absolute on dx (up to 511), 1.4e-5 on dGamma.
    await expectFiniteAndAccurate(g, { x: data, cotangent: Float32Array.from(testData(rows * width, 22)) }, 1e-4, 2e-4);
  });
});
