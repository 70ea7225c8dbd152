/**
 * Every elementwise op on the GPU against the reference interpreter: unary, binary,
 * comparisons, logic, where and cast, on awkward shapes (rank 0, [1], [3,17], [129],
 * [1025], broadcasting, splat constants), with data in each op's domain, then at special
 * values (±0, ±inf, NaN, overflow, i32 extremes). Tolerances are stated per op in units of
 * f32's epsilon; `KILN_ACCURACY=1` prints the largest errors measured on this device.
 */

import { expect } from 'chai';
import type { DType } from '../../compiler/dtype.js';
import { Graph } from '../../compiler/graph.js';
import type { HostArray } from '../../compiler/ops/op.js';
import * as b from '../../compiler/ops/binary.js';
import { cast } from '../../compiler/ops/cast.js';
import * as u from '../../compiler/ops/unary.js';
import { compile } from '../../compiler/plan.js';
import type { HostValue } from '../../compiler/reference.js';
import { interpret } from '../../compiler/reference.js';
import type { Tensor } from '../../compiler/tensor.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../runtime/session.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from './harness.js';

const EPS = 2 ** -23;
type Tolerance = { rtol: number; atol: number };
const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** f32's smallest normal: GPUs may flush subnormal results to 0 (SwiftShader does). */
const SUBNORMAL = 2 ** -126;
/** Within `n` ulps (relative), plus `atol` near zero. */
const ulps = (n: number, atol = SUBNORMAL): Tolerance => ({ rtol: n * EPS, atol });

const SHAPES: readonly (readonly number[])[] = [[], [1], [3, 17], [129], [1025]];
const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Makes `count` values for one operand; `seed` varies per operand and shape. */
type Data = (count: number, seed: number) => number[];
const uniform =
  (lo: number, hi: number): Data =>
  (count, seed) =>
    testData(count, seed, lo, hi);
/** ±10^e with e uniform in [lo, hi]: small and large magnitudes alike. */
const magnitudes =
  (lo: number, hi: number, signed = true): Data =>
  (count, seed) =>
    testData(count, seed, lo, hi).map((e, i) => (signed && i % 2 === 1 ? -1 : 1) * 10 ** e);
/** Quarter steps in [-n, n], so halves (round's ties) occur. */
const quarters =
  (n: number): Data =>
  (count, seed) =>
    testData(count, seed, -n, n).map((v) => Math.round(v * 4) / 4);
/** Half 10^e for e in [-6, 6], half 1 ± 10^e for e in [-12, -0.4]: log's hard cases. */
const positiveAndNearOne: Data = (count, seed) => {
  const offsets = testData(count, seed + 1, -12, -0.4).map((e) => 10 ** e);
  return magnitudes(-6, 6, false)(count, seed).map((v, i) => (i % 2 === 0 ? v : 1 + (i % 4 === 1 ? 1 : -1) * offsets[i]!));
};
const integers =
  (lo: number, hi: number): Data =>
  (count, seed) =>
    testData(count, seed, lo, hi + 1).map(Math.floor);
/** i32 values near the ends of the range, where arithmetic wraps. */
const I32_EDGES = [2147483647, -2147483648, 2147483646, -2147483647, 65536, -65536, 46341, 1, -1, 0];
const edgeIntegers: Data = (count, seed) => integers(-100000, 100000)(count, seed).map((v, i) => (i % 3 === 0 ? I32_EDGES[(i / 3) % I32_EDGES.length]! : v));
const bools: Data = (count, seed) => testData(count, seed).map((v) => (v > 0 ? 1 : 0));

const typed = (dtype: DType, values: readonly number[]): Float32Array | Int32Array | number[] =>
  dtype === 'f32' ? Float32Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : [...values];

/** Largest errors seen per case, printed with KILN_ACCURACY=1. */
const measured = new Map<string, { abs: number; ulp: number }>();

