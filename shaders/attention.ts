/**
 * Attention kernels (the ops are in compiler/ops/attention.ts).
 *
 * `attentionKernel` is the fused forward pass, after FlashAttention: a workgroup takes a
 * block of 64 queries of one (batch, head) matrix, one invocation per query. The keys and
 * values are walked in tiles that the workgroup loads together into workgroup memory, so
 * each is read from the buffer once per block rather than once per query. For every
 * allowed key an invocation computes the score (scale·q·k), then updates an online
 * softmax: a running max m, a running sum l of exp(score − m) and the weighted sum of
 * value rows, both rescaled by exp(m_old − m_new) whenever the max grows. Every exponent
 * is ≤ 0, so scores of ±1e4 cannot overflow, and the [Tq, Tk] weights are never stored.
 * With `causal`, a block stops at the key of its last query.
 *
 * attention-rows.ts has the barrier-free variant of the forward pass (one invocation per
 * few queries, for adapters where barriers are costly), attention-weights.ts the kernel
 * writing the weights themselves (for the backward pass).
 */

import { DeviceLimitError } from '../compiler/errors.js';
import type { KernelLimits, WorkgroupArray, WorkgroupCount } from '../compiler/codegen/wgsl.js';
import {
  WORKGROUP_SIZE,
  KernelBindings,
  grid,
  workgroupKernelSource,
  workgroupStorageBytes,
  literal,
  offsetExpr,
  unravel,
  wgslSize,
} from '../compiler/codegen/wgsl.js';
import type { Dim } from '../compiler/dims.js';
import { dimMul, dimProduct, dimSub, isSymbolic } from '../compiler/dims.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import { EXP, MAXIMUM } from './elementwise.js';
import type { Shape } from '../compiler/shape.js';
import { formatShape, sizeOf } from '../compiler/shape.js';

/**
 * The sizes every attention shape rule, reference and kernel works with. The batch dims
 * and the sequence lengths may be symbolic (read from the size block); the feature sizes
 * are static, since an invocation keeps a query row and an output row in registers.
 */
export interface AttentionLayout {
  /** The broadcast batch dims (all but the last two). */
  readonly batch: Shape;
  readonly queries: Dim;
  readonly keys: Dim;
  /** The feature size of q and k. */
  readonly depth: number;
  /** The feature size of v (0 for attentionWeights, which has no v). */
  readonly valueDepth: number;
}

/** Element strides of each operand per batch step, of the mask per query and key: what the reference and kernels index by. */
export interface AttentionStrides {
  readonly q: readonly Dim[];
  readonly k: readonly Dim[];
  readonly v: readonly Dim[];
  /** Over [...batch, Tq, Tk]; all zeros without a mask. */
  readonly mask: readonly Dim[];
}

export interface AttentionKernelParams {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  /** Node ids bound in order: q, k, (v,) (mask,) then the output. */
  readonly ids: readonly number[];
  readonly layout: AttentionLayout;
  readonly strides: AttentionStrides;
  readonly masked: boolean;
  readonly scale: number;
  readonly causal: boolean;
  /** The plan's symbolic dims (`LoweringContext.dims`), the size block's order. */
  readonly dims: readonly string[];
}

/** Queries per workgroup of the fused kernel, one invocation each. */
const QUERY_BLOCK = WORKGROUP_SIZE;
/** At most this many keys per tile: enough to amortize the two barriers a tile costs. */
const MAX_KEY_TILE = 64;
/**
 * WGSL guarantees 8 KiB of function-address-space memory per function; an invocation keeps
 * its query row and its output row there (plus a few scalars).
 */
const ROW_FLOATS_LIMIT = (8192 - 256) / 4;

/** A size as WGSL: a literal (`64u`), or read from the size block when symbolic. */
export const u = (x: Dim): string => wgslSize(x);

/** Statements defining the element offsets of matrix `matrix` in each operand (batch dims broadcast). */
export function matrixBases(p: AttentionKernelParams, withValues: boolean): string[] {
  const { batch } = p.layout;
  const coords = batch.map((_, axis) => `b${axis}`);
  const lines = batch.length > 0 ? [unravel('matrix', batch, 'b')] : [];
  lines.push(`let q_base = ${offsetExpr(coords, p.strides.q)};`, `let k_base = ${offsetExpr(coords, p.strides.k)};`);
  if (withValues) lines.push(`let v_base = ${offsetExpr(coords, p.strides.v)};`);
  if (p.masked) lines.push(`let mask_base = ${offsetExpr(coords, p.strides.mask.slice(0, -2))};`);
  return lines.flatMap((line) => line.split('\n').map((l) => l.trim()));
}

