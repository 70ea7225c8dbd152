import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { matmul } from '../../compiler/ops/matmul.js';
import { sum } from '../../compiler/ops/reduce.js';
import { add } from '../../compiler/ops/binary.js';
import { relu } from '../../compiler/ops/unary.js';
import { compile } from '../../compiler/plan.js';
import { interpret } from '../../compiler/reference.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from './harness.js';

/**
 * Tolerance: the GPU accumulates in f32, in its own order; the reference in double,
 * rounded once. With operands in [-1, 1) a sum of k products has size ~sqrt(k) and a
 * sequential f32 sum errs by ~sqrt(k) ulps of that: measured max |error| 0.1–0.5·k·2^-24
 * for k = 33…4096 (1.4e-5 at 64×784×32). So atol = k·2^-23, about twice that.
 */
const tolerance = (k: number) => ({ rtol: 1e-5, atol: Math.max(k, 1) * 2 ** -23 });

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A graph `y = matmul(a, b, options)` with inputs a and b of the given stored shapes. */
function product(shapeA: number[], shapeB: number[], options: { transposeA?: boolean; transposeB?: boolean } = {}, dtype: 'f32' | 'i32' = 'f32') {
  const g = new Graph('matmul');
  g.output('y', matmul(g.input('a', shapeA, dtype), g.input('b', shapeB, dtype), options));
  return g;
}

/** Runs `a·b` (stored shapes, with flags) on the GPU against the reference; returns the kernel names. */
async function check(shapeA: number[], shapeB: number[], options: { transposeA?: boolean; transposeB?: boolean } = {}): Promise<string[]> {
  const g = product(shapeA, shapeB, options);
  const k = options.transposeA ? shapeA[shapeA.length - 2]! : shapeA[shapeA.length - 1]!;
  await expectGpuMatchesReference(g, { a: testData(size(shapeA), 1), b: testData(size(shapeB), 2) }, tolerance(k));
  return compile(g).kernels.map((kernel) => kernel.name);
}

