import { expect } from 'chai';
import { ArgumentError, DTypeError } from '../../../compiler/errors.js';
import { Graph } from '../../../compiler/graph.js';
import type { Tensor } from '../../../compiler/tensor.js';
import * as u from '../../../compiler/ops/unary.js';
import { expectClose, values } from '../../helpers.js';

const INPUT = [-2, -0.5, 0, 0.5, 2.5];

/** Expected outputs for INPUT, computed independently (Python's math module, 9 digits). */
const CASES: [string, (x: Tensor) => Tensor, number[]][] = [
  ['neg', u.neg, [2, 0.5, -0, -0.5, -2.5]],
  ['abs', u.abs, [2, 0.5, 0, 0.5, 2.5]],
  ['sign', u.sign, [-1, -1, 0, 1, 1]],
  ['square', u.square, [4, 0.25, 0, 0.25, 6.25]],
  ['relu', u.relu, [0, 0, 0, 0.5, 2.5]],
  ['exp', u.exp, [0.135335283, 0.60653066, 1, 1.648721271, 12.18249396]],
  ['expm1', u.expm1, [-0.864664717, -0.39346934, 0, 0.648721271, 11.18249396]],
  ['sin', u.sin, [-0.909297427, -0.479425539, 0, 0.479425539, 0.598472144]],
  ['cos', u.cos, [-0.416146837, 0.877582562, 1, 0.877582562, -0.801143616]],
  ['atan', u.atan, [-1.107148718, -0.463647609, 0, 0.463647609, 1.19028995]],
  ['tanh', u.tanh, [-0.96402758, -0.462117157, 0, 0.462117157, 0.986614298]],
  ['sigmoid', u.sigmoid, [0.119202922, 0.377540669, 0.5, 0.622459331, 0.924141816]],
  ['softplus', u.softplus, [0.126928011, 0.474076984, 0.693147181, 0.974076984, 2.578889734]],
  ['floor', u.floor, [-2, -1, 0, 0, 2]],
  ['ceil', u.ceil, [-2, -0, 0, 1, 3]],
  ['round (half to even)', u.round, [-2, -0, 0, 0, 2]],
  ['leakyRelu', (x) => u.leakyRelu(x), [-0.02, -0.005, 0, 0.5, 2.5]],
  ['leakyRelu alpha 0.2', (x) => u.leakyRelu(x, 0.2), [-0.4, -0.1, 0, 0.5, 2.5]],
  ['elu', (x) => u.elu(x), [-0.864664717, -0.39346934, 0, 0.5, 2.5]],
  ['gelu (erf)', (x) => u.gelu(x), [-0.045500264, -0.154268769, 0, 0.345731231, 2.484475837]],
  ['gelu (tanh)', (x) => u.gelu(x, { approximate: 'tanh' }), [-0.045402306, -0.15428599, 0, 0.34571401, 2.484915734]],
  ['clip', (x) => u.clip(x, -1, 1), [-1, -0.5, 0, 0.5, 1]],
  ['clip open below', (x) => u.clip(x, null, 0.25), [-2, -0.5, 0, 0.25, 0.25]],
];

const POSITIVE = [0.25, 1, 4, 100];
const POSITIVE_CASES: [string, (x: Tensor) => Tensor, number[]][] = [
  ['log', u.log, [-1.386294361, 0, 1.386294361, 4.605170186]],
  ['log1p', u.log1p, [0.223143551, 0.693147181, 1.609437912, 4.615120517]],
  ['sqrt', u.sqrt, [0.5, 1, 2, 10]],
  ['rsqrt', u.rsqrt, [2, 1, 0.5, 0.1]],
  ['reciprocal', u.reciprocal, [4, 1, 0.25, 0.01]],
];

