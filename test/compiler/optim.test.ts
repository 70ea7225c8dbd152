import { expect } from 'chai';
import { ArgumentError, GraphError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import type { LearningRateSchedule, Optimizer } from '../../compiler/optim.js';
import { STEP_COUNTER, adam, adamw, clipGradNorm, learningRate, sgd, stepCounter } from '../../compiler/optim.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { trainingProgram } from '../../compiler/train.js';
import { verify } from '../../compiler/verify.js';
import { expectClose, testData, values } from '../helpers.js';

// The quadratic every update rule is checked on: two params, so state naming, per-param
// updates and the global clipping norm all show.
//   loss = ½·Σ (a⊙w − c)² + Σ (b − d)²,  ∂/∂w = a⊙(a⊙w − c),  ∂/∂b = 2(b − d)
const A = testData(6, 21, 0.5, 2);
const C = testData(6, 22, -1, 1);
const D = testData(3, 23, -1, 1);

function quadraticSession(optimizer: Optimizer): ReferenceSession {
  const g = new Graph('quadratic', { seed: 5 });
  const w = g.param('w', [2, 3], { init: { kind: 'uniform', low: -1, high: 1 } });
  const b = g.param('b', [3], { init: { kind: 'constant', value: 0.5 } });
  const r = w.mul(g.constant(A, { shape: [2, 3] })).sub(g.constant(C, { shape: [2, 3] }));
  const s = b.sub(g.constant(D, { shape: [3] }));
  const loss = r.mul(r).sum().mul(0.5).add(s.mul(s).sum());
  const program = trainingProgram(g, { loss, optimizer });
  verify(g);
  return new ReferenceSession(program, { precision: 'f64' });
}

function quadratic(w: readonly number[], b: readonly number[]): { loss: number; grads: number[][] } {
  let loss = 0;
  const gw = w.map((wi, i) => {
    const r = A[i]! * wi - C[i]!;
    loss += 0.5 * r * r;
    return A[i]! * r;
  });
  const gb = b.map((bi, j) => {
    loss += (bi - D[j]!) ** 2;
    return 2 * (bi - D[j]!);
  });
  return { loss, grads: [gw, gb] };
}

/** A hand-written update: mutates `params` given `grads` on 1-based step `t`. */
type HandStep = (params: number[][], grads: number[][], t: number) => void;

/**
 * Runs `steps` training steps of `optimizer` on the reference interpreter (f64) and the
 * hand-written `step` side by side, comparing the loss and every parameter after each.
 */
function expectSameSteps(optimizer: Optimizer, step: HandStep, steps = 5, rtol = 1e-12): ReferenceSession {
  const session = quadraticSession(optimizer);
  const params = [Array.from(session.params['w']!.data), Array.from(session.params['b']!.data)];
  for (let t = 1; t <= steps; t++) {
    const { loss, grads } = quadratic(params[0]!, params[1]!);
    const out = session.trainStep({});
    expectClose(out['loss']!.data, [loss], rtol, 1e-14);
    step(params, grads, t);
    expectClose(session.params['w']!.data, params[0]!, rtol, 1e-14);
    expectClose(session.params['b']!.data, params[1]!, rtol, 1e-14);
  }
  return session;
}

/** torch.optim.SGD's single-tensor loop, transcribed: the buffer is a copy of g on the first step. */
function handSgd(o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }): HandStep {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = o;
  const buffers: (number[] | undefined)[] = [];
  return (params, grads) => {
    params.forEach((p, k) => {
      let d = grads[k]!.map((g, i) => g + weightDecay * p[i]!);
      if (momentum !== 0) {
        const previous = buffers[k];
        const buf = previous ? previous.map((v, i) => momentum * v + (1 - dampening) * d[i]!) : [...d];
        buffers[k] = buf;
        d = nesterov ? d.map((g, i) => g + momentum * buf[i]!) : buf;
      }
      p.forEach((_, i) => (p[i] = p[i]! - lr * d[i]!));
    });
  };
}

/** Adam/AdamW as published (Kingma & Ba; Loshchilov & Hutter), element by element. */
function handAdam(o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }): HandStep {
  const m: number[][] = [];
  const v: number[][] = [];
  return (params, grads, t) => {
    params.forEach((p, k) => {
      m[k] ??= p.map(() => 0);
      v[k] ??= p.map(() => 0);
      p.forEach((pi, i) => {
        const g = grads[k]![i]! + (o.decoupled ? 0 : o.weightDecay * pi);
        m[k]![i] = o.beta1 * m[k]![i]! + (1 - o.beta1) * g;
        v[k]![i] = o.beta2 * v[k]![i]! + (1 - o.beta2) * g * g;
        const mHat = m[k]![i]! / (1 - o.beta1 ** t);
        const vHat = v[k]![i]! / (1 - o.beta2 ** t);
        const decayed = o.decoupled ? pi * (1 - o.lr * o.weightDecay) : pi;
        p[i] = decayed - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
      });
    });
  };
}