describe('matmul on the GPU', () => {
  it('multiplies 1×1 matrices', async () => {
    await check([1, 1], [1, 1]);
  });

  it('multiplies [3,17]·[17,5], where every block is an edge block', async () => {
    const names = await check([3, 17], [17, 5]);
    expect(names).to.deep.equal(['k2_matmul_scalar']);
  });

  it('multiplies [129,33]·[33,65], with edge blocks along both m and n', async () => {
    await check([129, 33], [33, 65]);
  });

  it('reads vec4 along k of a and n of b when both are multiples of 4, and says so in the kernel name', async () => {
    const names = await check([9, 12], [12, 20]);
    expect(names).to.deep.equal(['k2_matmul_ak4_bn4']);
  });

  it('broadcasts batch dims: [2,1,3,4]·[5,4,6] gives [2,5,3,6]', async () => {
    const out = await expectGpuMatchesReference(product([2, 1, 3, 4], [5, 4, 6]), { a: testData(24, 1), b: testData(120, 2) }, tolerance(4));
    expect(out['y']!.shape).to.deep.equal([2, 5, 3, 6]);
  });

  it('broadcasts a batch of b over a single a, with vec4 loads', async () => {
    await check([8, 12], [3, 12, 16]);
  });

  // Unaligned shapes take scalar loads; aligned ones the vec4 variant that each flag combination allows.
  const combos = [
    { transposeA: false, transposeB: false, aligned: 'ak4_bn4' },
    { transposeA: true, transposeB: false, aligned: 'am4_bn4' },
    { transposeA: false, transposeB: true, aligned: 'ak4_bk4' },
    { transposeA: true, transposeB: true, aligned: 'am4_bk4' },
  ];
  for (const { transposeA, transposeB, aligned } of combos) {
    const flags = { transposeA, transposeB };
    const stored = (m: number, k: number, n: number): [number[], number[]] => [transposeA ? [k, m] : [m, k], transposeB ? [n, k] : [k, n]];
    it(`honours transposeA=${transposeA}, transposeB=${transposeB} on unaligned shapes (batched [2]·[2])`, async () => {
      const [a, b] = stored(7, 11, 5);
      const names = await check([2, ...a], [2, ...b], flags);
      expect(names).to.deep.equal(['k2_matmul_scalar']);
    });
    it(`honours transposeA=${transposeA}, transposeB=${transposeB} on aligned shapes, through the ${aligned} variant`, async () => {
      const [a, b] = stored(12, 8, 16);
      const names = await check([2, ...a], b, flags);
      expect(names).to.deep.equal([`k2_matmul_${aligned}`]);
    });
  }

  it('reads vec4 along m of a stored transposed and n of b whatever k is, finishing an odd k one step at a time', async () => {
    const names = await check([11, 12], [11, 16], { transposeA: true });
    expect(names).to.deep.equal(['k2_matmul_am4_bn4']);
  });

  // A weight gradient xᵀ·g with its bias gradient (g's column sums) fused as a row of ones
  // appended to xᵀ: vec4 reads along m when 4 divides m, in 4×4 blocks (small) or 8×8 (large).
  for (const { k, m, n, kernel } of [
    { k: 5, m: 12, n: 7, kernel: 'k2_matmul_am4_bs_epilogue' },
    { k: 1, m: 8, n: 8, kernel: 'k2_matmul_am4_bn4_epilogue' },
    { k: 3, m: 10, n: 8, kernel: 'k2_matmul_as_bn4_epilogue' },
    { k: 9, m: 132, n: 68, kernel: 'k2_matmul_am4_bn4_b8x8_w64_epilogue' },
    { k: 2, m: 100, n: 100, kernel: 'k2_matmul_am4_bn4_b8x8_w64_epilogue' },
  ]) {
    it(`fuses the bias gradient into the weight gradient xᵀ·g as a row of ones: k=${k}, m=${m}, n=${n} (${kernel})`, async () => {
      const g = new Graph('weight_gradient');
      const x = g.input('x', [k, m]);
      const dy = g.input('dy', [k, n]);
      g.output('dw', matmul(x, dy, { transposeA: true }));
      g.output('db', sum(dy, 0));
      await expectGpuMatchesReference(g, { x: testData(k * m, 1), dy: testData(k * n, 2) }, tolerance(k));
      expect(compile(g).kernels.map((kernel) => kernel.name)).to.deep.equal([kernel]);
    });
  }

  // The epilogue is inlined at each call site, so a block's outputs go through one call in a
  // loop (pipeline creation grew ~5× with 64 call sites), guarded at the block's edges.
  for (const [m, k, n, kernel] of [
    [130, 36, 70, 'k2_matmul_ak4_bs_b8x8_w64_epilogue'],
    [96, 20, 128, 'k2_matmul_ak4_bn4_b8x8_w64_epilogue'],
  ] as const) {
    it(`runs a fused bias and relu over each 8×8 block from one call site: [${m},${k}]·[${k},${n}] (${kernel})`, async () => {
      const g = new Graph('layer');
      g.output('y', relu(add(matmul(g.input('x', [m, k]), g.input('w', [k, n])), g.input('bias', [n]))));
      await expectGpuMatchesReference(g, { x: testData(m * k, 1), w: testData(k * n, 2), bias: testData(n, 3) }, tolerance(k));
      const [compiled] = compile(g).kernels;
      expect(compiled!.name).to.equal(kernel);
      expect(compiled!.wgsl.split('kiln_epilogue(').length - 1, 'call sites and the declaration').to.equal(2);
    });
  }

  it('multiplies 1-D operands as NumPy does (the functional form reshapes around the node)', async () => {
    const g = new Graph('vectors');
    const v = g.input('v', [17]);
    const w = g.input('w', [17]);
    const m = g.input('m', [17, 3]);
    const r = g.input('r', [5, 17]);
    g.output('dot', matmul(v, w));
    g.output('rowTimesMatrix', matmul(v, m));
    g.output('matrixTimesColumn', matmul(r, w));
    const out = await expectGpuMatchesReference(g, { v: testData(17, 1), w: testData(17, 2), m: testData(51, 3), r: testData(85, 4) }, tolerance(17));
    expect(out['dot']!.shape).to.deep.equal([]);
    expect(out['rowTimesMatrix']!.shape).to.deep.equal([3]);
    expect(out['matrixTimesColumn']!.shape).to.deep.equal([5]);
  });

  it('multiplies i32 matrices exactly, wrapping on overflow like the reference', async () => {
    // Values near ±3e5 make products near 1e11: every sum wraps past 2^31.
    const ints = (n: number, seed: number) => testData(n, seed, -3e5, 3e5).map(Math.round);
    for (const [shapeA, shapeB] of [
      [[5, 7], [7, 3]],
      [[4, 8], [8, 12]],
    ] as const) {
      const g = product([...shapeA], [...shapeB], {}, 'i32');
      const feeds = { a: Int32Array.from(ints(size(shapeA), 1)), b: Int32Array.from(ints(size(shapeB), 2)) };
      const out = await expectGpuMatchesReference(g, feeds, { rtol: 0, atol: 0 });
      expect(out['y']!.dtype).to.equal('i32');
      expect([...out['y']!.data].some((v) => Math.abs(v) > 2 ** 28), 'large wrapped values').to.equal(true);
    }
  });

  it('gives zeros when the inner dimension k is 0, binding no operand', async () => {
    const g = product([3, 0], [0, 5]);
    const out = await expectGpuMatchesReference(g, { a: [], b: [] });
    expect([...out['y']!.data]).to.deep.equal(new Array(15).fill(0));
    expect(compile(g).kernels.map((k) => k.name)).to.deep.equal(['k2_matmul_fill']);
  });

  it('emits no kernel for an empty output', () => {
    expect(compile(product([0, 4], [4, 5])).kernels).to.deep.equal([]);
  });

  it('folds its dispatch into 2-D when a dimension of workgroups would pass the device limit', async () => {
    const { device } = await gpu();
    // 18×9 blocks of 4×4 outputs are 3×2 workgroup tiles of 8×8 blocks; over 3 batches 18 workgroups, folded to 5×4 (two idle).
    const g = product([3, 70, 5], [3, 5, 36]);
    const plan = compile(g, { limits: { ...device.limits, maxComputeWorkgroupsPerDimension: 5 } });
    expect(plan.kernels[0]!.workgroups).to.deep.equal([5, 4, 1]);
    const session = await Session.create(device, plan);
    try {
      const feeds = { a: testData(3 * 70 * 5, 1), b: testData(3 * 5 * 36, 2) };
      const gpuOut = await session.forward(feeds);
      const reference = interpret(g, { feeds });
      expectClose(gpuOut['y']!.data, reference['y']!.data, tolerance(5).rtol, tolerance(5).atol);
    } finally {
      session.destroy();
    }
  });
});
