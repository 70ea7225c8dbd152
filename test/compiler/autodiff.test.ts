import { expect } from 'chai';
import { grad, vjp } from '../../compiler/autodiff.js';
import { ArgumentError, GraphError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { add, mul } from '../../compiler/ops/binary.js';
import { cast } from '../../compiler/ops/cast.js';
import { defineOp, emptyLike } from '../../compiler/ops/op.js';
import { sum } from '../../compiler/ops/reduce.js';
import { stopGradient } from '../../compiler/ops/stop-gradient.js';
import * as u from '../../compiler/ops/unary.js';
import type { Tensor } from '../../compiler/tensor.js';
import { verify } from '../../compiler/verify.js';
import { checkGradients } from '../gradcheck.js';
import { expectClose, values } from '../helpers.js';

/** An op (2x) with a shape rule and a reference but no VJP, to exercise the missing-rule error. */
const opWithoutVjp = defineOp<Record<string, never>>({
  name: 'testOpWithoutVjp',
  arity: 1,
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  evaluate: ([x], _, out, ctx) => {
    const doubled = emptyLike(out, ctx);
    x!.data.forEach((v, i) => (doubled.data[i] = 2 * v));
    return doubled;
  },
});

const X = [-1.5, 0.25, 2];

function withInput(shape = [3]): { g: Graph; x: Tensor } {
  const g = new Graph('ad');
  return { g, x: g.input('x', shape) };
}

describe('grad', () => {
  it('accumulates the cotangents of a node with several consumers: d/dx Σ(x·x + x) = 2x + 1', () => {
    const { x } = withInput();
    const [dx] = grad(sum(add(mul(x, x), x)), [x]);
    expect(values(dx!, { feeds: { x: X } })).to.deep.equal(X.map((v) => 2 * v + 1));
  });

  it('takes gradients with respect to an input of a model (saliency)', () => {
    const { g, x } = withInput([2, 3]);
    const w = g.param('w', [3, 2], { init: { kind: 'uniform', low: -1, high: 1 } });
    const logits = x.matmul(w);
    const [dx, dw] = grad(sum(u.tanh(logits)), [x, w]);
    expect(dx!.shape).to.deep.equal([2, 3]);
    expect(dw!.shape).to.deep.equal([3, 2]);
    // d/dx Σ tanh(x·w) = (1 − tanh²(x·w))·wᵀ, computed by hand from the values.
    const feeds = { x: [0.5, -1, 2, 0.1, 0.3, -0.7] };
    const [wv, yv] = [values(w, { feeds, precision: 'f64' }), values(u.tanh(logits), { feeds, precision: 'f64' })];
    const expected = [0, 1].flatMap((i) =>
      [0, 1, 2].map((k) => [0, 1].reduce((s, j) => s + (1 - yv[i * 2 + j]! ** 2) * wv[k * 2 + j]!, 0)),
    );
    expectClose(values(dx!, { feeds, precision: 'f64' }), expected, 1e-12, 1e-12);
  });

  it('gives zeros of the right shape for a tensor the loss does not depend on', () => {
    const { g, x } = withInput();
    const unused = g.input('unused', [2, 4]);
    const [dUnused] = grad(sum(u.exp(x)), [unused]);
    expect(dUnused!.shape).to.deep.equal([2, 4]);
    expect(values(dUnused!, { feeds: { x: X, unused: new Array(8).fill(1) } })).to.deep.equal(new Array(8).fill(0));
  });

  it('stops at stopGradient: d/dx Σ(stopGradient(x)·x) = x, not 2x', () => {
    const { x } = withInput();
    const [dx] = grad(sum(mul(stopGradient(x), x)), [x]);
    expect(values(dx!, { feeds: { x: X } })).to.deep.equal(X);
  });

  it('gives zero through stopGradient alone', () => {
    const { x } = withInput();
    const [dx] = grad(sum(stopGradient(u.exp(x))), [x]);
    expect(values(dx!, { feeds: { x: X } })).to.deep.equal([0, 0, 0]);
  });

  it('carries no gradient along integer and bool paths', () => {
    const { x } = withInput();
    // x·trunc(x) through i32, plus a bool mask of x: only the direct factor x is differentiated.
    const truncated = cast(cast(x, 'i32'), 'f32');
    const mask = cast(cast(x, 'bool'), 'f32');
    const [dx] = grad(sum(add(mul(truncated, x), mask)), [x]);
    expect(values(dx!, { feeds: { x: X } })).to.deep.equal([-1, 0, 2]);
  });

  it('refuses a gradient with respect to an i32 tensor, naming it and the fix', () => {
    const { g, x } = withInput();
    const counts = g.input('counts', [3], 'i32');
    const loss = sum(mul(x, cast(counts, 'f32')));
    expect(() => grad(loss, [counts])).to.throw(
      ArgumentError,
      'grad: counts:i32[3] is i32 and cannot be differentiated; only float tensors have gradients (integer and bool values are constant to autodiff). Fix: differentiate with respect to a float tensor, or leave it out of wrt.',
    );
    const steps = g.param('steps', [3], { dtype: 'i32' });
    expect(() => grad(sum(mul(x, cast(steps, 'f32'))), [steps])).to.throw(ArgumentError, 'Fix: declare steps:i32[3] as an f32 param and cast where an integer is needed, or leave it out of wrt.');
  });

  it('refuses a loss that is not a scalar, suggesting a reduction', () => {
    const { x } = withInput();
    const y = u.exp(x);
    expect(() => grad(y, [x])).to.throw(
      ArgumentError,
      `grad: the output must be a scalar f32 (a loss), got ${y.toString()}. Reduce it first (e.g. .sum() or .mean()), or use vjp with a cotangent.`,
    );
  });

  it('refuses wrt that is not an array of tensors', () => {
    const { x } = withInput();
    expect(() => grad(sum(x), x as unknown as Tensor[])).to.throw(ArgumentError, 'grad: wrt must be an array of Tensors (e.g. [w1, b1]).');
  });

  it('names an op that has no gradient rule', () => {
    const { g, x } = withInput();
    const y = g.addNode(opWithoutVjp, [u.exp(x)], {});
    expect(() => grad(sum(y), [x])).to.throw(GraphError, `grad: op 'testOpWithoutVjp' (node %${y.id}, f32[3]) has no gradient rule.`);
  });

  it('does not need a rule for an op the gradient does not pass through', () => {
    const { g, x } = withInput();
    const other = g.input('other', [3]);
    const y = g.addNode(opWithoutVjp, [other], {});
    const [dx] = grad(sum(mul(y, x)), [x]);
    expect(values(dx!, { feeds: { x: X, other: [4, 5, 6] } })).to.deep.equal([8, 10, 12]);
  });

  it('returns new nodes of the same graph, which still verifies', () => {
    const { g, x } = withInput([2, 3]);
    const b = g.param('b', [3]);
    const loss = sum(u.sigmoid(add(x, b)));
    const before = g.nodes.length;
    const [dx, db] = grad(loss, [x, b]);
    expect(dx!.graph).to.equal(g);
    expect(db!.graph).to.equal(g);
    expect(dx!.id).to.be.at.least(before);
    expect(db!.shape).to.deep.equal([3]);
    verify(g);
  });

  it('prints the gradient as readable SSA text', () => {
    const g = new Graph('tiny');
    const x = g.input('x', [3]);
    const loss = sum(mul(u.sin(x), x));
    const [dx] = grad(loss, [x]);
    g.output('dx', dx!);
    // d/dx Σ sin(x)·x = x·cos(x) + sin(x): the sum of two products, one of them with cos x.
    const text = g.toString();
    expect(text).to.contain(`  let   %1:f32[3] = sin x\n`);
    const cosine = /^ {8}(%\d+):f32\[3\] = cos x$/m.exec(text);
    expect(cosine, text).to.not.equal(null);
    expect(text).to.match(new RegExp(`^ {8}%\\d+:f32\\[3\\] = mul %\\d+ ${cosine![1]}$`, 'm'));
    expect(text).to.contain(`  out   dx = %${dx!.id}\n`);
    expect(dx!.node.op).to.equal('add');
  });

  describe('second order', () => {
    const cases: [string, (x: Tensor) => Tensor][] = [
      ['sin', u.sin],
      ['exp', u.exp],
      ['tanh', u.tanh],
      ['x³ (via mul)', (x) => mul(mul(x, x), x)],
      ['sigmoid', u.sigmoid],
      ['softplus', u.softplus],
      ['gelu (erf)', (x) => u.gelu(x)],
      ['gelu (tanh)', (x) => u.gelu(x, { approximate: 'tanh' })],
    ];
    for (const [name, f] of cases) {
      it(`differentiates the gradient of ${name} again, matching finite differences`, () => {
        checkGradients({ inputs: [{ shape: [2, 3], lo: -2, hi: 2 }], build: ([x]) => grad(sum(f(x!)), [x!])[0]! });
      });
    }

    it('gives the exact second derivative of x³: 6x', () => {
      const { x } = withInput();
      const [dx] = grad(sum(mul(mul(x, x), x)), [x]);
      const [ddx] = grad(sum(dx!), [x]);
      expect(values(ddx!, { feeds: { x: X } })).to.deep.equal(X.map((v) => 6 * v));
    });
  });
});

describe('vjp', () => {
  it('pulls back a cotangent of a non-scalar output (a row of the Jacobian for a one-hot cotangent)', () => {
    const { g, x } = withInput();
    const y = mul(u.sin(x), 2);
    const [dx] = vjp([y], [g.constant([0, 1, 0])], [x]);
    expectClose(values(dx!, { feeds: { x: X }, precision: 'f64' }), [0, 2 * Math.cos(X[1]!), 0], 1e-15, 0);
  });

  it('sums the pullbacks of several outputs', () => {
    const { g, x } = withInput();
    const [dx] = vjp([u.exp(x), mul(x, 3)], [g.constant([1, 1, 1]), g.constant([1, 2, 3])], [x]);
    expectClose(values(dx!, { feeds: { x: X }, precision: 'f64' }), X.map((v, i) => Math.exp(v) + 3 * (i + 1)), 1e-15, 0);
  });

  it('refuses mismatched outputs and cotangents, naming the fix', () => {
    const { g, x } = withInput();
    expect(() => vjp([], [], [x])).to.throw(ArgumentError, 'vjp: give at least one output.');
    expect(() => vjp([x], [], [x])).to.throw(ArgumentError, 'vjp: 1 outputs but 0 cotangents; give one per output.');
    expect(() => vjp([x], [g.constant([1, 2])], [x])).to.throw(
      ArgumentError,
      'vjp: output x:f32[3] got a cotangent f32[2]; they must match.',
    );
    const n = g.input('n', [3], 'i32');
    expect(() => vjp([n], [g.constant([1, 2, 3], { dtype: 'i32' })], [x])).to.throw(
      ArgumentError,
      'vjp: output n:i32[3] is i32; only float outputs have gradients.',
    );
  });

  it('refuses tensors from another graph', () => {
    const { x } = withInput();
    const other = new Graph('other').input('y', [3]);
    expect(() => vjp([x], [x], [other])).to.throw(GraphError, 'vjp: outputs, cotangents and wrt must come from one graph.');
  });
});