describe('unary ops', () => {
  for (const [name, op, expected] of CASES) {
    it(`${name} matches hand-computed values`, () => {
      const g = new Graph('u');
      const x = g.input('x', [5]);
      expectClose(values(op(x), { feeds: { x: INPUT }, precision: 'f64' }), expected, 1e-8, 1e-9);
    });
  }
  for (const [name, op, expected] of POSITIVE_CASES) {
    it(`${name} matches hand-computed values`, () => {
      const g = new Graph('u');
      const x = g.input('x', [4]);
      expectClose(values(op(x), { feeds: { x: POSITIVE }, precision: 'f64' }), expected, 1e-8, 1e-9);
    });
  }

  it('rounds halves to even, as NumPy and WGSL do', () => {
    const g = new Graph('u');
    const x = g.input('x', [6]);
    expect(values(u.round(x), { feeds: { x: [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999] } })).to.deep.equal([0, 2, 2, -0, -2, 2]);
  });

  it('keeps sigmoid and softplus finite and exact at ±1000', () => {
    const g = new Graph('u');
    const x = g.input('x', [2]);
    expect(values(u.sigmoid(x), { feeds: { x: [-1000, 1000] } })).to.deep.equal([0, 1]);
    expect(values(u.softplus(x), { feeds: { x: [-1000, 1000] } })).to.deep.equal([0, 1000]);
  });

  it('keeps the shape, including rank 0 and empty tensors', () => {
    const g = new Graph('u');
    expect(u.exp(g.input('s', [])).shape).to.deep.equal([]);
    const empty = u.exp(g.input('e', [3, 0]));
    expect(empty.shape).to.deep.equal([3, 0]);
    expect(values(empty, { feeds: { e: [] } })).to.deep.equal([]);
  });

  it('works on i32 for sign-like ops and refuses float-only ops on i32 with the fix', () => {
    const g = new Graph('u');
    const n = g.input('n', [3], 'i32');
    expect(values(u.abs(n), { feeds: { n: [-3, 0, 4] } })).to.deep.equal([3, 0, 4]);
    expect(u.relu(n).dtype).to.equal('i32');
    expect(() => u.exp(n)).to.throw(DTypeError, /exp\(i32\[3\]\): needs a float dtype, got i32. Fix: cast the operand to f32 with .cast\('f32'\)/);
    const mask = g.input('m', [3], 'bool');
    expect(() => u.neg(mask)).to.throw(DTypeError, /neg\(bool\[3\]\): needs a numeric dtype \(f32 or i32\), got bool/);
  });

  it('wraps i32 square around like the GPU, even where x² passes 2⁵³', () => {
    const g = new Graph('u');
    const n = g.input('n', [3], 'i32');
    expect(values(u.square(n), { feeds: { n: [46341, -2147483647, 2147483647] } })).to.deep.equal([-2147479015, 1, 1]);
  });

  it('refuses a fractional clip bound for an i32 tensor, with the fix', () => {
    const g = new Graph('u');
    const n = g.input('n', [3], 'i32');
    expect(() => u.clip(n, 0.5, 3)).to.throw(DTypeError, /clip\(n:i32\[3\]\): the bound 0.5 is a fraction, and x is i32. Fix: round the bound, or cast x with .cast\('f32'\)/);
    expect(values(u.clip(n, -1, 3e9), { feeds: { n: [-5, 0, 2147483647] } })).to.deep.equal([-1, 0, 2147483647]);
  });

  it('keeps the far negative tail of tanh-approximated GELU (no 1 + tanh cancellation)', () => {
    const g = new Graph('u');
    const x = g.input('x', [1]);
    // x / (1 + e^(−2u)) with u = √(2/π)(x + 0.044715x³), from Python's math module; ½x(1 + tanh(u)) in f64 is 0.7% off.
    expectClose(values(u.gelu(x, { approximate: 'tanh' }), { feeds: { x: [-7] }, precision: 'f64' }), [-2.315442262072538e-15], 1e-12, 0);
  });

  it('refuses bad attributes and non-tensor operands', () => {
    const g = new Graph('u');
    const x = g.input('x', [2]);
    expect(() => u.clip(x, 2, 1)).to.throw(ArgumentError, /clip: min \(2\) is greater than max \(1\)/);
    expect(() => u.leakyRelu(x, NaN)).to.throw(ArgumentError, /leakyRelu: alpha must be a finite number, got NaN/);
    expect(() => u.gelu(x, { approximate: 'fast' as never })).to.throw(ArgumentError, /approximate must be 'none' or 'tanh'/);
    expect(() => u.exp(3 as never)).to.throw(ArgumentError, /exp: the operand must be a Tensor, got number/);
  });
});
