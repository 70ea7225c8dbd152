import { expect } from 'chai';
import type { Epilogue } from '../../compiler/codegen/kernel.js';
import type { Dim } from '../../compiler/dims.js';
import { dimMul, dimProduct, evaluateDim, isSymbolic, substituteDim, symbol } from '../../compiler/dims.js';
import { kernelLimits } from '../../compiler/limits.js';
import { broadcastStrides, sizeOf } from '../../compiler/shape.js';
import type { Shape } from '../../compiler/shape.js';
import type { MatmulProblem } from '../../shaders/matmul.js';
import type { MatmulVariant } from '../../compiler/codegen/tuning.js';
import { matmulKernel } from '../../shaders/matmul.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';
import { runKernels } from './symbolic-kernel-runner.js';

/**
 * The matmul template with symbolic sizes, run directly (no plan, no Session): at each
 * batch size its kernel, reading the size from the size block, must give exactly what the
 * static kernel generated for that size gives (each output sums k in the same order, in
 * chunks of 4 and then the tail), and match a double-precision reference.
 */

const batch = symbol('batch');
const SIZES = [1, 3, 67];

interface Case {
  readonly batchDims: Shape;
  readonly m: Dim;
  readonly k: Dim;
  readonly n: Dim;
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  /** a's and b's own batch dims (broadcast to batchDims). */
  readonly batchA?: Shape;
  readonly batchB?: Shape;
  /** A weight gradient's fused bias gradient: a row of ones appended to aᵀ (the epilogue stores). */
  readonly onesRow?: boolean;
  /** Block and workgroup sizes (default 4×4, 64). */
  readonly variant?: MatmulVariant;
}

/** An epilogue that only stores, as fusion builds for a weight gradient with its bias gradient. */
const storeEpilogue = (out: number, columnSums: boolean): Epilogue => ({
  bindings: [{ node: out, access: 'read_write' }],
  code: (first) => [`@group(0) @binding(${first}) var<storage, read_write> out: array<f32>;`, 'fn kiln_epilogue(i: u32, value: f32) { out[i] = value; }'],
  columnSums,
});

async function problemAt(c: Case, sizes: Record<string, number> | undefined): Promise<MatmulProblem> {
  const { device } = await gpu();
  const at = (d: Dim): Dim => (sizes ? substituteDim(d, sizes) : d);
  const batchDims = c.batchDims.map(at);
  const [m, k, n] = [at(c.m), at(c.k), at(c.n)];
  const batchA = (c.batchA ?? c.batchDims).map(at);
  const batchB = (c.batchB ?? c.batchDims).map(at);
  const dims = sizes ? [] : ['batch'];
  return {
    name: 'k3_matmul',
    header: [],
    limits: kernelLimits(device.limits),
    dtype: 'f32',
    ids: [0, 1, 2],
    batch: batchDims,
    m,
    k,
    n,
    transposeA: c.transposeA ?? false,
    transposeB: c.transposeB ?? false,
    batchStridesA: broadcastStrides(batchA, batchDims).map((s) => dimProduct([s, m, k])),
    batchStridesB: broadcastStrides(batchB, batchDims).map((s) => dimProduct([s, k, n])),
    ...(c.onesRow ? { epilogue: storeEpilogue(2, true), onesRow: true } : {}),
    ...(c.variant ? { variant: c.variant } : {}),
    dims,
  };
}

/** a·b in double (stored layouts, batch broadcast), with the row of ones' column sums when asked. */
function reference(c: Case, sizes: Record<string, number>, a: Float32Array, b: Float32Array): Float64Array {
  const ev = (d: Dim): number => evaluateDim(d, sizes);
  const [m, k, n] = [ev(c.m), ev(c.k), ev(c.n)];
  const batchDims = c.batchDims.map(ev);
  const stridesA = broadcastStrides((c.batchA ?? c.batchDims).map(ev), batchDims);
  const stridesB = broadcastStrides((c.batchB ?? c.batchDims).map(ev), batchDims);
  const rows = c.onesRow ? m + 1 : m;
  const matrices = sizeOf(batchDims);
  const out = new Float64Array(matrices * rows * n);
  for (let t = 0; t < matrices; t++) {
    let rest = t;
    let baseA = 0;
    let baseB = 0;
    for (let axis = batchDims.length - 1; axis >= 0; axis--) {
      const coord = rest % batchDims[axis]!;
      rest = Math.floor(rest / batchDims[axis]!);
      baseA += coord * stridesA[axis]! * m * k;
      baseB += coord * stridesB[axis]! * k * n;
    }
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const x = i === m ? 1 : a[baseA + (c.transposeA ? p * m + i : i * k + p)]!;
          acc += x * b[baseB + (c.transposeB ? j * k + p : p * n + j)]!;
        }
        out[(t * rows + i) * n + j] = acc;
      }
    }
  }
  return out;
}