/** Whether query `row` may attend key `key`: the causal rule and the mask. */
export function allowed(p: AttentionKernelParams): string {
  const terms = [
    ...(p.causal ? ['key <= row'] : []),
    ...(p.masked ? [`mask[${offsetExpr(['mask_base', 'row', 'key'], [1, ...p.strides.mask.slice(-2)])}] != 0u`] : []),
  ];
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

/** Binding declarations of `p.ids`: q, k, (v,) (mask,) then out. */
export function declarations(p: AttentionKernelParams, withValues: boolean): { decls: string[]; bindings: KernelBindings } {
  const names = ['q', 'k', ...(withValues ? ['v'] : []), ...(p.masked ? ['mask'] : [])];
  const bindings = new KernelBindings();
  const decls = names.map((name, i) => bindings.storage(p.ids[i]!, name, name === 'mask' ? 'bool' : 'f32', 'read'));
  return { decls: [...decls, bindings.storage(p.ids[names.length]!, 'out', 'f32', 'read_write')], bindings };
}

export function describe(p: AttentionKernelParams): string {
  const { batch, queries, keys, depth, valueDepth } = p.layout;
  const masks = [...(p.causal ? ['causal'] : []), ...(p.masked ? ['masked'] : [])];
  const sizes = `${sizeOf(batch)} matrices ${formatShape(batch)} of ${queries} queries × ${keys} keys, d=${depth}, dv=${valueDepth}`;
  return masks.length > 0 ? `${sizes}, ${masks.join(' and ')}` : sizes;
}

/**
 * The softmax's max and exp keep NaN (a NaN or +∞ score makes its query's row NaN, as
 * softmax does in the reference and in PyTorch): WGSL's max and exp do not promise to.
 */
export const NAN_AWARE_HELPERS: readonly string[] = [...MAXIMUM, ...EXP];

/**
 * The workgroups of the fused kernel, one per block of QUERY_BLOCK queries of one matrix,
 * and the statements defining `matrix` and `block` (returning from surplus workgroups,
 * uniformly, so every barrier stays in uniform control flow). With static sequence
 * lengths the (matrix, block) pairs are one 1-D count (folded past the limit; read from
 * num_workgroups when the batch is symbolic); with a symbolic query count x runs over
 * blocks and y over matrices.
 */
export function queryBlocks(
  p: AttentionKernelParams,
  matrices: Dim,
  queries: Dim,
  perGroup = QUERY_BLOCK,
): { workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount]; foldX?: boolean; setup: string[] } {
  if (isSymbolic(queries)) {
    if (!isSymbolic(matrices) && matrices > p.limits.maxComputeWorkgroupsPerDimension) {
      throw new DeviceLimitError(
        `attention: ${matrices} (batch × head) matrices need as many workgroups along y, more than this device's maxComputeWorkgroupsPerDimension of ` +
          `${p.limits.maxComputeWorkgroupsPerDimension}. Fix: use fewer heads or a smaller batch per call.`,
      );
    }
    return {
      workgroups: [{ size: queries, per: perGroup }, isSymbolic(matrices) ? { size: matrices, per: 1 } : matrices, 1],
      setup: ['let matrix = wid.y;', 'let block = wid.x;'],
    };
  }
  const blocks = Math.ceil(queries / perGroup);
  const g = grid(dimMul(matrices, blocks * WORKGROUP_SIZE), p.limits);
  const width = isSymbolic(matrices) ? 'nwg.x' : u(Math.min(blocks * matrices, p.limits.maxComputeWorkgroupsPerDimension));
  return {
    workgroups: g.workgroups,
    ...(g.foldX ? { foldX: true } : {}),
    setup: [
      `let group = wid.y * ${width} + wid.x;`,
      `if (group >= ${u(dimMul(matrices, blocks))}) { return; }`,
      ...(blocks === 1 ? ['let matrix = group;', 'let block = 0u;'] : [`let matrix = group / ${u(blocks)};`, `let block = group % ${u(blocks)};`]),
    ],
  };
}

