import { expect } from 'chai';
import type { Dim } from '../../compiler/dims.js';
import { dimMul, evaluateDim, substituteDim, symbol } from '../../compiler/dims.js';
import { kernelLimits } from '../../compiler/limits.js';
import type { KernelSpec } from '../../compiler/codegen/kernel.js';
import type { AttentionKernelParams } from '../../shaders/attention.js';
import { attentionKernel } from '../../shaders/attention.js';
import { attentionWeightsKernel } from '../../shaders/attention-weights.js';
import { attentionRowsKernel } from '../../shaders/attention-rows.js';
import type { ConvGeometry } from '../../shaders/conv.js';
import { directConvKernel } from '../../shaders/conv.js';
import { weightGradKernel } from '../../shaders/conv-weight-grad.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';
import { runKernels } from './symbolic-kernel-runner.js';

/**
 * The conv and attention templates with symbolic sizes, run directly (no plan, no
 * Session): at each size the kernel reading its sizes from the size block gives exactly
 * what the static kernel for that size gives, except the conv weight gradient, whose
 * invocation count (so its tree of partial sums) a static kernel sizes to its batch.
 */

const batch = symbol('batch');
const seq = symbol('seq');

/** Runs `build`'s symbolic kernels at each size and its static kernels for that size on the same data; compares output node 2 or 3. */
async function compare(
  build: (at: (d: Dim) => Dim, dims: readonly string[]) => KernelSpec[],
  lengths: (at: (d: Dim) => number) => number[],
  sizesList: readonly Record<string, number>[],
  exact = true,
): Promise<void> {
  const dims = Object.keys(sizesList[0]!).sort();
  const symbolic = build((d) => d, dims);
  expect(symbolic.every((k) => k.readsDims)).to.equal(true);
  for (const sizes of sizesList) {
    const ns = lengths((d) => evaluateDim(d, sizes));
    const buffers = new Map(ns.map((length, node) => [node, new Float32Array(node === ns.length - 1 ? new Array<number>(length).fill(0) : testData(length, node + 1))]));
    const out = ns.length - 1;
    const got = (await runKernels(symbolic, buffers, dims, sizes)).get(out)!;
    const statics = build((d) => substituteDim(d, sizes), []);
    const want = (await runKernels(statics, buffers)).get(out)!;
    if (exact) expect(Array.from(got), `at ${JSON.stringify(sizes)}`).to.deep.equal(Array.from(want));
    else expectClose(got, want, 1e-5, 1e-5);
  }
}

const BATCHES = [{ batch: 1 }, { batch: 3 }, { batch: 67 }];

describe('conv and attention templates with symbolic sizes (kernels run directly)', () => {
  const geometry = (n: Dim): ConvGeometry => ({
    batch: n,
    imageChannels: 2,
    responseChannels: 6,
    groups: 1,
    image: [9, 9],
    response: [9, 9],
    kernel: [3, 3],
    stride: [1, 1],
    dilation: [1, 1],
    padBefore: [1, 1],
    padAfter: [1, 1],
  });
  const limits = async () => kernelLimits((await gpu()).device.limits);

  it('conv (a symbolic batch of images) equals the static kernel at batch 1, 3, 67', async () => {
    const l = await limits();
    await compare(
      (at, dims) => directConvKernel({ name: 'conv', header: [], limits: l, geometry: geometry(at(batch)), ids: [0, 1, 2], transposed: false, dims }),
      (at) => [at(dimMul(batch, 162)), 108, at(dimMul(batch, 486))],
      BATCHES,
    );
  });

  it('the conv input gradient (a gathered convTranspose) equals the static kernel', async () => {
    const l = await limits();
    await compare(
      (at, dims) => directConvKernel({ name: 'conv_t', header: [], limits: l, geometry: geometry(at(batch)), ids: [0, 1, 2], transposed: true, dims }),
      (at) => [at(dimMul(batch, 486)), 108, at(dimMul(batch, 162))],
      BATCHES,
    );
  });

  it('the conv weight gradient (sums over the batch) equals the static kernel to rounding', async () => {
    const l = await limits();
    await compare(
      (at, dims) => weightGradKernel({ name: 'conv_dw', header: [], limits: l, geometry: geometry(at(batch)), ids: [0, 1, 2], dims }),
      (at) => [at(dimMul(batch, 162)), at(dimMul(batch, 486)), 108],
      BATCHES,
      false,
    );
  });

  const attentionParams = (l: AttentionKernelParams['limits'], at: (d: Dim) => Dim, dims: readonly string[], withValues: boolean): AttentionKernelParams => {
    const [b, t] = [at(batch), at(seq)];
    return {
      name: 'attention',
      header: [],
      limits: l,
      ids: withValues ? [0, 1, 2, 3] : [0, 1, 2],
      layout: { batch: [b, 2], queries: t, keys: t, depth: 4, valueDepth: withValues ? 3 : 0 },
      strides: { q: [dimMul(t, 8), dimMul(t, 4)], k: [dimMul(t, 8), dimMul(t, 4)], v: [dimMul(t, 6), dimMul(t, 3)], mask: [0, 0, 0, 0] },
      masked: false,
      scale: 0.5,
      causal: true,
      dims,
    };
  };
  const SEQUENCES = [{ batch: 1, seq: 1 }, { batch: 3, seq: 5 }, { batch: 2, seq: 70 }];

  it('fused attention over a symbolic batch and sequence length equals the static kernel', async () => {
    const l = await limits();
    const qk = (at: (d: Dim) => number): number => at(dimMul(dimMul(batch, seq), 8));
    await compare((at, dims) => attentionKernel(attentionParams(l, at, dims, true)), (at) => [qk(at), qk(at), at(dimMul(dimMul(batch, seq), 6)), at(dimMul(dimMul(batch, seq), 6))], SEQUENCES);
  });

  it('barrier-free attention (1, 2 and 4 queries per invocation) over a symbolic batch and sequence length equals the static kernel', async () => {
    const l = await limits();
    const qk = (at: (d: Dim) => number): number => at(dimMul(dimMul(batch, seq), 8));
    for (const rows of [1, 2, 4] as const) {
      await compare((at, dims) => attentionRowsKernel(attentionParams(l, at, dims, true), rows), (at) => [qk(at), qk(at), at(dimMul(dimMul(batch, seq), 6)), at(dimMul(dimMul(batch, seq), 6))], SEQUENCES);
    }
  });

  it('the attention weights over a symbolic batch and sequence length equal the static kernel', async () => {
    const l = await limits();
    const qk = (at: (d: Dim) => number): number => at(dimMul(dimMul(batch, seq), 8));
    await compare((at, dims) => attentionWeightsKernel(attentionParams(l, at, dims, false)), (at) => [qk(at), qk(at), at(dimMul(dimMul(dimMul(batch, seq), seq), 2))], SEQUENCES);
  });
});