async function check(c: Case): Promise<string[]> {
  const symbolic = matmulKernel(await problemAt(c, undefined));
  expect(symbolic).to.have.length(1);
  expect(symbolic[0]!.readsDims).to.equal(true);
  for (const value of SIZES) {
    const sizes = { batch: value };
    const ev = (d: Dim): number => evaluateDim(d, sizes);
    const [m, k, n] = [ev(c.m), ev(c.k), ev(c.n)];
    const a = new Float32Array(testData(sizeOf((c.batchA ?? c.batchDims).map(ev)) * m * k, 1));
    const b = new Float32Array(testData(sizeOf((c.batchB ?? c.batchDims).map(ev)) * k * n, 2));
    const outLength = sizeOf(c.batchDims.map(ev)) * (c.onesRow ? m + 1 : m) * n;
    const buffers = new Map([[0, a], [1, b], [2, new Float32Array(outLength)]]);
    const fromSymbolic = (await runKernels(symbolic, buffers, ['batch'], sizes)).get(2)!;
    const statics = matmulKernel(await problemAt(c, sizes));
    expect(statics[0]!.readsDims, 'the static kernel reads no size block').to.equal(false);
    const fromStatic = (await runKernels(statics, buffers)).get(2)!;
    expect([...fromSymbolic], `batch ${value}: symbolic vs static kernel (${statics[0]!.name})`).to.deep.equal([...fromStatic]);
    expectClose(fromSymbolic, reference(c, sizes, a, b), 1e-5, Math.max(k, 1) * 2 ** -23);
  }
  return [symbolic[0]!.name];
}

describe('matmul template with a symbolic batch (kernels run directly)', () => {
  it('a forward layer: x[batch,20]·W[20,12] (m symbolic)', async () => {
    expect(await check({ batchDims: [], m: batch, k: 20, n: 12 })).to.deep.equal(['k3_matmul_ak4_bn4']);
  });

  it('a forward layer with W stored [n,k] and odd sizes: x[batch,7]·Wᵀ (W [5,7])', async () => {
    await check({ batchDims: [], m: batch, k: 7, n: 5, transposeB: true });
  });

  it('a weight gradient xᵀ·dy with k = batch (runtime k bound and tail)', async () => {
    expect(await check({ batchDims: [], m: 20, k: batch, n: 12, transposeA: true })).to.deep.equal(['k3_matmul_am4_bn4']);
  });

  it('a weight gradient with its bias gradient fused: the row of ones over k = batch', async () => {
    await check({ batchDims: [], m: 9, k: batch, n: 6, transposeA: true, onesRow: true });
  });

  it('a weight gradient with its bias gradient, m a multiple of 4: the row of ones read as a vec4 of its own', async () => {
    expect(await check({ batchDims: [], m: 12, k: batch, n: 6, transposeA: true, onesRow: true })).to.deep.equal(['k3_matmul_am4_bs_epilogue']);
    expect(await check({ batchDims: [], m: 8, k: batch, n: 8, transposeA: true, onesRow: true })).to.deep.equal(['k3_matmul_am4_bn4_epilogue']);
  });

  it('a weight gradient with its bias gradient in 8×8 blocks: the row of ones in the second vec4 of an edge block', async () => {
    const variant = { rows: 8, cols: 8, workgroupSize: 64 } as const;
    expect(await check({ batchDims: [], m: 12, k: batch, n: 20, transposeA: true, onesRow: true, variant })).to.deep.equal([
      'k3_matmul_am4_bn4_b8x8_w64_epilogue',
    ]);
    expect(await check({ batchDims: [], m: 16, k: dimMul(4, batch), n: 8, transposeA: true, onesRow: true, variant })).to.deep.equal([
      'k3_matmul_am4_bn4_b8x8_w64_epilogue',
    ]);
  });

  it('a forward layer in 8×8 blocks with odd sizes: x[batch,7]·W[7,13]', async () => {
    await check({ batchDims: [], m: batch, k: 7, n: 13, variant: { rows: 8, cols: 8, workgroupSize: 64 } });
  });

  it('an input gradient dy·Wᵀ: dy[batch,12]·W[20,12]ᵀ', async () => {
    await check({ batchDims: [], m: batch, k: 12, n: 20, transposeB: true });
  });

  it('a symbolic n: a[4,8]·b[8,batch]', async () => {
    await check({ batchDims: [], m: 4, k: 8, n: batch });
  });

  it('4·batch rows: vec4 reads of a transposed a stay (4 divides every size)', async () => {
    const names = await check({ batchDims: [], m: dimMul(4, batch), k: 6, n: 8, transposeA: true });
    expect(names[0]).to.equal('k3_matmul_am4_bn4');
  });

  it('a batched matmul over [batch,2] matrices with b broadcast (attention heads)', async () => {
    await check({ batchDims: [batch, 2], m: 5, k: 8, n: 6, batchA: [batch, 2], batchB: [] });
  });

  it('a batched matmul of small matrices, several per workgroup', async () => {
    await check({ batchDims: [batch], m: 3, k: 5, n: 2 });
  });

  it('the static problem still folds into the 1-D grid it had', async () => {
    const [kernel] = matmulKernel(await problemAt({ batchDims: [], m: batch, k: 20, n: 12 }, { batch: 64 }));
    expect(kernel!.workgroups.every((c) => !isSymbolic(typeof c === 'number' ? c : c.size))).to.equal(true);
    expect(kernel!.wgsl).not.to.include('kiln_dims');
  });
});
