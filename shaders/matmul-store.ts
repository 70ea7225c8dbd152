/**
 * The end of a matmul kernel: its block of outputs written out, or handed to the fused
 * epilogue. Emitted once, in a loop over the block, not once per output: a fused
 * epilogue (bias, activation, a whole Adam update) is inlined at every call site, and
 * 64 call sites in an 8×8 block made pipeline creation ~5× slower (SwiftShader). The
 * accumulators stay separate variables through the loop over k (an array indexed at run
 * time would live in memory there) and are copied into an array for this loop only; the
 * values stored are the same sums, so results are unchanged.
 */

import type { Dim } from '../compiler/shape.js';
import { wgslSize } from '../compiler/codegen/wgsl.js';

/** What matmulKernel knows about its block when it writes it out. */
export interface MatmulStore {
  /** Outputs per invocation: `blockRows` rows of `blockCols` columns, a multiple of 4. */
  readonly blockRows: number;
  readonly blockCols: number;
  /** The accumulators in row-major order, one vec4 of 4 consecutive columns each. */
  readonly accumulators: readonly string[];
  /** The vec4 type (`vec4<f32>`). */
  readonly vec: string;
  /** Output rows and columns, and the WGSL offset of this invocation's matrix. */
  readonly rows: Dim;
  readonly n: Dim;
  readonly outBase: string;
  /** Whether the last block row (column) may run past the output, so stores are guarded. */
  readonly rowEdge: boolean;
  readonly colEdge: boolean;
  /** `n4`: the output is bound as vec4 and written a vec4 at a time; `s`: one element at a time. */
  readonly out: 'n4' | 's';
  /** Each element goes through `kiln_epilogue(i, value)` instead of a store. */
  readonly epilogue: boolean;
}

const u = (value: Dim): string => wgslSize(value);

/**
 * The statements: `var kiln_block = array(...)` of the accumulators, then one loop over
 * its elements (vec4s when the output is vec4), each guarded where its block may run past
 * the output. row0 and col0 are always in bounds (the kernel returned otherwise).
 */
export function matmulStores(s: MatmulStore): string[] {
  const perVec = s.out === 'n4';
  // Loop elements per row: vec4s or single outputs; e runs over them row by row.
  const across = perVec ? s.blockCols / 4 : s.blockCols;
  const index = `${s.outBase === '0u' ? '' : `${s.outBase} + `}row * ${u(s.n)} + col`;
  const checks = [...(s.rowEdge ? [`row < ${u(s.rows)}`] : []), ...(s.colEdge ? [`col < ${u(s.n)}`] : [])];
  const element = 'kiln_block[e / 4u][e % 4u]';
  const write = perVec ? `out[(${index}) / 4u] = kiln_block[e];` : s.epilogue ? `kiln_epilogue(${index}, ${element});` : `out[${index}] = ${element};`;
  return [
    `var kiln_block = array<${s.vec}, ${s.accumulators.length}>(${s.accumulators.join(', ')});`,
    `for (var e = 0u; e < ${u(s.blockRows * across)}; e++) {`,
    `  let row = row0 + ${across === 1 ? 'e' : `e / ${u(across)}`};`,
    `  let col = ${across === 1 ? 'col0' : `col0 + e % ${u(across)}${perVec ? ' * 4u' : ''}`};`,
    `  ${checks.length === 0 ? write : `if (${checks.join(' && ')}) { ${write} }`}`,
    '}',
  ];
}
