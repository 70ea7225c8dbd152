/** Small helpers shared by tests: evaluating one tensor and comparing arrays. */

import { expect } from 'chai';
import type { HostArray } from '../compiler/ops/op.js';
import type { InterpretOptions } from '../compiler/reference.js';
import { evaluate } from '../compiler/reference.js';
import type { Tensor } from '../compiler/tensor.js';

/** Evaluates one tensor on the reference interpreter. */
export function run(tensor: Tensor, options: InterpretOptions = {}): HostArray {
  return evaluate([tensor], options)[0]!;
}

/** Evaluates one tensor and returns its values as a plain array. */
export function values(tensor: Tensor, options: InterpretOptions = {}): number[] {
  return Array.from(run(tensor, options).data);
}

/** Asserts every element is within `atol + rtol·|expected|` (NaN matches NaN, ±Inf must match). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6, atol = 1e-6): void {
  expect(actual.length, 'length').to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `element ${i}: expected NaN, got ${a}`).to.equal(true);
    } else if (!Number.isFinite(e)) {
      expect(a, `element ${i}`).to.equal(e);
    } else {
      expect(Math.abs(a - e), `element ${i}: got ${a}, expected ${e}`).to.be.at.most(atol + rtol * Math.abs(e));
    }
  }
}

/** Deterministic pseudo-random floats in [lo, hi) for test inputs (a tiny LCG; not the model RNG). */
export function testData(count: number, seed = 1, lo = -1, hi = 1): number[] {
  let state = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(lo + ((hi - lo) * state) / 2 ** 32);
  }
  return out;
}