describe('sgd', () => {
  it('takes plain gradient steps p ← p − lr·g', () => {
    expectSameSteps(sgd({ lr: 0.1 }), handSgd({ lr: 0.1 }));
  });

  it('adds the L2 weight-decay term wd·p to the gradient', () => {
    expectSameSteps(sgd({ lr: 0.1, weightDecay: 0.2 }), handSgd({ lr: 0.1, weightDecay: 0.2 }));
  });

  it('accumulates momentum v ← μ·v + g and steps along v, with the buffer named after the param', () => {
    const session = expectSameSteps(sgd({ lr: 0.05, momentum: 0.9 }), handSgd({ lr: 0.05, momentum: 0.9 }));
    expect(Object.keys(session.params).sort()).to.deep.equal(['b', 'b.momentum', 'w', 'w.momentum']);
  });

  it('dampens momentum after the first step and copies the gradient on the first, as PyTorch does', () => {
    const o = { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.1 };
    expectSameSteps(sgd(o), handSgd(o));
    // The first step alone tells PyTorch's copy (v = g) from a dampened one (v = 0.7·g).
    const session = quadraticSession(sgd({ lr: 0.05, momentum: 0.9, dampening: 0.3 }));
    const { grads } = quadratic(Array.from(session.params['w']!.data), [0.5, 0.5, 0.5]);
    session.trainStep({});
    expectClose(session.params['w.momentum']!.data, grads[0]!, 1e-15, 0);
    expect(session.params[STEP_COUNTER]!.data[0]).to.equal(1);
  });

  it('steps along g + μ·v with Nesterov momentum', () => {
    const o = { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.05 };
    expectSameSteps(sgd(o), handSgd(o));
  });

  it('keeps no step counter when nothing depends on the step', () => {
    const session = quadraticSession(sgd({ lr: 0.1, momentum: 0.9 }));
    expect(session.params).not.to.have.property(STEP_COUNTER);
  });

  it('rejects bad hyper-parameters with the rule they break', () => {
    const cases: [() => unknown, string][] = [
      [() => sgd(undefined as never), 'sgd: options must be an object, e.g. sgd({lr: 0.01}); got undefined.'],
      [() => sgd({} as never), "sgd: lr must be a number or a schedule {kind: 'constant' | 'step' | 'exponential' | 'cosine', lr, ...}, got undefined."],
      [() => sgd({ lr: -1 }), 'sgd: lr must be a finite number ≥ 0, got -1.'],
      [() => sgd({ lr: Infinity }), 'sgd: lr must be a finite number ≥ 0, got Infinity.'],
      [() => sgd({ lr: '0.1' as never }), "sgd: lr must be a number or a schedule {kind: 'constant' | 'step' | 'exponential' | 'cosine', lr, ...}, got 0.1."],
      [() => sgd({ lr: 0.1, momentum: -0.5 }), 'sgd: momentum must be a finite number ≥ 0, got -0.5.'],
      [() => sgd({ lr: 0.1, dampening: 1.5 }), 'sgd: dampening must be a finite number in [0, 1], got 1.5.'],
      [() => sgd({ lr: 0.1, weightDecay: NaN }), 'sgd: weightDecay must be a finite number ≥ 0, got NaN.'],
      [() => sgd({ lr: 0.1, nesterov: 'yes' as never }), 'sgd: nesterov must be true or false, got yes.'],
      [() => sgd({ lr: 0.1, nesterov: true }), 'sgd: Nesterov momentum requires a momentum and zero dampening (got momentum 0, dampening 0).'],
      [
        () => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
        'sgd: Nesterov momentum requires a momentum and zero dampening (got momentum 0.9, dampening 0.1).',
      ],
      [() => sgd({ lr: 0.1, clipGradNorm: 0 }), 'sgd: clipGradNorm must be a finite number > 0, got 0.'],
      [
        () => sgd({ lr: 0.1, learningRate: 0.1 } as never),
        "sgd: unknown option 'learningRate'. Options: lr, momentum, dampening, nesterov, weightDecay, clipGradNorm.",
      ],
    ];
    for (const [make, message] of cases) expect(make).to.throw(ArgumentError, message);
  });

  it('checks what it is applied to', () => {
    const g = new Graph('g');
    const w = g.param('w', [2, 3]);
    const x = g.input('x', [3]);
    const opt = sgd({ lr: 0.1 });
    expect(() => opt.apply(g, [w], [])).to.throw(ArgumentError, 'sgd.apply: 1 params but 0 gradients; give one gradient per param.');
    expect(() => opt.apply(g, [x], [x])).to.throw(ArgumentError, "sgd.apply: params must be params of graph 'g'; got x:f32[3].");
    expect(() => opt.apply(g, [w], [x])).to.throw(
      ArgumentError,
      'sgd.apply: the gradient of w:f32[2,3] must be a Tensor of its type in the same graph; got x:f32[3].',
    );
  });
});

