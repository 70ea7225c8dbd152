/**
 * The barrier-free forward attention kernel (the tiled one is `attentionKernel` in
 * attention.ts): each invocation owns `rows` consecutive queries of one matrix and streams
 * every key and value row straight from its buffer, with the same online softmax as the
 * tiled kernel, in registers. No workgroup memory and no barriers: on an adapter that runs
 * a workgroup's invocations as CPU threads or coroutines (SwiftShader), a barrier is a
 * context switch, and the tiled kernel pays two per tile of keys. Owning several queries
 * lets each loaded key and value row serve all of them, as a matmul's register block does.
 *
 * Per query the arithmetic is the tiled kernel's, in the same order (the dot product from
 * feature 0 up, the same rescaling), so both give the same results on a given adapter.
 * The rows are unrolled into registers (vec4 where d and dv are multiples of 4), so the
 * variant applies to heads of at most ROWS_FEATURE_LIMIT features (`rowsVariantFits`).
 */

import { KernelBindings, WORKGROUP_SIZE, literal, offsetExpr, workgroupKernelSource } from '../compiler/codegen/wgsl.js';
import { dimProduct, dimSub } from '../compiler/dims.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { AttentionKernelParams, AttentionLayout } from './attention.js';
import { NAN_AWARE_HELPERS, describe, matrixBases, queryBlocks, u } from './attention.js';
import { sizeOf } from '../compiler/shape.js';

/** Queries per invocation the variant may take. */
export type AttentionRows = 1 | 2 | 4;

/** d + dv beyond this would unroll into too many registers (and too much WGSL): the tiled kernel takes such heads. */
export const ROWS_FEATURE_LIMIT = 128;

/** Whether the rows variant can run attention of this layout. */
export function rowsVariantFits(layout: Pick<AttentionLayout, 'depth' | 'valueDepth'>): boolean {
  return layout.depth + layout.valueDepth <= ROWS_FEATURE_LIMIT;
}

