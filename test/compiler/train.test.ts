import { expect } from 'chai';
import { ArgumentError, FeedError, GraphError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import type { Optimizer } from '../../compiler/optim.js';
import { adam, adamw, sgd } from '../../compiler/optim.js';
import type { Precision } from '../../compiler/dtype.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import type { Tensor } from '../../compiler/tensor.js';
import { trainingProgram } from '../../compiler/train.js';
import { verify } from '../../compiler/verify.js';
import { expectClose, testData } from '../helpers.js';

// The seed MLP: 784 → 128 → ReLU → 64 → ReLU → 10, softmax cross-entropy (mean).
const BATCH = 8;
const LAYERS = [784, 128, 64, 10];
const PIXELS = testData(BATCH * 784, 11, 0, 1);
const LABELS = testData(BATCH, 12, 0, 10).map(Math.floor);

function mlp(): { graph: Graph; logits: Tensor; loss: Tensor; weights: Tensor[] } {
  const graph = new Graph('mlp', { seed: 42 });
  let h = graph.input('x', [BATCH, 784]);
  const labels = graph.input('labels', [BATCH], 'i32');
  const weights: Tensor[] = [];
  for (let l = 0; l < 3; l++) {
    const [fanIn, fanOut] = [LAYERS[l]!, LAYERS[l + 1]!];
    const w = graph.param(`w${l + 1}`, [fanIn, fanOut], { init: 'linearDefault' });
    const b = graph.param(`b${l + 1}`, [fanOut], { init: { kind: 'linearDefault', fanIn } });
    weights.push(w, b);
    h = h.matmul(w).add(b);
    if (l < 2) h = h.relu();
  }
  graph.output('logits', h);
  return { graph, logits: h, loss: h.softmaxCrossEntropy(labels), weights };
}

/**
 * The seed MLP's forward and backward pass written out by hand in float64 (no kiln):
 * dense layers, ReLU, and the softmax cross-entropy gradient (softmax − onehot)/N.
 */
function handLossAndGradients(params: number[][]): { loss: number; grads: number[][] } {
  const activations: number[][] = [PIXELS];
  const preActivations: number[][] = [];
  for (let l = 0; l < 3; l++) {
    const [n, m] = [LAYERS[l]!, LAYERS[l + 1]!];
    const [w, b, x] = [params[2 * l]!, params[2 * l + 1]!, activations[l]!];
    const z = new Array<number>(BATCH * m).fill(0);
    for (let r = 0; r < BATCH; r++) {
      for (let j = 0; j < m; j++) {
        let s = b[j]!;
        for (let k = 0; k < n; k++) s += x[r * n + k]! * w[k * m + j]!;
        z[r * m + j] = s;
      }
    }
    preActivations.push(z);
    activations.push(l < 2 ? z.map((v) => (v > 0 ? v : 0)) : z);
  }
  const logits = activations[3]!;
  let loss = 0;
  let delta = new Array<number>(BATCH * 10);
  for (let r = 0; r < BATCH; r++) {
    const row = logits.slice(r * 10, r * 10 + 10);
    const max = Math.max(...row);
    const total = row.reduce((s, v) => s + Math.exp(v - max), 0);
    loss -= (row[LABELS[r]!]! - max - Math.log(total)) / BATCH;
    row.forEach((v, j) => (delta[r * 10 + j] = (Math.exp(v - max) / total - (j === LABELS[r] ? 1 : 0)) / BATCH));
  }
  const grads: number[][] = new Array<number[]>(6);
  for (let l = 2; l >= 0; l--) {
    const [n, m] = [LAYERS[l]!, LAYERS[l + 1]!];
    const [w, x] = [params[2 * l]!, activations[l]!];
    const gw = new Array<number>(n * m).fill(0);
    const gb = new Array<number>(m).fill(0);
    for (let r = 0; r < BATCH; r++) {
      for (let j = 0; j < m; j++) {
        const d = delta[r * m + j]!;
        gb[j] += d;
        for (let k = 0; k < n; k++) gw[k * m + j] += x[r * n + k]! * d;
      }
    }
    grads[2 * l] = gw;
    grads[2 * l + 1] = gb;
    if (l > 0) {
      const below = new Array<number>(BATCH * n).fill(0);
      for (let r = 0; r < BATCH; r++) {
        for (let k = 0; k < n; k++) {
          if (!(preActivations[l - 1]![r * n + k]! > 0)) continue;
          let s = 0;
          for (let j = 0; j < m; j++) s += delta[r * m + j]! * w[k * m + j]!;
          below[r * n + k] = s;
        }
      }
      delta = below;
    }
  }
  return { loss, grads };
}

/** torch.optim.SGD(lr, momentum) by hand: the buffer is a copy of g on the first step. */
function handMomentumStep(params: number[][], grads: number[][], buffers: number[][], lr: number, momentum: number): void {
  params.forEach((p, k) => {
    const g = grads[k]!;
    buffers[k] = buffers[k] ? buffers[k]!.map((v, i) => momentum * v + g[i]!) : [...g];
    p.forEach((_, i) => (p[i] = p[i]! - lr * buffers[k]![i]!));
  });
}

const NAMES = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3'];

/** Trains the seed MLP 3 steps in kiln and by hand, comparing each loss, every parameter and every momentum buffer. */
function compareSeedMlp(precision: Precision, rtol: number, atol: number): void {
  const { graph, loss } = mlp();
  const program = trainingProgram(graph, { loss, optimizer: sgd({ lr: 0.01, momentum: 0.9 }) });
  const session = new ReferenceSession(program, { precision });
  // Both start from the same (f64) initial weights.
  const start = new ReferenceSession(program, { precision: 'f64' }).params;
  const params = NAMES.map((name) => Array.from(start[name]!.data));
  session.setParams(Object.fromEntries(NAMES.map((name, k) => [name, params[k]!])));
  const buffers: number[][] = [];
  for (let step = 0; step < 3; step++) {
    const { loss: expected, grads } = handLossAndGradients(params);
    const out = session.trainStep({ x: PIXELS, labels: LABELS });
    expectClose(out['loss']!.data, [expected], rtol, atol);
    handMomentumStep(params, grads, buffers, 0.01, 0.9);
  }
  NAMES.forEach((name, k) => {
    expectClose(session.params[name]!.data, params[k]!, rtol, atol);
    expectClose(session.params[`${name}.momentum`]!.data, buffers[k]!, rtol, atol);
  });
}

describe('training the seed MLP', () => {
  it('matches a hand-written float64 PyTorch-semantics SGD-momentum loop: loss and every parameter over 3 steps (f64)', () => {
    // Measured: 1.7e-14 relative, 4.4e-16 absolute at worst.
    compareSeedMlp('f64', 1e-12, 1e-14);
  });

  it('matches the same float64 loop within f32 rounding when kiln computes in f32 (rtol 2e-5, atol 1e-6)', () => {
    // Measured: 2.3e-6 relative, 1.1e-7 absolute at worst.
    compareSeedMlp('f32', 2e-5, 1e-6);
  });
});

describe('trainingProgram', () => {
  it('forward returns only the declared outputs and applies no update; trainStep returns only the loss by default', () => {
    const { graph, loss } = mlp();
    const program = trainingProgram(graph, { loss, optimizer: sgd({ lr: 0.1, momentum: 0.9 }) });
    expect(program.forward.assignments).to.deep.equal([]);
    const session = new ReferenceSession(program);
    const before = session.params;
    // The logits need no labels: forward runs only what its outputs depend on.
    const out = session.forward({ x: PIXELS });
    expect(Object.keys(out)).to.deep.equal(['logits']);
    expect(out['logits']!.shape).to.deep.equal([BATCH, 10]);
    expect(session.params).to.equal(before);
    // The graph's own outputs are forward's; trainStep returns only the loss unless asked.
    expect(Object.keys(session.trainStep({ x: PIXELS, labels: LABELS }))).to.deep.equal(['loss']);
  });

  it('trainStep returns the loss and the requested outputs, computed before the update, and applies it', () => {
    const { graph, loss, logits } = mlp();
    const program = trainingProgram(graph, { loss, optimizer: sgd({ lr: 0.1 }), outputs: { logits } });
    const session = new ReferenceSession(program);
    const feeds = { x: PIXELS, labels: LABELS };
    const forward = session.forward(feeds);
    const step = session.trainStep(feeds);
    expect(Object.keys(step)).to.deep.equal(['loss', 'logits']);
    expect(Array.from(step['logits']!.data)).to.deep.equal(Array.from(forward['logits']!.data));
    expect(session.trainStep(feeds)['loss']!.data[0]).to.be.below(step['loss']!.data[0]!);
  });

  it('updates only the listed params and leaves the others fixed', () => {
    const { graph, loss, weights } = mlp();
    const [, , w2, b2] = weights;
    const program = trainingProgram(graph, { loss, optimizer: sgd({ lr: 0.1, momentum: 0.9 }), params: [w2!, b2!] });
    expect(program.params.map((p) => p.name)).to.deep.equal(['w2', 'b2']);
    const targets = program.trainStep.assignments.map(([target]) => graph.node(target).name);
    expect(targets).to.deep.equal(['w2.momentum', 'w2', 'b2.momentum', 'b2']);
    const session = new ReferenceSession(program);
    const before = session.params;
    session.trainStep({ x: PIXELS, labels: LABELS });
    for (const name of ['w1', 'b1', 'w3', 'b3']) expect(session.params[name]).to.equal(before[name]);
    expect(Array.from(session.params['w2']!.data)).not.to.deep.equal(Array.from(before['w2']!.data));
  });

  it('skips params the loss does not depend on, as PyTorch skips params without a gradient', () => {
    const g = new Graph('heads');
    const w = g.param('w', [2], { init: 'ones' });
    const aux = g.param('aux', [2], { init: 'ones' });
    g.output('aux', aux.sum());
    const program = trainingProgram(g, { loss: w.sum(), optimizer: adamw({ lr: 0.1, weightDecay: 0.5 }) });
    expect(program.params.map((p) => p.name)).to.deep.equal(['w']);
    const session = new ReferenceSession(program);
    session.trainStep({});
    // AdamW would decay aux if it were updated with a zero gradient.
    expect(Array.from(session.params['aux']!.data)).to.deep.equal([1, 1]);
    expect(session.params).not.to.have.property('aux.adam.m');
    expect(() => trainingProgram(g, { loss: w.sum(), optimizer: sgd({ lr: 0.1 }), params: [aux] })).to.throw(
      ArgumentError,
      "trainingProgram: the loss does not depend on param 'aux'; remove it from params.",
    );
    const constant = g.constant(2).mul(3);
    expect(() => trainingProgram(g, { loss: constant, optimizer: sgd({ lr: 0.1 }) })).to.throw(
      GraphError,
      "trainingProgram: the loss depends on none of the params of graph 'heads'; there is nothing to train.",
    );
  });

  it('leaves a graph that verifies and prints its update edges', () => {
    const { graph, loss } = mlp();
    trainingProgram(graph, { loss, optimizer: sgd({ lr: 0.01, momentum: 0.9 }) });
    verify(graph);
    const text = graph.toString();
    for (const name of NAMES) {
      expect(text).to.match(new RegExp(`^  assign ${name} <- %\\d+$`, 'm'));
      expect(text).to.match(new RegExp(`^  assign ${name}\\.momentum <- %\\d+$`, 'm'));
    }
    expect(text).to.match(/^  state w1\.momentum:f32\[784,128\] ~ zeros$/m);
  });

  it('rejects a bad loss, bad params, bad outputs and a bad optimizer, leaving the graph unchanged', () => {
    const { graph, loss, logits, weights } = mlp();
    const optimizer = sgd({ lr: 0.1 });
    const nodes = graph.nodes.length;
    const other = new Graph('other');
    const foreign = other.param('v', []).sum();
    const x = graph.get('x');
    const cases: [() => unknown, typeof ArgumentError, string][] = [
      [
        () => trainingProgram(graph, { loss: logits, optimizer }),
        ArgumentError,
        `trainingProgram: the loss must be a scalar f32, got ${logits.toString()}. Reduce it (e.g. .mean()) first.`,
      ],
      [
        () => trainingProgram(graph, { loss: foreign, optimizer }),
        ArgumentError,
        `trainingProgram: loss must be a Tensor of graph 'mlp'; got ${foreign.toString()} of graph 'other'.`,
      ],
      [() => trainingProgram(graph, { loss: 1 as never, optimizer }), ArgumentError, "trainingProgram: loss must be a Tensor of graph 'mlp'; got number."],
      [() => trainingProgram(graph, { loss, optimizer: {} as never }), ArgumentError, 'trainingProgram: optimizer must be made by sgd(), adam() or adamw().'],
      [() => trainingProgram(graph, { loss, optimizer: sgd as never }), ArgumentError, 'trainingProgram: optimizer must be made by sgd(), adam() or adamw().'],
      [
        () => trainingProgram(graph, { loss, optimizer, params: [] }),
        ArgumentError,
        'trainingProgram: params must be a non-empty array of params (omit it to train every param).',
      ],
      [
        () => trainingProgram(graph, { loss, optimizer, params: [x] }),
        ArgumentError,
        "trainingProgram: params must be params of graph 'mlp'; got x:f32[8,784] of graph 'mlp'.",
      ],
      [
        () => trainingProgram(graph, { loss, optimizer, params: [weights[0]!, weights[0]!] }),
        ArgumentError,
        "trainingProgram: param 'w1' is listed twice.",
      ],
      [
        () => trainingProgram(graph, { loss, optimizer, outputs: { loss: logits } }),
        ArgumentError,
        "trainingProgram: 'loss' is always returned; name other outputs differently.",
      ],
      [
        () => trainingProgram(graph, { loss, optimizer, outputs: { other: foreign } }),
        ArgumentError,
        `trainingProgram: output 'other' must be a Tensor of graph 'mlp'; got ${foreign.toString()} of graph 'other'.`,
      ],
    ];
    for (const [call, kind, message] of cases) expect(call).to.throw(kind, message);
    expect(graph.nodes.length).to.equal(nodes);
    expect(graph.assignments.size).to.equal(0);

    const empty = new Graph('empty');
    const z = empty.input('z', [3]);
    expect(() => trainingProgram(empty, { loss: z.sum(), optimizer })).to.throw(GraphError, "trainingProgram: graph 'empty' has no params to train.");
  });
});

describe('ReferenceSession', () => {
  const tiny = () => {
    const g = new Graph('tiny');
    const w = g.param('w', [2], { init: 'ones' });
    return trainingProgram(g, { loss: w.mul(w).sum(), optimizer: sgd({ lr: 0.25, momentum: 0.5 }) });
  };

  it('replaces params and state from flat numbers or host arrays, copying them', () => {
    const session = new ReferenceSession(tiny(), { precision: 'f64' });
    const values = [3, -1];
    session.setParams({ w: values, 'w.momentum': { shape: [2], dtype: 'f32', data: new Float64Array([1, 1]) } });
    values[0] = 100;
    expect(Array.from(session.params['w']!.data)).to.deep.equal([3, -1]);
    session.trainStep({});
    // v = 0.5·1 + 2w = [6.5, -1.5]; w = w − 0.25·v.
    expect(Array.from(session.params['w.momentum']!.data)).to.deep.equal([6.5, -1.5]);
    expect(Array.from(session.params['w']!.data)).to.deep.equal([3 - 0.25 * 6.5, -1 + 0.25 * 1.5]);
  });

  it('rejects unknown names, wrong types and wrong sizes, and an unknown precision', () => {
    const session = new ReferenceSession(tiny());
    expect(() => session.setParams({ v: [1, 2] })).to.throw(FeedError, "setParams: 'v' is not a param or state of graph 'tiny'. Known: w, w.momentum.");
    expect(() => session.setParams({ w: [1, 2, 3] })).to.throw(FeedError, "setParams: 'w' is f32[2] (2 values), got 3 values.");
    expect(() => session.setParams({ w: { shape: [1, 2], dtype: 'f32', data: new Float32Array(2) } })).to.throw(
      FeedError,
      "setParams: 'w' is f32[2], got f32[1,2].",
    );
    expect(() => new ReferenceSession(tiny(), { precision: 'f16' as never })).to.throw(
      ArgumentError,
      "ReferenceSession: precision must be 'f32' or 'f64', got 'f16'.",
    );
  });
});

describe('a small training loop', () => {
  // Two classes on either side of the line x0 + 2·x1 = 0.25, with a margin of 0.1.
  const points = testData(2 * 200, 31, -1, 1);
  const data: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 200 && labels.length < 64; i++) {
    const [a, b] = [points[2 * i]!, points[2 * i + 1]!];
    const side = a + 2 * b - 0.25;
    if (Math.abs(side) < 0.1) continue;
    data.push(a, b);
    labels.push(side > 0 ? 1 : 0);
  }

  function train(optimizer: Optimizer, steps: number): { first: number; last: number; accuracy: number } {
    const g = new Graph('separable', { seed: 3 });
    const x = g.input('x', [64, 2]);
    const y = g.input('y', [64], 'i32');
    const w1 = g.param('w1', [2, 16], { init: 'linearDefault' });
    const b1 = g.param('b1', [16], { init: { kind: 'linearDefault', fanIn: 2 } });
    const w2 = g.param('w2', [16, 2], { init: 'linearDefault' });
    const b2 = g.param('b2', [2], { init: { kind: 'linearDefault', fanIn: 16 } });
    const logits = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
    const accuracy = logits.argmax(-1).equal(y).cast('f32').mean();
    const session = new ReferenceSession(trainingProgram(g, { loss: logits.softmaxCrossEntropy(y), optimizer, outputs: { accuracy } }));
    const losses: number[] = [];
    let out = {} as ReturnType<ReferenceSession['trainStep']>;
    for (let s = 0; s < steps; s++) {
      out = session.trainStep({ x: data, y: labels });
      losses.push(out['loss']!.data[0]!);
    }
    return { first: losses[0]!, last: losses[steps - 1]!, accuracy: out['accuracy']!.data[0]! };
  }

  it('has 64 points of two classes', () => {
    expect(labels).to.have.length(64);
    expect(labels.filter((l) => l === 1).length).to.be.within(16, 48);
  });

  it('drives a 2-layer MLP below loss 0.05 and to full accuracy in 60 Adam steps (f32)', () => {
    const { first, last, accuracy } = train(adam({ lr: 0.05 }), 60);
    expect(first).to.be.above(0.5);
    expect(last).to.be.below(0.05);
    expect(accuracy).to.equal(1);
  });

  it('drives it below loss 0.05 in 100 steps of SGD with momentum and a warmup-cosine schedule (f32)', () => {
    const { first, last, accuracy } = train(sgd({ lr: { kind: 'cosine', lr: 0.5, totalSteps: 100, warmupSteps: 10 }, momentum: 0.9 }), 100);
    expect(first).to.be.above(0.5);
    expect(last).to.be.below(0.05);
    expect(accuracy).to.equal(1);
  });
});
