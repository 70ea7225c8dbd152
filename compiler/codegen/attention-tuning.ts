/**
 * How the fused attention forward pass runs (shaders/attention.ts, attention-rows.ts), and
 * the tuning-table entry that picks it per adapter. A `TuningTable` (tuning.ts) may carry
 * `attention: '<variant>'`, which `autotuneAttention` (tune/attention.ts) measures; without
 * one, DEFAULT_ATTENTION_VARIANT runs.
 *
 * - `tiled`: a workgroup of 64 queries loads tiles of keys and values into workgroup
 *   memory together, two barriers per tile (FlashAttention's layout).
 * - `rows1`, `rows2`, `rows4`: each invocation owns 1, 2 or 4 queries and streams the key
 *   and value rows from their buffers: no workgroup memory, no barriers.
 *
 * The default is `rows1`. On SwiftShader (a CPU, where a barrier is a context switch) it
 * runs the char transformer's attention 3–8× faster than `tiled` (see the commit notes
 * for the figures). On a GPU it keeps the tiled kernel's parallelism (one invocation per
 * query) and its reuse: a workgroup's queries all belong to one matrix and walk the keys
 * in step, so every key and value read is the same address across a warp, one broadcast
 * from cache, which is what the shared tile buys, without the tile's copy and barriers.
 * `rows2`/`rows4` reuse each loaded row across more queries but cut the invocations by
 * 2–4×, which a GPU with thousands of lanes feels on short sequences; the tuner picks them
 * where they win.
 */

import { ArgumentError } from '../errors.js';
import type { TuningTable } from './tuning.js';

export type AttentionVariant = 'tiled' | 'rows1' | 'rows2' | 'rows4';

export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['tiled', 'rows1', 'rows2', 'rows4'];

export const DEFAULT_ATTENTION_VARIANT: AttentionVariant = 'rows1';

/** The attention entry a tuning table may carry, beside its matmul and reduce entries. */
export interface AttentionTuning {
  readonly attention?: AttentionVariant;
  readonly measured?: { readonly attention?: Readonly<Partial<Record<AttentionVariant, number>>> };
}

/** The table's attention variant (checked), or the default when it has none. */
export function attentionVariantFor(tuning: TuningTable | undefined): AttentionVariant {
  const chosen = (tuning as (TuningTable & AttentionTuning) | undefined)?.attention;
  if (chosen === undefined) return DEFAULT_ATTENTION_VARIANT;
  if (!ATTENTION_VARIANTS.includes(chosen)) {
    throw new ArgumentError(`tuning: attention variant '${String(chosen)}' is not one of ${ATTENTION_VARIANTS.join(', ')}. Fix: use one of them, or run autotuneAttention again.`);
  }
  return chosen;
}

/** Queries per invocation of a rows variant (undefined for `tiled`). */
export function variantRows(variant: AttentionVariant): 1 | 2 | 4 | undefined {
  return variant === 'tiled' ? undefined : (Number(variant.slice(4)) as 1 | 2 | 4);
}