function measure(name: string, gpuOut: Record<string, HostTensor>, reference: Record<string, HostArray>): void {
  const worst = measured.get(name) ?? { abs: 0, ulp: 0 };
  for (const [output, expected] of Object.entries(reference)) {
    const actual = gpuOut[output]!.data;
    expected.data.forEach((e, i) => {
      if (!Number.isFinite(e)) return;
      const error = Math.abs(actual[i]! - e);
      worst.abs = Math.max(worst.abs, error);
      // In ulps only where the reference is a normal f32 (subnormals may be flushed).
      if (Math.abs(e) >= SUBNORMAL) worst.ulp = Math.max(worst.ulp, error / 2 ** (Math.floor(Math.log2(Math.abs(e))) - 23));
    });
  }
  measured.set(name, worst);
}

/** Runs the graph on the GPU and the reference, asserts they agree, and records the errors. */
async function check(name: string, graph: Graph, feeds: Record<string, number[] | Float32Array | Int32Array>, tolerance: Tolerance): Promise<void> {
  const gpuOut = await expectGpuMatchesReference(graph, feeds, tolerance);
  measure(name, gpuOut, interpret(graph, { feeds: feeds as Record<string, HostValue> }));
}

interface UnaryCase {
  readonly name: string;
  readonly apply: (x: Tensor) => Tensor;
  readonly dtype: DType;
  readonly data: Data;
  readonly tolerance: Tolerance;
  /** Edge values: ±0, ±inf, NaN, overflow, ... */
  readonly special?: readonly number[];
}

const INF = Infinity;
const FLOAT_SPECIAL = [NaN, INF, -INF, 0, -0, 1, -1, 0.5, -0.5, 1e-30, -1e-30, 1e30, -1e30];

/**
 * Tolerances: EXACT where WGSL defines the result exactly; otherwise the larger of what
 * WGSL allows the builtins involved (exp: 3 + 2|x| ulps, so 48 for |x| ≤ 20; division 2.5;
 * log within 2^-21 absolute on [1.5, 2]) and about twice what SwiftShader measured.
 */
