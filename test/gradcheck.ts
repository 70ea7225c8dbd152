/**
 * Gradient checking: compares the gradients kiln's autodiff builds with central finite
 * differences of the reference interpreter, all in f64.
 */

import { expect } from 'chai';
import { grad } from '../compiler/autodiff.js';
import type { DType } from '../compiler/dtype.js';
import { Graph } from '../compiler/graph.js';
import { mul } from '../compiler/ops/binary.js';
import { sum } from '../compiler/ops/reduce.js';
import { evaluateNodes } from '../compiler/reference.js';
import { evaluateDim } from '../compiler/dims.js';
import type { DimLike } from '../compiler/shape.js';
import { checkShape, isStaticShape, sizeOf } from '../compiler/shape.js';
import type { Tensor } from '../compiler/tensor.js';
import { testData } from './helpers.js';

export interface GradInput {
  /** Sizes, or dim names (`['batch', 3]`) sized by `GradCheck.dims`. */
  shape: readonly DimLike[];
  dtype?: DType;
  /** Values (row-major); default: deterministic random in [lo, hi). */
  data?: number[];
  lo?: number;
  hi?: number;
}

export interface GradCheck {
  inputs: GradInput[];
  /** Builds the function under test from the inputs; any output shape (it is projected to a scalar). */
  build: (inputs: Tensor[], graph: Graph) => Tensor;
  eps?: number;
  rtol?: number;
  atol?: number;
  /**
   * Sizes of the dims the input shapes name: the graph and its gradients are built
   * symbolic, and the interpreter binds the dims from the feeds (sized by these).
   */
  dims?: Readonly<Record<string, number>>;
}

/**
 * Asserts that d/dx of `sum(build(x) · R)` (R a fixed random tensor, so every output
 * element matters with a different weight) matches central differences for every
 * element of every float input. Returns the graph for further inspection.
 */
export function checkGradients(check: GradCheck): Graph {
  const { eps = 1e-6, rtol = 1e-6, atol = 1e-7 } = check;
  const g = new Graph('gradcheck');
  const inputs = check.inputs.map((spec, i) => g.input(`x${i}`, spec.shape, spec.dtype ?? 'f32'));
  const out = check.build(inputs, g);
  const dims = check.dims ?? {};
  const count = (shape: readonly DimLike[]): number => evaluateDim(sizeOf(checkShape('gradcheck', shape)), dims);
  const weightData = testData(count(out.shape), 99, 0.5, 1.5);
  // A symbolic output's weights are fed (a constant is always static); a static one's are a constant, as before.
  const weights = isStaticShape(out.shape) ? g.constant(weightData, { shape: out.shape }) : g.input('weights', out.shape);
  const loss = sum(mul(out, weights));
  const floatInputs = inputs.filter((t) => t.dtype === 'f32');
  const grads = grad(loss, floatInputs);

  const feeds: Record<string, number[]> = isStaticShape(out.shape) ? {} : { weights: weightData };
  check.inputs.forEach((spec, i) => {
    feeds[`x${i}`] = spec.data ?? testData(count(spec.shape), 7 + i, spec.lo ?? -1, spec.hi ?? 1);
  });
  const evalLoss = (f: Record<string, number[]>): number =>
    evaluateNodes(g, [loss.id], { feeds: f, precision: 'f64' })[0]!.data[0]!;
  const analytic = evaluateNodes(
    g,
    grads.map((t) => t.id),
    { feeds, precision: 'f64' },
  );

  floatInputs.forEach((input, k) => {
    const name = input.name!;
    const base = feeds[name]!;
    const got = analytic[k]!.data;
    expect(got.length, `gradient of ${name} has the input's size`).to.equal(base.length);
    for (let i = 0; i < base.length; i++) {
      const plus = [...base];
      const minus = [...base];
      plus[i]! += eps;
      minus[i]! -= eps;
      const numeric = (evalLoss({ ...feeds, [name]: plus }) - evalLoss({ ...feeds, [name]: minus })) / (2 * eps);
      const error = Math.abs(got[i]! - numeric);
      expect(error, `d/d${name}[${i}]: autodiff ${got[i]}, finite differences ${numeric}`).to.be.at.most(
        atol + rtol * Math.abs(numeric),
      );
    }
  });
  return g;
}
