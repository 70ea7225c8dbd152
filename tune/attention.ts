/**
 * Times the attention forward variants (compiler/codegen/attention-tuning.ts) on the
 * user's adapter and records the fastest in a tuning table's `attention` entry:
 *
 *   const tuning = await autotuneAttention(gpu, await autotune(gpu));
 *   const plan = compile(program, { limits: gpu.limits, tuning });
 *
 * One representative shape, a causal head of a small transformer: [8 × 4] matrices of 64
 * queries and keys, d = dv = 16. The variants differ in how they pay for sharing keys
 * (barriers or repeated reads), which every such shape pays alike.
 */

import type { AttentionTuning, AttentionVariant } from '../compiler/codegen/attention-tuning.js';
import { ATTENTION_VARIANTS, DEFAULT_ATTENTION_VARIANT, variantRows } from '../compiler/codegen/attention-tuning.js';
import type { TuningTable } from '../compiler/codegen/tuning.js';
import { checkTuningTable } from '../compiler/codegen/tuning.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { kernelLimits } from '../compiler/codegen/wgsl.js';
import { ArgumentError } from '../compiler/errors.js';
import type { KilnDevice } from '../runtime/device.js';
import type { AttentionKernelParams } from '../shaders/attention.js';
import { attentionKernel } from '../shaders/attention.js';
import { attentionRowsKernel } from '../shaders/attention-rows.js';
import type { TimedKernel } from './autotune.js';
import { race } from './autotune.js';

const [MATRICES, HEADS, SEQUENCE, DEPTH] = [8, 4, 64, 16];

/** The representative attention as `variant` runs it, with its FLOPs (both products, causal: half the scores). */
function representativeAttention(variant: AttentionVariant, limits: KernelLimits): TimedKernel & { flops: number } {
  const matrix = SEQUENCE * DEPTH;
  const params: AttentionKernelParams = {
    name: `tune_attention_${variant}`,
    header: [`autotune: attention ${variant}`],
    limits,
    ids: [0, 1, 2, 3],
    layout: { batch: [MATRICES, HEADS], queries: SEQUENCE, keys: SEQUENCE, depth: DEPTH, valueDepth: DEPTH },
    strides: { q: [HEADS * matrix, matrix], k: [HEADS * matrix, matrix], v: [HEADS * matrix, matrix], mask: [0, 0, 0, 0] },
    masked: false,
    scale: 1 / Math.sqrt(DEPTH),
    causal: true,
    dims: [],
  };
  const rows = variantRows(variant);
  const [spec] = rows === undefined ? attentionKernel(params) : attentionRowsKernel(params, rows);
  const bytes = MATRICES * HEADS * matrix * 4;
  const workgroups = spec!.workgroups as [number, number, number];
  return { ...spec!, workgroups, bindingBytes: [bytes, bytes, bytes, bytes], flops: 2 * MATRICES * HEADS * SEQUENCE * SEQUENCE * DEPTH };
}

/**
 * `table` with the adapter's fastest attention variant (the default unless another beats
 * it by `margin`, confirmed in a second, longer round) and every variant's GFLOP/s.
 */
export async function autotuneAttention(gpu: KilnDevice, table: TuningTable, options: { repeats?: number; runMs?: number; margin?: number } = {}): Promise<TuningTable & AttentionTuning> {
  if (gpu === null || typeof gpu !== 'object' || !gpu.device) {
    throw new ArgumentError(`autotuneAttention: expected the device requestDevice() returned, got ${gpu === null ? 'null' : typeof gpu}.`);
  }
  checkTuningTable(table);
  const limits = kernelLimits(gpu.device.limits);
  const variants = [DEFAULT_ATTENTION_VARIANT, ...ATTENTION_VARIANTS.filter((v) => v !== DEFAULT_ATTENTION_VARIANT)];
  const kernels = variants.map((variant) => representativeAttention(variant, limits));
  const timing = { repeats: options.repeats ?? 3, runMs: options.runMs ?? 20 };
  // GFLOP/s: flops per ms / 1e6; the default first, the one a challenger must beat.
  const { winner, rates } = await race(gpu.device, kernels, variants, (i) => kernels[i]!.flops / 1e6, timing, options.margin ?? 0.1);
  return { ...table, attention: winner as AttentionVariant, measured: { ...table.measured, attention: rates } };
}