const UNARY: readonly UnaryCase[] = [
  { name: 'neg', apply: u.neg, dtype: 'f32', data: uniform(-10, 10), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'neg i32', apply: u.neg, dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'abs', apply: u.abs, dtype: 'f32', data: uniform(-10, 10), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'abs i32', apply: u.abs, dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'sign', apply: u.sign, dtype: 'f32', data: quarters(2), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'sign i32', apply: u.sign, dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'square', apply: u.square, dtype: 'f32', data: uniform(-100, 100), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'square i32 (wraps)', apply: u.square, dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'relu', apply: u.relu, dtype: 'f32', data: uniform(-10, 10), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'relu i32', apply: u.relu, dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'exp', apply: u.exp, dtype: 'f32', data: uniform(-20, 20), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 20, -20, 89, -104] },
  { name: 'log', apply: u.log, dtype: 'f32', data: positiveAndNearOne, tolerance: ulps(12), special: [NaN, INF, 0, -1, 1, 1.0000001, 0.9999999, 1e-30, 1e30] },
  { name: 'log1p', apply: u.log1p, dtype: 'f32', data: (n, s) => magnitudes(-7, 3)(n, s).map((v) => Math.max(v, -0.999)), tolerance: ulps(8), special: [NaN, INF, -1, -2, 0, 1e-30, -1e-30, 0.5, -0.5, 1e30] },
  { name: 'expm1', apply: u.expm1, dtype: 'f32', data: magnitudes(-7, 1.3), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 20, -20, 89] },
  { name: 'sqrt', apply: u.sqrt, dtype: 'f32', data: magnitudes(-6, 6, false), tolerance: ulps(5), special: [NaN, INF, 0, 1e-30, 1e30] },
  { name: 'rsqrt', apply: u.rsqrt, dtype: 'f32', data: magnitudes(-6, 6, false), tolerance: ulps(2), special: [NaN, INF, 0, 1e-30, 1e30] },
  { name: 'reciprocal', apply: u.reciprocal, dtype: 'f32', data: magnitudes(-6, 6), tolerance: ulps(3), special: [NaN, INF, -INF, 0, 1e-30, -1e30] },
  { name: 'sin', apply: u.sin, dtype: 'f32', data: uniform(-10, 10), tolerance: ulps(4), special: [NaN, INF, -INF, 0, 1e-30, 1e-7, 100, -1000, 6000] },
  { name: 'sin of small x', apply: u.sin, dtype: 'f32', data: magnitudes(-7, 0), tolerance: ulps(4) },
  // Up to |x| = 1e5 the reduction keeps π/2's first part exact (measured 9.5e-7 at worst).
  { name: 'sin of large x', apply: u.sin, dtype: 'f32', data: uniform(-1e5, 1e5), tolerance: { rtol: 0, atol: 2e-6 } },
  { name: 'cos of large x', apply: u.cos, dtype: 'f32', data: uniform(-1e5, 1e5), tolerance: { rtol: 0, atol: 2e-6 } },
  { name: 'atan', apply: u.atan, dtype: 'f32', data: magnitudes(-6, 6), tolerance: ulps(4), special: [...FLOAT_SPECIAL, 0.41421357, 0.41421354, 2.4142134, 2.4142137, -2.4142137] },
  { name: 'cos', apply: u.cos, dtype: 'f32', data: uniform(-10, 10), tolerance: ulps(4), special: [NaN, INF, -INF, 0, 1e-30, 1e-7, 100, -1000, 6000] },
  { name: 'tanh', apply: u.tanh, dtype: 'f32', data: magnitudes(-7, 1.3), tolerance: ulps(8), special: [...FLOAT_SPECIAL, 89, -89, 100, -100] },
  { name: 'erf', apply: u.erf, dtype: 'f32', data: magnitudes(-7, 0.7), tolerance: ulps(4), special: [...FLOAT_SPECIAL, 4, -4, 10, -10] },
  { name: 'sigmoid', apply: u.sigmoid, dtype: 'f32', data: uniform(-20, 20), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 100, -100, 89, -89] },
  { name: 'softplus', apply: u.softplus, dtype: 'f32', data: uniform(-20, 20), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 100, -100, 89, -89] },
  { name: 'floor', apply: u.floor, dtype: 'f32', data: quarters(10), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'ceil', apply: u.ceil, dtype: 'f32', data: quarters(10), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'round (half to even)', apply: u.round, dtype: 'f32', data: quarters(10), tolerance: EXACT, special: [...FLOAT_SPECIAL, 1.5, 2.5, -2.5] },
  { name: 'leakyRelu', apply: (x) => u.leakyRelu(x, 0.1), dtype: 'f32', data: uniform(-10, 10), tolerance: ulps(1), special: FLOAT_SPECIAL },
  { name: 'elu', apply: (x) => u.elu(x, 1.5), dtype: 'f32', data: magnitudes(-7, 1.3), tolerance: ulps(8), special: FLOAT_SPECIAL },
  // Not below −6: there the reference's ½x(1 + erf(x/√2)) cancels even in f64 (2% off at
// −8, where the GPU's ½x·erfc(−x/√2) is within 5e-6 of Python's math.erfc).
  { name: 'gelu (erf)', apply: (x) => u.gelu(x), dtype: 'f32', data: uniform(-6, 6), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 10, -5, -8] },
  { name: 'gelu (tanh)', apply: (x) => u.gelu(x, { approximate: 'tanh' }), dtype: 'f32', data: uniform(-6, 6), tolerance: ulps(48), special: [...FLOAT_SPECIAL, 10, -10] },
  { name: 'clip', apply: (x) => u.clip(x, -0.5, 0.25), dtype: 'f32', data: uniform(-1, 1), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'clip open below', apply: (x) => u.clip(x, null, 0.1), dtype: 'f32', data: uniform(-1, 1), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'clip i32', apply: (x) => u.clip(x, -70000, 3e9), dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'cast f32 → i32', apply: (x) => cast(x, 'i32'), dtype: 'f32', data: uniform(-100, 100), tolerance: EXACT, special: [...FLOAT_SPECIAL, 2.7, -2.7, 3e9, -3e9, 2147483520, 2147483648, -2147483904] },
  { name: 'cast f32 → bool', apply: (x) => cast(x, 'bool'), dtype: 'f32', data: quarters(1), tolerance: EXACT, special: FLOAT_SPECIAL },
  { name: 'cast i32 → f32', apply: (x) => cast(x, 'f32'), dtype: 'i32', data: edgeIntegers, tolerance: EXACT },
  { name: 'cast i32 → bool', apply: (x) => cast(x, 'bool'), dtype: 'i32', data: integers(-2, 2), tolerance: EXACT },
  { name: 'cast bool → f32', apply: (x) => cast(x, 'f32'), dtype: 'bool', data: bools, tolerance: EXACT },
  { name: 'cast bool → i32', apply: (x) => cast(x, 'i32'), dtype: 'bool', data: bools, tolerance: EXACT },
  { name: 'logicalNot', apply: b.logicalNot, dtype: 'bool', data: bools, tolerance: EXACT },
];

