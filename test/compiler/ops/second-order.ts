/** Second-order gradient checks: a `build` for checkGradients that is itself a gradient. */

import { grad } from '../../../compiler/autodiff.js';
import type { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { reshape } from '../../../compiler/ops/shape.js';
import { concat } from '../../../compiler/ops/slice.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { testData } from '../../helpers.js';
import { sizeOf, staticShape } from '../../../compiler/shape.js';

type Build = (inputs: Tensor[], graph: Graph) => Tensor;

/**
 * The gradient of sum(f(x)·c) (c a fixed, uneven constant) with respect to every float
 * input, flattened and joined into one vector: checkGradients of it checks the second
 * derivatives of f, mixed ones included.
 */
export function gradientOf(f: Build): Build {
  return (inputs, graph) => {
    const out = f(inputs, graph);
    const weights = graph.constant(testData(sizeOf(staticShape('test', out.shape)), 5, 0.5, 1.5), { shape: out.shape });
    const grads = grad(sum(mul(out, weights)), inputs.filter((t) => t.dtype === 'f32'));
    return concat(grads.map((d) => reshape(d, [-1])), 0);
  };
}