/** The fused forward kernel: softmax(scale·q·kᵀ, masked)·v with an online softmax. */
export function attentionKernel(p: AttentionKernelParams): KernelSpec[] {
  const { batch, queries, keys, depth, valueDepth } = p.layout;
  const matrices = sizeOf(batch);
  if (dimProduct([matrices, queries, valueDepth]) === 0) return [];
  if (depth + valueDepth > ROW_FLOATS_LIMIT) {
    throw new DeviceLimitError(
      `attention: an invocation keeps a query row (d=${depth}) and an output row (dv=${valueDepth}) in function memory, ` +
        `more than the ${ROW_FLOATS_LIMIT} floats WGSL guarantees. Fix: split the features into more heads of d + dv ≤ ${ROW_FLOATS_LIMIT}.`,
    );
  }
  const rowDepth = Math.max(depth, 1);
  const rowValueDepth = Math.max(valueDepth, 1);
  // Keys per tile so a tile of keys and values fits the workgroup storage; none fit: read the buffers directly.
  const tileArrays = (keysPerTile: number): WorkgroupArray[] => [
    { name: 'key_tile', elementType: 'f32', length: keysPerTile * rowDepth },
    { name: 'value_tile', elementType: 'f32', length: keysPerTile * rowValueDepth },
  ];
  // A symbolic key count takes the largest tile (the loop's last tile is partial anyway).
  let tile = isSymbolic(keys) ? MAX_KEY_TILE : Math.max(1, Math.min(MAX_KEY_TILE, keys));
  while (tile > 1 && workgroupStorageBytes(tileArrays(tile)) > p.limits.maxComputeWorkgroupStorageSize) tile--;
  const shared = workgroupStorageBytes(tileArrays(tile)) <= p.limits.maxComputeWorkgroupStorageSize;
  const groups = queryBlocks(p, matrices, queries);
  const keyAt = (c: string): string => (shared ? `key_tile[t * ${u(depth)} + ${c}]` : `k[k_base + key * ${u(depth)} + ${c}]`);
  const valueAt = (c: string): string => (shared ? `value_tile[t * ${u(valueDepth)} + ${c}]` : `v[v_base + key * ${u(valueDepth)} + ${c}]`);
  // A causal block never needs keys past its last query's (top-left alignment: key ≤ query).
  const keyEnd = p.causal ? `min(${u(keys)}, block * ${u(QUERY_BLOCK)} + ${u(QUERY_BLOCK)})` : u(keys);
  const load = (buffer: 'k' | 'v', width: number): string[] => [
    `for (var e = lid; e < tile_keys * ${u(width)}; e += ${u(WORKGROUP_SIZE)}) {`,
    `  ${buffer === 'k' ? 'key_tile' : 'value_tile'}[e] = ${buffer}[${buffer}_base + tile_start * ${u(width)} + e];`,
    '}',
  ];
  const body = [
    ...groups.setup,
    ...matrixBases(p, true),
    `let query = block * ${u(QUERY_BLOCK)} + lid;`,
    // Invocations past the last query join the loads and barriers with a valid row, and store nothing.
    `let row = min(query, ${u(dimSub(queries, 1))});`,
    `var q_row: array<f32, ${rowDepth}>;`,
    `for (var c = 0u; c < ${u(depth)}; c++) { q_row[c] = q[q_base + row * ${u(depth)} + c]; }`,
    `var acc: array<f32, ${rowValueDepth}>;`,
    'var row_max = 0.0f;',
    'var row_total = 0.0f;',
    'var seen = false;',
    `let key_end = ${keyEnd};`,
    `for (var tile_start = 0u; tile_start < key_end; tile_start += ${u(tile)}) {`,
    `  let tile_keys = min(${u(tile)}, key_end - tile_start);`,
    ...(shared ? [...load('k', depth), ...load('v', valueDepth), 'workgroupBarrier();'].map((l) => `  ${l}`) : []),
    '  for (var t = 0u; t < tile_keys; t++) {',
    '    let key = tile_start + t;',
    `    if (${allowed(p)}) {`,
    '      var dot = 0.0f;',
    `      for (var c = 0u; c < ${u(depth)}; c++) { dot += q_row[c] * ${keyAt('c')}; }`,
    `      let score = dot * ${literal(p.scale, 'f32')};`,
    // The first allowed key starts the running max, so no −∞ is ever needed.
    '      if (!seen) { row_max = score; seen = true; }',
    '      let new_max = kiln_maximum(row_max, score);',
    '      let correction = kiln_exp(row_max - new_max);',
    '      let weight = kiln_exp(score - new_max);',
    '      row_total = row_total * correction + weight;',
    `      for (var c = 0u; c < ${u(valueDepth)}; c++) { acc[c] = acc[c] * correction + weight * ${valueAt('c')}; }`,
    '      row_max = new_max;',
    '    }',
    '  }',
    ...(shared ? ['  workgroupBarrier();'] : []),
    '}',
    `if (query < ${u(queries)}) {`,
    `  let out_base = (matrix * ${u(queries)} + query) * ${u(valueDepth)};`,
    // A query with no allowed key has acc = 0 and row_total = 0: its output is 0.
    `  for (var c = 0u; c < ${u(valueDepth)}; c++) { out[out_base + c] = select(0.0f, acc[c] / row_total, seen); }`,
    '}',
  ];
  const { decls, bindings } = declarations(p, true);
  const source = workgroupKernelSource({
    name: p.name,
    header: [
      ...p.header,
      `${describe(p)}: one workgroup per ${QUERY_BLOCK} queries, ` +
        `${shared ? `keys and values in tiles of ${tile} in workgroup memory` : 'keys and values read from their buffers'}, online softmax`,
    ],
    decls,
    workgroupMemory: shared ? tileArrays(tile) : [],
    workgroupSize: WORKGROUP_SIZE,
    helpers: NAN_AWARE_HELPERS,
    body,
    dims: p.dims,
  });
  return [{ name: p.name, ...source, workgroups: groups.workgroups, ...(groups.foldX ? { foldX: true } : {}), bindings: bindings.list }];
}