describe('adam and adamw', () => {
  const o = { lr: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-3 };

  it('follow the published Adam update with bias correction and L2 weight decay, step by step', () => {
    const session = expectSameSteps(adam({ ...o, weightDecay: 0.1 }), handAdam({ ...o, weightDecay: 0.1, decoupled: false }));
    expect(Object.keys(session.params).sort()).to.deep.equal(['b', 'b.adam.m', 'b.adam.v', 'optimizer.step', 'w', 'w.adam.m', 'w.adam.v']);
    expect(session.params[STEP_COUNTER]!.data[0]).to.equal(5);
  });

  it('follow the published AdamW update with decoupled weight decay, step by step', () => {
    expectSameSteps(adamw({ ...o, weightDecay: 0.1 }), handAdam({ ...o, weightDecay: 0.1, decoupled: true }));
  });

  it("use PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8; wd 0 for Adam and 1e-2 for AdamW", () => {
    const defaults = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    expectSameSteps(adam(), handAdam({ ...defaults, weightDecay: 0, decoupled: false }), 3);
    expectSameSteps(adamw(), handAdam({ ...defaults, weightDecay: 1e-2, decoupled: true }), 3);
  });

  it('rejects bad hyper-parameters with the rule they break', () => {
    const cases: [() => unknown, string][] = [
      [() => adam({ beta1: 1 }), 'adam: beta1 must be a finite number in [0, 1), got 1.'],
      [() => adam({ beta2: -0.1 }), 'adam: beta2 must be a finite number in [0, 1), got -0.1.'],
      [() => adam({ eps: -1e-8 }), 'adam: eps must be a finite number ≥ 0, got -1e-8.'],
      [() => adam({ lr: -0.001 }), 'adam: lr must be a finite number ≥ 0, got -0.001.'],
      [() => adamw({ weightDecay: -0.01 }), 'adamw: weightDecay must be a finite number ≥ 0, got -0.01.'],
      [() => adamw({ clipGradNorm: -1 }), 'adamw: clipGradNorm must be a finite number > 0, got -1.'],
      [
        () => adam({ betas: [0.9, 0.99] } as never),
        "adam: unknown option 'betas'. Options: lr, beta1, beta2, eps, weightDecay, clipGradNorm.",
      ],
    ];
    for (const [make, message] of cases) expect(make).to.throw(ArgumentError, message);
  });
});

