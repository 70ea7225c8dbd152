/**
 * ONNX signal ops whose values depend only on sizes: the window functions (HannWindow,
 * HammingWindow, BlackmanWindow). Their size must be known at import, so the whole window
 * is computed on the host and becomes a constant (no kernel).
 */

import type { NodeContext, OpHandler } from './handler.js';
import { registerHandlers } from './handler.js';
import type { KnownValue } from './tensor-proto.js';
import { checkDims, requireDType } from './tensor-proto.js';

/**
 * A generalized cosine window: w[n] = Σₖ (−1)ᵏ aₖ cos(2πkn/N), with N the size when
 * `periodic` (the default, for spectral analysis) and the size − 1 when symmetric.
 */
function cosineWindow(coefficients: readonly number[]): OpHandler {
  return {
    attributes: ['periodic', 'output_datatype'],
    convert: (n: NodeContext): KnownValue => {
      const size = n.optionalScalar(0, 'size');
      if (size === undefined) throw n.invalid('required input 0 (size) is missing');
      checkDims(n.describe('the window'), [size]);
      const dtype = requireDType(n.int('output_datatype', 1), n.describe("attribute 'output_datatype'"));
      if (dtype !== 'f32') throw n.unsupported(`output_datatype ${dtype}: kiln computes windows as floats`);
      n.compute(size);
      const period = n.int('periodic', 1) ? size : size - 1;
      const data = Array.from({ length: size }, (_, i) =>
        coefficients.reduce((sum, a, k) => sum + (k % 2 ? -a : a) * Math.cos((2 * Math.PI * k * i) / period), 0),
      );
      return { dtype, shape: [size], data };
    },
  };
}

registerHandlers({
  HannWindow: cosineWindow([0.5, 0.5]),
  HammingWindow: cosineWindow([25 / 46, 21 / 46]),
  BlackmanWindow: cosineWindow([0.42, 0.5, 0.08]),
});