interface BinaryCase {
  readonly name: string;
  readonly apply: (x: Tensor, y: Tensor) => Tensor;
  readonly dtype: DType;
  readonly data: readonly [Data, Data];
  readonly tolerance: Tolerance;
  /** A number for the second operand, inlined as a literal. */
  readonly scalar: number;
  /** Pairs of edge values [a, b]. */
  readonly special?: readonly (readonly [number, number])[];
}

const FLOAT_PAIRS: readonly (readonly [number, number])[] = [[NaN, 1], [1, NaN], [NaN, NaN], [INF, 1], [-INF, INF], [INF, INF], [0, -0], [1e30, 1e30], [-1e30, 1e30], [2, 0], [-2, 0], [0, 0]];
const I32_PAIRS: readonly (readonly [number, number])[] = [[2147483647, 1], [-2147483648, -1], [-2147483648, 1], [65536, 65536], [7, 0], [-7, 0], [0, 0], [-7, 2], [7, -2], [46341, 46341]];

const BINARY: readonly BinaryCase[] = [
  { name: 'add', apply: b.add, dtype: 'f32', data: [uniform(-10, 10), uniform(-10, 10)], tolerance: EXACT, scalar: 2.5, special: FLOAT_PAIRS },
  { name: 'add i32 (wraps)', apply: b.add, dtype: 'i32', data: [edgeIntegers, edgeIntegers], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'sub', apply: b.sub, dtype: 'f32', data: [uniform(-10, 10), uniform(-10, 10)], tolerance: EXACT, scalar: -2.5, special: FLOAT_PAIRS },
  { name: 'sub i32 (wraps)', apply: b.sub, dtype: 'i32', data: [edgeIntegers, edgeIntegers], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'mul', apply: b.mul, dtype: 'f32', data: [uniform(-10, 10), uniform(-10, 10)], tolerance: EXACT, scalar: 0.1, special: FLOAT_PAIRS },
  { name: 'mul i32 (wraps)', apply: b.mul, dtype: 'i32', data: [edgeIntegers, edgeIntegers], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'div', apply: b.div, dtype: 'f32', data: [uniform(-10, 10), magnitudes(-3, 3)], tolerance: ulps(3), scalar: 3, special: FLOAT_PAIRS },
  { name: 'div i32 (truncates, x / 0 = x)', apply: b.div, dtype: 'i32', data: [edgeIntegers, integers(-5, 5)], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'pow', apply: b.pow, dtype: 'f32', data: [magnitudes(-2, 1, false), uniform(-4, 4)], tolerance: ulps(32), scalar: 0.5 },
  { name: 'pow of negative bases', apply: b.pow, dtype: 'f32', data: [uniform(-4, 4), integers(-5, 5)], tolerance: ulps(32), scalar: 3, special: [[-0, -3], [-0, 3], [-0, 0.5], [-INF, 3], [-INF, 0.5], [-INF, -3], [-8, 1 / 3], [0, -2], [0, 2], [NaN, 0], [1, NaN], [1, INF], [-1, INF], [2, INF], [0.5, INF], [2, -INF], [INF, -2], [-2, 3], [-2, 2], [-2, 0.5]] },
  { name: 'maximum', apply: b.maximum, dtype: 'f32', data: [uniform(-10, 10), uniform(-10, 10)], tolerance: EXACT, scalar: 0, special: FLOAT_PAIRS },
  { name: 'maximum i32', apply: b.maximum, dtype: 'i32', data: [edgeIntegers, edgeIntegers], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'minimum', apply: b.minimum, dtype: 'f32', data: [uniform(-10, 10), uniform(-10, 10)], tolerance: EXACT, scalar: 0, special: FLOAT_PAIRS },
  { name: 'minimum i32', apply: b.minimum, dtype: 'i32', data: [edgeIntegers, edgeIntegers], tolerance: EXACT, scalar: -3, special: I32_PAIRS },
  { name: 'equal', apply: b.equal, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'equal i32', apply: b.equal, dtype: 'i32', data: [integers(-2, 2), integers(-2, 2)], tolerance: EXACT, scalar: 1, special: I32_PAIRS },
  { name: 'equal bool', apply: b.equal, dtype: 'bool', data: [bools, bools], tolerance: EXACT, scalar: 1 },
  { name: 'notEqual', apply: b.notEqual, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'notEqual bool', apply: b.notEqual, dtype: 'bool', data: [bools, bools], tolerance: EXACT, scalar: 0 },
  { name: 'less', apply: b.less, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'less i32', apply: b.less, dtype: 'i32', data: [integers(-2, 2), integers(-2, 2)], tolerance: EXACT, scalar: 1, special: I32_PAIRS },
  { name: 'lessEqual', apply: b.lessEqual, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'greater', apply: b.greater, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'greaterEqual', apply: b.greaterEqual, dtype: 'f32', data: [quarters(1), quarters(1)], tolerance: EXACT, scalar: 0.5, special: FLOAT_PAIRS },
  { name: 'greaterEqual i32', apply: b.greaterEqual, dtype: 'i32', data: [integers(-2, 2), integers(-2, 2)], tolerance: EXACT, scalar: 1, special: I32_PAIRS },
  { name: 'logicalAnd', apply: b.logicalAnd, dtype: 'bool', data: [bools, bools], tolerance: EXACT, scalar: 1 },
  { name: 'logicalOr', apply: b.logicalOr, dtype: 'bool', data: [bools, bools], tolerance: EXACT, scalar: 0 },
  { name: 'logicalXor', apply: b.logicalXor, dtype: 'bool', data: [bools, bools], tolerance: EXACT, scalar: 1 },
];