describe('gradient clipping', () => {
  const globalNorm = (grads: number[][]): number => Math.sqrt(grads.flat().reduce((s, g) => s + g * g, 0));

  it('scales every gradient by maxNorm/(norm + 1e-6) when the global norm exceeds maxNorm', () => {
    const probe = quadraticSession(sgd({ lr: 0.1 }));
    const { grads } = quadratic(Array.from(probe.params['w']!.data), [0.5, 0.5, 0.5]);
    const norm = globalNorm(grads);
    const maxNorm = norm / 4;
    const coefficient = maxNorm / (norm + 1e-6);
    const hand = handSgd({ lr: 0.1, momentum: 0.5 });
    expectSameSteps(
      sgd({ lr: 0.1, momentum: 0.5, clipGradNorm: maxNorm }),
      (params, g, t) => {
        const c = Math.min(1, maxNorm / (globalNorm(g) + 1e-6));
        if (t === 1) expect(c).to.equal(coefficient);
        hand(params, g.map((row) => row.map((x) => x * c)), t);
      },
      3,
    );
    expect(coefficient).to.be.below(0.3);
    // After one step the momentum buffer is the clipped gradient: its global norm is maxNorm (less 1e-6 relative).
    const once = quadraticSession(sgd({ lr: 0.1, momentum: 0.5, clipGradNorm: maxNorm }));
    once.trainStep({});
    const buffer = [Array.from(once.params['w.momentum']!.data), Array.from(once.params['b.momentum']!.data)];
    expect(globalNorm(buffer)).to.be.closeTo(maxNorm, 1e-6 * maxNorm);
  });

  it('leaves gradients unchanged when the global norm is below maxNorm', () => {
    const probe = quadraticSession(sgd({ lr: 0.1 }));
    const { grads } = quadratic(Array.from(probe.params['w']!.data), [0.5, 0.5, 0.5]);
    const maxNorm = 10 * globalNorm(grads);
    expectSameSteps(adam({ lr: 0.1, clipGradNorm: maxNorm }), handAdam({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }), 3);
  });

  it('clips a list of gradients to the given global norm', () => {
    const g = new Graph('g');
    const a = g.constant([3, 0]);
    const b = g.constant([[0, 4]]);
    const [ca, cb] = clipGradNorm([a, b], 1);
    expectClose(values(ca!, { precision: 'f64' }), [3 / (5 + 1e-6), 0], 1e-15, 0);
    expectClose(values(cb!, { precision: 'f64' }), [0, 4 / (5 + 1e-6)], 1e-15, 0);
    const [same] = clipGradNorm([a], 10);
    expect(values(same!, { precision: 'f64' })).to.deep.equal([3, 0]);
  });

  it('rejects a bad max norm and bad gradients', () => {
    const g = new Graph('g');
    const a = g.constant([3, 0]);
    expect(() => clipGradNorm([a], -1)).to.throw(ArgumentError, 'clipGradNorm: maxNorm must be a finite number > 0, got -1.');
    expect(() => clipGradNorm([], 1)).to.throw(ArgumentError, 'clipGradNorm: give at least one gradient.');
    const i = g.constant([1, 2], { dtype: 'i32' });
    expect(() => clipGradNorm([i], 1)).to.throw(ArgumentError, 'clipGradNorm: gradients must be f32 Tensors of one graph.');
    const other = new Graph('other').constant([1, 2]);
    expect(() => clipGradNorm([a, other], 1)).to.throw(ArgumentError, 'clipGradNorm: gradients must be f32 Tensors of one graph.');
  });
});

