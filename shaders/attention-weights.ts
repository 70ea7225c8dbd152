/**
 * The attention weights softmax(scale·q·kᵀ, masked) themselves, for the backward pass
 * (compiler/ops/attention.ts recomputes them there): one invocation per query row in three
 * passes over its row of the output: the scores and their max, exp(score − max) and their
 * sum, then the division. Disallowed keys get 0; a row with no allowed key is all zeros.
 *
 * The query row is held in registers (vec4 where d is a multiple of 4) and each key row
 * read as vec4s: reloading the query for every key, as scalars, cost SwiftShader (a CPU,
 * where every storage read is a bounds-checked gather) about as much as the rest together.
 * Heads wider than ROWS_FEATURE_LIMIT read both rows from their buffers in a loop.
 */

import { KernelBindings, literal, perElementKernel } from '../compiler/codegen/wgsl.js';
import { dimMul } from '../compiler/dims.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import { sizeOf } from '../compiler/shape.js';
import type { AttentionKernelParams } from './attention.js';
import { NAN_AWARE_HELPERS, allowed, describe, matrixBases, u } from './attention.js';
import { ROWS_FEATURE_LIMIT } from './attention-rows.js';

const LANES = ['x', 'y', 'z', 'w'] as const;
const upTo = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** The weights softmax(scale·q·kᵀ, masked), one invocation per query row; disallowed keys get 0. */
export function attentionWeightsKernel(p: AttentionKernelParams): KernelSpec[] {
  const { batch, queries, keys, depth } = p.layout;
  const rows = dimMul(sizeOf(batch), queries);
  if (dimMul(rows, keys) === 0) return [];
  const inRegisters = depth <= ROWS_FEATURE_LIMIT;
  const width = inRegisters && depth % 4 === 0 ? 4 : 1;
  const words = depth / width;
  const lanes = width === 4 ? LANES.map((lane) => `.${lane}`) : [''];
  const word = (base: string, row: string): string => (width === 4 ? `(${base} + ${row} * ${u(depth)}) / 4u` : `${base} + ${row} * ${u(depth)}`);
  // The dot product runs from feature 0 up, as in the forward kernels.
  const dot = inRegisters
    ? [
        `let k_at = ${word('k_base', 'key')};`,
        'var dot = 0.0f;',
        ...upTo(words).flatMap((w) => [`let k_${w} = k[k_at + ${w}u];`, ...lanes.map((lane) => `dot += q_${w}${lane} * k_${w}${lane};`)]),
      ]
    : ['var dot = 0.0f;', `for (var c = 0u; c < ${u(depth)}; c++) { dot += q[q_base + row * ${u(depth)} + c] * k[k_base + key * ${u(depth)} + c]; }`];
  const at = 'out[out_base + key]';
  // Causal: keys past the query's own are never allowed, so the first pass stops there.
  const scoredEnd = p.causal ? `min(${u(keys)}, row + 1u)` : u(keys);
  const body = [
    `let matrix = i / ${u(queries)};`,
    `let row = i % ${u(queries)};`,
    ...matrixBases(p, false),
    ...(inRegisters ? [`let q_at = ${word('q_base', 'row')};`, ...upTo(words).map((w) => `let q_${w} = q[q_at + ${w}u];`)] : []),
    `let out_base = i * ${u(keys)};`,
    'var row_max = 0.0f;',
    'var seen = false;',
    `for (var key = 0u; key < ${scoredEnd}; key++) {`,
    `  if (${allowed(p)}) {`,
    ...dot.map((line) => `    ${line}`),
    `    let score = dot * ${literal(p.scale, 'f32')};`,
    `    ${at} = score;`,
    '    row_max = select(score, kiln_maximum(row_max, score), seen);',
    '    seen = true;',
    '  }',
    '}',
    'var total = 0.0f;',
    `for (var key = 0u; key < ${u(keys)}; key++) {`,
    `  if (${allowed(p)}) {`,
    `    let weight = kiln_exp(${at} - row_max);`,
    `    ${at} = weight;`,
    '    total += weight;',
    '  } else {',
    `    ${at} = 0.0f;`,
    '  }',
    '}',
    // A row with no allowed key is already all zeros; a NaN total makes every weight NaN, as in the reference.
    `if (seen) { for (var key = 0u; key < ${u(keys)}; key++) { ${at} = ${at} / total; } }`,
  ];
  const bindings = new KernelBindings();
  const operand = width === 4 ? 'vec4<f32>' : 'f32';
  const decls = [
    bindings.array(p.ids[0]!, 'q', operand, 'read'),
    bindings.array(p.ids[1]!, 'k', operand, 'read'),
    ...(p.masked ? [bindings.storage(p.ids[2]!, 'mask', 'bool', 'read')] : []),
    bindings.storage(p.ids[p.masked ? 3 : 2]!, 'out', 'f32', 'read_write'),
  ];
  const kernel = perElementKernel({
    name: p.name,
    header: [...p.header, `attention weights of ${describe(p)}: one invocation per query row${inRegisters ? ', the query row in registers' : ''}`],
    limits: p.limits,
    decls,
    invocations: rows,
    body,
    helpers: NAN_AWARE_HELPERS,
    dims: p.dims,
  });
  return [{ name: p.name, ...kernel, bindings: bindings.list }];
}