/** Operand shape pairs: equal shapes, broadcasting both ways, and rank 0 against a matrix. */
const SHAPE_PAIRS: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[], []],
  [[1], [1]],
  [[3, 17], [3, 17]],
  [[4, 1], [1, 5]],
  [[129], [129]],
  [[3, 17], []],
  [[1025], [1025]],
];

describe('elementwise ops on the GPU', function () {
  this.timeout(120_000);

  after(() => {
    if (!process.env['KILN_ACCURACY']) return;
    console.log('largest |GPU − reference| per case (abs, and in ulps of the reference value):');
    for (const [name, { abs, ulp }] of measured) console.log(`  ${name.padEnd(34)} ${abs.toExponential(2).padStart(9)}  ${ulp.toFixed(1).padStart(7)} ulp`);
  });

  describe('unary ops and casts', () => {
    for (const c of UNARY) {
      it(`${c.name} matches the reference on shapes ${SHAPES.map((s) => `[${s.join(',')}]`).join(' ')}`, async () => {
        const g = new Graph(c.name);
        const feeds: Record<string, number[] | Float32Array | Int32Array> = {};
        SHAPES.forEach((shape, k) => {
          g.output(`y${k}`, c.apply(g.input(`x${k}`, shape, c.dtype)));
          feeds[`x${k}`] = typed(c.dtype, c.data(size(shape), 7 * k + 1));
        });
        await check(c.name, g, feeds, c.tolerance);
      });
      if (c.special) {
        const special = c.special;
        it(`${c.name} matches the reference at ${special.join(', ')}`, async () => {
          const g = new Graph(c.name);
          g.output('y', c.apply(g.input('x', [special.length], c.dtype)));
          await check(`${c.name} (edges)`, g, { x: typed(c.dtype, special) }, c.tolerance);
        });
      }
    }
  });

  describe('binary ops, comparisons and logic', () => {
    for (const c of BINARY) {
      it(`${c.name} matches the reference with broadcasting and a literal operand`, async () => {
        const g = new Graph(c.name);
        const feeds: Record<string, number[] | Float32Array | Int32Array> = {};
        SHAPE_PAIRS.forEach(([shapeA, shapeB], k) => {
          const x = g.input(`a${k}`, shapeA, c.dtype);
          g.output(`y${k}`, c.apply(x, g.input(`b${k}`, shapeB, c.dtype)));
          feeds[`a${k}`] = typed(c.dtype, c.data[0](size(shapeA), 11 * k + 2));
          feeds[`b${k}`] = typed(c.dtype, c.data[1](size(shapeB), 13 * k + 3));
        });
        const x = g.input('a', [129], c.dtype);
        feeds['a'] = typed(c.dtype, c.data[0](129, 5));
        g.output('with_literal', c.apply(x, g.constant(c.scalar, { dtype: c.dtype })));
        g.output('literal_first', c.apply(g.constant(c.scalar, { dtype: c.dtype }), x));
        await check(c.name, g, feeds, c.tolerance);
      });
      if (c.special) {
        const special = c.special;
        it(`${c.name} matches the reference at edge pairs ${special.map(([p, q]) => `(${p}, ${q})`).join(' ')}`, async () => {
          const g = new Graph(c.name);
          g.output('y', c.apply(g.input('a', [special.length], c.dtype), g.input('b', [special.length], c.dtype)));
          await check(`${c.name} (edges)`, g, { a: typed(c.dtype, special.map(([p]) => p)), b: typed(c.dtype, special.map(([, q]) => q)) }, c.tolerance);
        });
      }
    }
  });

  describe('where', () => {
    for (const dtype of ['f32', 'i32', 'bool'] as const) {
      it(`where picks ${dtype} values by a bool mask, broadcasting all three operands`, async () => {
        const g = new Graph('where');
        const data: Data = dtype === 'f32' ? uniform(-10, 10) : dtype === 'i32' ? edgeIntegers : bools;
        const condition = g.input('c', [4, 1, 1], 'bool');
        const a = g.input('a', [1, 5, 1], dtype);
        const other = g.input('b', [3], dtype);
        g.output('y', b.where(condition, a, other));
        g.output('scalar_condition', b.where(g.input('c0', [], 'bool'), other, a));
        g.output('literal_branch', b.where(condition, a, g.constant(dtype === 'f32' ? -1.5 : 1, { dtype })));
        const feeds = { c: bools(4, 1), c0: [1], a: typed(dtype, data(5, 2)), b: typed(dtype, data(3, 3)) };
        await check(`where ${dtype}`, g, feeds, EXACT);
      });
    }
  });

  it('compiles no kernel for a value with no elements, and returns it empty', async () => {
    const g = new Graph('empty');
    const x = g.input('x', [3, 0, 5]);
    g.output('y', b.add(x, g.input('y', [0, 5])).exp());
    const plan = compile(g);
    expect(plan.entries['forward']!.dispatches).to.deep.equal([]);
    const { device } = await gpu();
    const session = await Session.create(device, plan);
    try {
      const out = (await session.forward({ x: [], y: [] }))['y']!;
      expect(out.shape).to.deep.equal([3, 0, 5]);
      expect(out.data.length).to.equal(0);
    } finally {
      session.destroy();
    }
  });

  it('folds the dispatch to two dimensions past 65535 workgroups and still covers every element', async () => {
    // 4 200 000 elements need 65 625 workgroups of 64: more than WebGPU guarantees per
    // dimension. Compiled for the guaranteed limits, so it folds on every adapter.
    const g = new Graph('fold');
    const x = g.input('x', [1050000, 4]);
    const bias = g.input('bias', [4]);
    g.output('y', b.add(x, bias));
    const plan = compile(g);
    const kernel = plan.kernels.find((k) => k.ops.includes('add'))!;
    expect(kernel.workgroups).to.deep.equal([65535, 2, 1]);
    const feeds = { x: Float32Array.from({ length: 4200000 }, (_, i) => i % 1000), bias: [0.5, 1.5, 2.5, 3.5] };
    const { device } = await gpu();
    const session = await Session.create(device, plan);
    try {
      const actual = (await session.forward(feeds))['y']!.data;
      const expected = interpret(g, { feeds })['y']!.data;
      // One comparison for 4.2M elements (an assertion per element takes minutes).
      const mismatch = expected.findIndex((e, i) => actual[i] !== e);
      expect(mismatch, mismatch < 0 ? '' : `element ${mismatch}: got ${actual[mismatch]}, expected ${expected[mismatch]}`).to.equal(-1);
      expect(actual.length).to.equal(4200000);
    } finally {
      session.destroy();
    }
  });
});