describe('learning-rate schedules', () => {
  /** The schedule's node evaluated (in f64) at steps 0..count-1. */
  function rates(schedule: LearningRateSchedule | number, count: number): number[] {
    const g = new Graph('schedule');
    const step = g.state('k', [], { dtype: 'i32' });
    const lr = learningRate(schedule, step);
    return Array.from({ length: count }, (_, k) => values(lr, { params: { k: [k] }, precision: 'f64' })[0]!);
  }
  const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k);

  it('gives a constant rate for a number or a constant schedule', () => {
    expect(rates(0.3, 3)).to.deep.equal([0.3, 0.3, 0.3]);
    expect(rates({ kind: 'constant', lr: 0.3 }, 3)).to.deep.equal([0.3, 0.3, 0.3]);
  });

  it('multiplies by gamma every stepSize steps (step decay)', () => {
    const expected = range(10).map((k) => 0.5 * 0.1 ** Math.floor(k / 3));
    expectClose(rates({ kind: 'step', lr: 0.5, stepSize: 3, gamma: 0.1 }, 10), expected, 1e-15, 0);
  });

  it('multiplies by gamma every step (exponential decay)', () => {
    const expected = range(10).map((k) => 0.5 * 0.9 ** k);
    expectClose(rates({ kind: 'exponential', lr: 0.5, gamma: 0.9 }, 10), expected, 1e-14, 0);
  });

  it('follows half a cosine from lr to minLr over totalSteps, then stays at minLr', () => {
    const expected = range(14).map((k) => 0.01 + (0.5 - 0.01) * 0.5 * (1 + Math.cos((Math.PI * Math.min(k, 10)) / 10)));
    const got = rates({ kind: 'cosine', lr: 0.5, totalSteps: 10, minLr: 0.01 }, 14);
    expectClose(got, expected, 1e-14, 1e-16);
    expect(got[0]).to.equal(0.5);
    expect(got[13]).to.be.closeTo(0.01, 1e-16);
  });

  it('warms up linearly from 0 to lr, then runs the schedule from its start', () => {
    const W = 4;
    const warm = (k: number, after: (j: number) => number): number => (k < W ? (0.5 * k) / W : after(k - W));
    expectClose(rates({ kind: 'constant', lr: 0.5, warmupSteps: W }, 8), range(8).map((k) => warm(k, () => 0.5)), 1e-15, 0);
    expectClose(
      rates({ kind: 'step', lr: 0.5, stepSize: 2, gamma: 0.5, warmupSteps: W }, 10),
      range(10).map((k) => warm(k, (j) => 0.5 * 0.5 ** Math.floor(j / 2))),
      1e-15,
      0,
    );
    expectClose(
      rates({ kind: 'exponential', lr: 0.5, gamma: 0.8, warmupSteps: W }, 10),
      range(10).map((k) => warm(k, (j) => 0.5 * 0.8 ** j)),
      1e-14,
      0,
    );
    // totalSteps counts the warmup: the cosine runs over the remaining 6 steps.
    expectClose(
      rates({ kind: 'cosine', lr: 0.5, totalSteps: 10, warmupSteps: W }, 12),
      range(12).map((k) => warm(k, (j) => 0.25 * (1 + Math.cos((Math.PI * Math.min(j, 6)) / 6)))),
      1e-14,
      1e-16,
    );
  });

  it('drives the optimizer from the shared step counter, one step at a time', () => {
    const schedule: LearningRateSchedule = { kind: 'step', lr: 0.5, stepSize: 2, gamma: 0.5, warmupSteps: 2 };
    const expected = rates(schedule, 6);
    const g = new Graph('descent');
    const w = g.param('w', [2]);
    const program = trainingProgram(g, { loss: w.sum(), optimizer: sgd({ lr: schedule }) });
    const session = new ReferenceSession(program, { precision: 'f64' });
    let position = 0;
    for (let k = 0; k < 6; k++) {
      expect(session.params[STEP_COUNTER]!.data[0]).to.equal(k);
      session.trainStep({});
      // d(Σw)/dw = 1, so each step moves w by exactly that step's rate.
      position -= expected[k]!;
      expectClose(session.params['w']!.data, [position, position], 1e-15, 0);
    }
  });

  it('shares one step counter between optimizers of a graph', () => {
    const g = new Graph('g');
    const first = stepCounter(g);
    const second = stepCounter(g);
    expect(second.id).to.equal(first.id);
    expect([...g.assignments.keys()]).to.deep.equal([first.id]);
    const bad = new Graph('bad');
    bad.state(STEP_COUNTER, [], { dtype: 'f32' });
    expect(() => stepCounter(bad)).to.throw(GraphError, "the step counter 'optimizer.step' must be an i32 scalar state, got optimizer.step:f32[].");
  });

  it('rejects bad schedules with the rule they break', () => {
    const lr = (schedule: unknown) => () => sgd({ lr: schedule as LearningRateSchedule });
    const cases: [() => unknown, string][] = [
      [lr({ kind: 'linear', lr: 0.1 }), "sgd: lr must be a number or a schedule {kind: 'constant' | 'step' | 'exponential' | 'cosine', lr, ...}, got a schedule of kind 'linear'."],
      [lr({ kind: 'constant', lr: -0.1 }), 'sgd (constant schedule): lr must be a finite number ≥ 0, got -0.1.'],
      [lr({ kind: 'constant', lr: 0.1, gamma: 0.5 }), "sgd (constant schedule): unknown option 'gamma'. Options: kind, lr, warmupSteps."],
      [lr({ kind: 'constant', lr: 0.1, warmupSteps: 1.5 }), 'sgd (constant schedule): warmupSteps must be an integer ≥ 0, got 1.5.'],
      [lr({ kind: 'step', lr: 0.1, stepSize: 0, gamma: 0.5 }), 'sgd (step schedule): stepSize must be an integer ≥ 1, got 0.'],
      [lr({ kind: 'step', lr: 0.1, stepSize: 2, gamma: 0 }), 'sgd (step schedule): gamma must be a finite number > 0, got 0.'],
      [lr({ kind: 'exponential', lr: 0.1 }), 'sgd (exponential schedule): gamma must be a finite number > 0, got undefined.'],
      [lr({ kind: 'cosine', lr: 0.1, totalSteps: 5, warmupSteps: 5 }), 'sgd (cosine schedule): totalSteps must be an integer > 5, got 5.'],
      [lr({ kind: 'cosine', lr: 0.1, totalSteps: 10, minLr: -1 }), 'sgd (cosine schedule): minLr must be a finite number ≥ 0, got -1.'],
    ];
    for (const [make, message] of cases) expect(make).to.throw(ArgumentError, message);
    const g = new Graph('g');
    expect(() => learningRate(0.1, g.input('x', []))).to.throw(ArgumentError, 'learningRate: step must be an i32 scalar (a step count), got x:f32[].');
    expect(() => learningRate(0.1, 3 as never)).to.throw(ArgumentError, 'learningRate: the step must be a Tensor, got number.');
  });
});
