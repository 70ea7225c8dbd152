/** The fuzzer's own parts, on the CPU: the generator, the dataflow check, error scales and the minimizer. */

import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { attentionWeights } from '../../compiler/ops/attention.js';
import { convWeightGrad2d } from '../../compiler/ops/conv.js';
import { avgPoolGrad, maxPoolGrad } from '../../compiler/ops/pool.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { evaluateNodes, initialParams } from '../../compiler/reference.js';
import type { Tensor } from '../../compiler/tensor.js';
import { verify } from '../../compiler/verify.js';
import { testData } from '../helpers.js';
import { sizeOf } from '../../compiler/shape.js';
import { shapeOf } from './random-value.js';
import { errorScales } from './error-scale.js';
import { minimizeGraph } from './minimize.js';
import { planDataflowProblems } from './plan-dataflow.js';
import { randomGraph } from './random-graph.js';
import { Random } from './random.js';

describe('fuzzer tools', () => {
  describe('randomGraph', () => {
    it('builds the same graph and feeds from the same seed, and another graph from another seed', () => {
      const [a, b, c] = [randomGraph(42), randomGraph(42), randomGraph(43)];
      expect(a.graph.toString()).to.equal(b.graph.toString());
      expect(JSON.stringify(a.graph)).to.equal(JSON.stringify(b.graph));
      expect(Object.keys(a.feeds)).to.deep.equal(Object.keys(b.feeds));
      for (const name of Object.keys(a.feeds)) expect(Array.from(a.feeds[name]!)).to.deep.equal(Array.from(b.feeds[name]!));
      expect(c.graph.toString()).to.not.equal(a.graph.toString());
    });

    it('builds graphs that verify, stay finite and small, and use every kind of step', () => {
      const ops = new Set<string>();
      let differentiated = 0;
      for (let seed = 1; seed <= 60; seed++) {
        const { graph, feeds, differentiated: withGradients } = randomGraph(seed);
        verify(graph);
        if (withGradients) differentiated++;
        const ids = graph.nodes.map((n) => n.id);
        for (const value of evaluateNodes(graph, ids, { feeds, params: initialParams(graph) })) {
          expect(value.data.every(Number.isFinite), `seed ${seed}`).to.equal(true);
          expect(value.data.length).to.be.at.most(1200);
        }
        for (const node of graph.nodes) ops.add(node.op);
      }
      const layerOps = ['maxPool', 'avgPool', 'cumsum', 'attention', 'conv2d', 'convTranspose2d'];
      for (const op of ['matmul', 'sum', 'max', 'mean', 'softmax', 'logSoftmax', 'where', 'less', 'reshape', 'transpose', 'broadcastTo', 'exp', ...layerOps]) {
        expect(ops, op).to.include(op);
      }
      expect(differentiated).to.be.within(5, 40);
    });
  });

  describe('planDataflowProblems', () => {
    const chain = (): Plan => {
      const g = new Graph('chain');
      const x = g.input('x', [3, 5]);
      g.output('y', x.exp().sum(1).neg());
      return compile(g, { fuse: false });
    };

    it('finds nothing wrong with a sound plan', () => {
      expect(planDataflowProblems(chain())).to.deep.equal([]);
    });

    it('reports a kernel that reads a buffer no earlier kernel writes', () => {
      const plan = chain();
      const forward = plan.entries['forward']!;
      const swapped: Plan = { ...plan, entries: { ...plan.entries, forward: { ...forward, dispatches: [...forward.dispatches].reverse() } } };
      const problems = planDataflowProblems(swapped);
      expect(problems[0]!.kind).to.equal('reads an unwritten buffer');
      expect(problems[0]!.message).to.match(/^entry 'forward', kernel k\d+_neg \(neg\) reads #\d+ \(%\d+\), which no earlier kernel writes$/);
    });

    it('reports a kernel that binds one allocation read-only and writable', () => {
      const plan = chain();
      const neg = plan.kernels.find((k) => k.ops[0] === 'neg')!;
      const [read, written] = neg.bindings.map(({ buffer }) => buffer) as [number, number];
      const buffers = plan.buffers.map((b) => (b.id === written ? { ...b, allocation: plan.buffers[read]!.allocation } : b));
      const problems = planDataflowProblems({ ...plan, buffers });
      expect(problems.map((p) => p.kind)).to.deep.equal(['binds one allocation read-only and writable']);
    });
  });

  describe('errorScales', () => {
    it('keeps the magnitude of the terms a cancelling sum came from, and of an exp\'s result', () => {
      const g = new Graph('scales');
      const x = g.input('x', [289]);
      const total = x.sum();
      g.output('total', total);
      g.output('e', x.exp());
      const half = testData(144, 3, -8, 8);
      // Pairs that cancel, and a small remainder.
      const feeds = { x: [...half, ...half.map((v) => -v), 0.01] };
      const ids = g.nodes.map((n) => n.id);
      const values = new Map(evaluateNodes(g, ids, { feeds }).map((v, i) => [ids[i]!, v] as const));
      const scales = errorScales(g, values);
      const largest = Math.max(...feeds.x.map(Math.abs));
      expect(scales.get(x.id)).to.equal(0);
      // √289 · the terms' largest magnitude, far above the (cancelled) result.
      expect(scales.get(total.id)).to.be.closeTo(17 * largest, 1e-3);
      expect(scales.get(total.id)).to.be.above(10 * Math.abs(values.get(total.id)!.data[0]!));
      expect(scales.get(g.outputs.get('e')!)).to.be.closeTo(Math.exp(largest), 1e-2);
    });

    // A scale bounds the error an op passes on, in the rules' model of rounding errors
    // (independent, so that n of them add up to about √n times one): operand errors of at
    // most ε·(the operand's scale) change the result by an RMS of at most ε·its scale.
    // Each operand is neg(input), whose scale is its own magnitude; `exact` operands are
    // read as they are (a max pooling's x only picks positions, which the generator keeps
    // exact).
    const layerOps: [string, number[][], (operands: Tensor[]) => Tensor, number[]?][] = [
      ['cumsum', [[3, 17]], ([x]) => x!.cumsum(1)],
      ['reversed exclusive cumsum', [[17, 2]], ([x]) => x!.cumsum(0, { exclusive: true, reverse: true })],
      ['avgPool2d', [[2, 3, 5, 7]], ([x]) => x!.avgPool2d({ kernelSize: 3, stride: 1, padding: 1, countIncludePad: true })],
      ['maxPool1d', [[2, 3, 17]], ([x]) => x!.maxPool1d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true })],
      ['avgPoolGrad', [[2, 3, 5, 4]], ([dy]) => avgPoolGrad(dy!, { kernel: [3, 2], stride: [1, 1], padBefore: [1, 0], padAfter: [1, 1], ceilMode: false, countIncludePad: false, inputSize: [5, 4] })],
      ['maxPoolGrad', [[2, 3, 5, 4], [2, 3, 5, 3]], ([x, dy]) => maxPoolGrad(x!, dy!, { kernel: [3, 2], stride: [1, 1], padBefore: [1, 0], padAfter: [1, 0], ceilMode: false }), [0]],
      ['attention', [[2, 5, 3], [2, 7, 3], [7, 4]], ([q, k, v]) => q!.attention(k!, v!)],
      ['causal attention at a scale of 2', [[5, 17], [5, 17], [5, 2]], ([q, k, v]) => q!.attention(k!, v!, { causal: true, scale: 2 })],
      ['attentionWeights', [[3, 5, 3], [1, 7, 3]], ([q, k]) => attentionWeights(q!, k!)],
      ['grouped conv2d', [[2, 4, 5, 7], [6, 2, 3, 2]], ([x, w]) => x!.conv2d(w!, { groups: 2, padding: 1, dilation: [1, 2] })],
      ['strided convTranspose1d', [[2, 3, 17], [3, 2, 3]], ([x, w]) => x!.convTranspose1d(w!, { stride: 2, padding: 1, outputPadding: 1 })],
      ['convWeightGrad2d', [[3, 2, 5, 7], [3, 4, 5, 7]], ([x, dy]) => convWeightGrad2d(x!, dy!, { kernelSize: 3, padding: 1 })],
    ];
    for (const [name, shapes, build, exact = []] of layerOps) {
      it(`bounds the change in ${name} that errors of its operands' scales make`, () => {
        const g = new Graph(name);
        const inputs = shapes.map((shape, i) => g.input(`x${i}`, shape));
        const operands = inputs.map((x, i) => (exact.includes(i) ? x : x.neg()));
        const y = build(operands);
        const feeds = Object.fromEntries(inputs.map((x, i) => [x.name!, testData(sizeOf(shapeOf(x)), 10 + i, -2, 2)]));
        const ids = g.nodes.map((n) => n.id);
        const values = new Map(evaluateNodes(g, ids, { feeds }).map((v, i) => [ids[i]!, v] as const));
        const scales = errorScales(g, values);
        const epsilon = 1e-4;
        const rng = new Random(7);
        const nudged = Object.fromEntries(
          inputs.map((x, i) => [x.name!, feeds[x.name!]!.map((v) => v + epsilon * scales.get(operands[i]!.id)! * (2 * rng.next() - 1))]),
        );
        const [before, after] = [feeds, nudged].map((f) => evaluateNodes(g, [y.id], { feeds: f, precision: 'f64' })[0]!.data);
        const change = Math.sqrt(Array.from(before!).reduce((total, v, i) => total + (after![i]! - v) ** 2, 0) / before!.length);
        expect(change).to.be.greaterThan(0);
        expect(change).to.be.at.most(epsilon * scales.get(y.id)!);
      });
    }
  });

  describe('minimizeGraph', () => {
    it('shrinks a graph to the nodes a failure needs, as inputs and one output', async () => {
      const g = new Graph('big');
      const x = g.input('x', [4]);
      const w = g.param('w', [4], { init: 'normal' });
      const e = x.mul(w).exp();
      g.output('a', e.sin().add(x.square()));
      g.output('b', e.tanh().sum());
      // The "bug": a sin reading an exp.
      const failing = (graph: Graph): boolean => graph.nodes.some((n) => n.op === 'sin' && graph.node(n.inputs[0]!).op === 'exp');
      const small = await minimizeGraph(g, async (candidate) => failing(candidate));
      expect(small.nodes.map((n) => n.op)).to.deep.equal(['input', 'exp', 'sin']);
      expect([...small.outputs.keys()]).to.deep.equal(['a']);
    });
  });
});