const LANES = ['x', 'y', 'z', 'w'] as const;
const upTo = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** The forward pass softmax(scale·q·kᵀ, masked)·v, `rows` queries per invocation, no workgroup memory. */
export function attentionRowsKernel(p: AttentionKernelParams, rows: AttentionRows): KernelSpec[] {
  const { batch, queries, keys, depth, valueDepth } = p.layout;
  const matrices = sizeOf(batch);
  if (dimProduct([matrices, queries, valueDepth]) === 0) return [];
  // vec4 loads and registers when every row is whole vec4s (then every row starts aligned too).
  const width = depth % 4 === 0 && valueDepth % 4 === 0 ? 4 : 1;
  const type = width === 4 ? 'vec4<f32>' : 'f32';
  const zero = width === 4 ? 'vec4<f32>()' : '0.0f';
  const [qWords, vWords] = [depth / width, valueDepth / width];
  const lanes = (name: string): string[] => (width === 4 ? LANES.map((lane) => `${name}.${lane}`) : [name]);
  const word = (base: string, rowExpr: string, size: number): string => (width === 4 ? `(${base} + ${rowExpr} * ${u(size)}) / 4u` : `${base} + ${rowExpr} * ${u(size)}`);
  const groups = queryBlocks(p, matrices, queries, WORKGROUP_SIZE * rows);
  const maskAt = (row: string): string => offsetExpr(['mask_base', row, 'key'], [1, ...p.strides.mask.slice(-2)]);
  const allowed = (j: number): string => {
    const terms = [...(p.causal && rows > 1 ? [`key <= row_${j}`] : []), ...(p.masked ? [`mask[${maskAt(`row_${j}`)}] != 0u`] : [])];
    return terms.length === 0 ? 'true' : terms.join(' && ');
  };
  const queryState = (j: number): string[] => [
    // Queries past the last compute a valid row, and store nothing.
    `let row_${j} = min(first + ${j}u, ${u(dimSub(queries, 1))});`,
    `let q_at_${j} = ${word('q_base', `row_${j}`, depth)};`,
    ...upTo(qWords).map((w) => `let q_${j}_${w} = q[q_at_${j} + ${w}u];`),
    ...upTo(vWords).map((w) => `var acc_${j}_${w} = ${zero};`),
    `var max_${j} = 0.0f;`,
    `var total_${j} = 0.0f;`,
    `var seen_${j} = false;`,
  ];
  const update = (j: number): string[] => [
    `if (${allowed(j)}) {`,
    '  var dot = 0.0f;',
    ...upTo(qWords).flatMap((w) => lanes('').map((lane) => `  dot += ${`q_${j}_${w}`}${lane} * ${`k_${w}`}${lane};`)),
    `  let score = dot * ${literal(p.scale, 'f32')};`,
    // The first allowed key starts the running max, so no −∞ is ever needed.
    `  if (!seen_${j}) { max_${j} = score; seen_${j} = true; }`,
    `  let new_max = kiln_maximum(max_${j}, score);`,
    `  let correction = kiln_exp(max_${j} - new_max);`,
    '  let weight = kiln_exp(score - new_max);',
    `  total_${j} = total_${j} * correction + weight;`,
    ...upTo(vWords).map((w) => `  acc_${j}_${w} = acc_${j}_${w} * correction + weight * v_${w};`),
    `  max_${j} = new_max;`,
    '}',
  ];
  const store = (j: number): string[] => [
    `if (first + ${j}u < ${u(queries)}) {`,
    `  let out_at = ${word('0u', `(matrix * ${u(queries)} + first + ${j}u)`, valueDepth)};`,
    // A query with no allowed key has acc = 0 and total = 0: its output is 0.
    ...upTo(vWords).map((w) => `  out[out_at + ${w}u] = select(${zero}, acc_${j}_${w} / total_${j}, seen_${j});`),
    '}',
  ];
  const body = [
    ...groups.setup,
    `let first = (block * ${u(WORKGROUP_SIZE)} + lid) * ${u(rows)};`,
    `if (first >= ${u(queries)}) { return; }`,
    ...matrixBases(p, true),
    ...upTo(rows).flatMap(queryState),
    // Causal: no query here attends past its last one's key (top-left aligned: key ≤ query).
    `let key_end = ${p.causal ? `min(${u(keys)}, row_${rows - 1} + 1u)` : u(keys)};`,
    'for (var key = 0u; key < key_end; key++) {',
    `  let k_at = ${word('k_base', 'key', depth)};`,
    ...upTo(qWords).map((w) => `  let k_${w} = k[k_at + ${w}u];`),
    `  let v_at = ${word('v_base', 'key', valueDepth)};`,
    ...upTo(vWords).map((w) => `  let v_${w} = v[v_at + ${w}u];`),
    ...upTo(rows).flatMap(update).map((line) => `  ${line}`),
    '}',
    ...upTo(rows).flatMap(store),
  ];
  const bindings = new KernelBindings();
  const names = ['q', 'k', 'v', ...(p.masked ? ['mask'] : [])];
  const decls = names.map((name, i) =>
    name === 'mask' ? bindings.storage(p.ids[i]!, name, 'bool', 'read') : bindings.array(p.ids[i]!, name, type, 'read'),
  );
  decls.push(bindings.array(p.ids[names.length]!, 'out', type, 'read_write'));
  const source = workgroupKernelSource({
    name: p.name,
    header: [...p.header, `${describe(p)}: ${rows} ${rows === 1 ? 'query' : 'queries'} per invocation, keys and values streamed from their buffers, online softmax`],
    decls,
    workgroupSize: WORKGROUP_SIZE,
    helpers: NAN_AWARE_HELPERS,
    body,
    dims: p.dims,
  });
  return [{ name: p.name, ...source, workgroups: groups.workgroups, ...(groups.foldX ? { foldX: true } : {}), bindings: bindings.list }];
}

/** The invocations the variant runs for `layout` (for sizing, e.g. by the autotuner). */
