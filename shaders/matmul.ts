/**
 * Register-blocked batched matmul. Each invocation computes a 4×4 block of one output
 * matrix in four vec4 accumulators (one per row), so every value it loads is used four
 * times; no workgroup memory. Operands are read as vec4 wherever the stored layout and
 * the shape allow it (4 consecutive elements along k, m or n, aligned), else as scalars;
 * the kernel's name records which (`_ak4_bn4`, `_as_bk4`, ... or `_scalar`).
 *
 * Measured on SwiftShader (2 CPU cores, f32, through compile + Session): 512³ 1.9–2.2
 * GFLOP/s and 128×784×128 1.6–1.9 with vec4 loads (`_ak4_bn4`), 511³ 1.7 with scalar
 * loads; a standalone kernel with one output per invocation runs 0.26. Tiling through
 * workgroup memory is left for real GPUs, where it pays; on SwiftShader it only adds
 * barriers.
 */

import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { WORKGROUP_SIZE, grid, kernelHeader, offsetExpr, unravel } from '../compiler/codegen/wgsl.js';
import type { Epilogue, KernelSpec } from '../compiler/ops/op.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';
import { epilogueOfConstant, fillKernel } from './reduce.js';

/** Outputs per invocation along m and along n. */
const BLOCK = 4;
const LANES = ['x', 'y', 'z', 'w'] as const;

/** One matmul node as the template sees it: sizes, stored layouts and the batch broadcast. */
export interface MatmulProblem {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  readonly dtype: 'f32' | 'i32';
  /** Node ids of a, b and the output, bound in that order. */
  readonly ids: readonly [number, number, number];
  /** The output's batch dims. */
  readonly batch: Shape;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** a is stored [k, m] (else [m, k]). */
  readonly transposeA: boolean;
  /** b is stored [n, k] (else [k, n]). */
  readonly transposeB: boolean;
  /** Element offset of each operand's matrix per unit of each output batch dim (0 where broadcast). */
  readonly batchStridesA: readonly number[];
  readonly batchStridesB: readonly number[];
  /** Fused elementwise consumers: every output element goes through `kiln_epilogue` instead of a store. */
  readonly epilogue?: Epilogue;
  /**
   * Computes one more output row, as if op(a) had a last row of ones: with a = xᵀ that row
   * is the column sums of b (a bias gradient next to its weight gradient). Needs an epilogue.
   */
  readonly onesRow?: boolean;
}

/**
 * How an operand is read: `k4` a vec4 of 4 consecutive k for one row (or column of b),
 * `m4` a vec4 of 4 consecutive rows of a at one k (a stored transposed), `n4` a vec4 of
 * 4 consecutive columns of b at one k, `s` scalars.
 */
type LoadA = 'k4' | 'm4' | 's';
type LoadB = 'k4' | 'n4' | 's';

/**
 * vec4 reads need the 4 elements contiguous and the vec4 aligned in every matrix of the
 * batch: the vectorized dim a multiple of 4 (which makes every row and matrix start
 * aligned too). Only called for non-empty operands: an empty buffer is a 4-byte
 * placeholder that could not bind as array<vec4>.
 */
function chooseLoads(p: MatmulProblem): { a: LoadA; b: LoadB; out: 'n4' | 's' } {
  const { m, k, n } = p;
  return {
    a: !p.transposeA && k % 4 === 0 ? 'k4' : p.transposeA && m % 4 === 0 ? 'm4' : 's',
    b: !p.transposeB && n % 4 === 0 ? 'n4' : p.transposeB && k % 4 === 0 ? 'k4' : 's',
    out: n % 4 === 0 ? 'n4' : 's',
  };
}

/**
 * The blocks one workgroup covers: `rows` × `cols` 4×4 blocks of `matrices` consecutive
 * matrices of the batch. 8×8 blocks (a 32×32 output tile: neighbouring invocations share
 * rows of a and columns of b) when the matrix is that large; a matrix with fewer block
 * rows or columns gets a narrower tile, spread over its other dim and then over the
 * batch, so a matrix–vector product or a batch of small matrices (attention heads) does
 * not leave most invocations idle.
 */
function workgroupTile(rowBlocks: number, colBlocks: number): { matrices: number; rows: number; cols: number } {
  const pow2 = (x: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  let rows = Math.min(pow2(rowBlocks), 8);
  const cols = Math.min(pow2(colBlocks), WORKGROUP_SIZE / rows);
  rows = Math.min(pow2(rowBlocks), WORKGROUP_SIZE / cols);
  return { matrices: WORKGROUP_SIZE / (rows * cols), rows, cols };
}

const u = (value: number): string => `${value}u`;
const paren = (x: string): string => (/^\w+$/.test(x) ? x : `(${x})`);
/** WGSL u32 arithmetic with a constant, leaving out what a 0 or 1 makes trivial. */
const add = (x: string, y: string): string => (x === '0u' ? y : y === '0u' ? x : `${x} + ${y}`);
const times = (x: string, c: number): string => (c === 1 ? x : x === '0u' ? '0u' : `${paren(x)} * ${u(c)}`);
const over = (x: string, c: number): string => (c === 1 ? x : `${paren(x)} / ${u(c)}`);
const modulo = (x: string, c: number): string => (c === 1 ? '0u' : `${paren(x)} % ${u(c)}`);

/** Emits the kernel (or, for an empty product, a fill with zeros; nothing for an empty output). */
export function matmulKernel(p: MatmulProblem): KernelSpec[] {
  const { m, k, n, dtype } = p;
  // Output rows: m, plus the row of ones' products when asked for.
  const rows = p.onesRow ? m + 1 : m;
  const batchSize = sizeOf(p.batch);
  const outSize = batchSize * rows * n;
  if (outSize === 0) return [];
  // A sum over an empty k is 0: nothing to read, so a and b are not even bound.
  if (k === 0 && p.epilogue) return [epilogueOfConstant(p.name, p.header, p.limits, p.epilogue, outSize, dtype === 'i32' ? '0i' : '0.0f')];
  if (k === 0) return [fillKernel({ name: p.name, header: p.header, limits: p.limits, id: p.ids[2], size: outSize, dtype, value: 0 })];

  // An epilogue consumes elements one at a time, so the output is never stored as vec4.
  const chosen = chooseLoads(p);
  // The row of ones is selected per row as a is read, so a is read as scalars then.
  const loads = p.epilogue ? { ...chosen, a: p.onesRow ? ('s' as const) : chosen.a, out: 's' as const } : chosen;
  const name = loads.a === 's' && loads.b === 's' && loads.out === 's' ? `${p.name}_scalar` : `${p.name}_a${loads.a}_b${loads.b}`;
  const vec = `vec4<${dtype}>`;
  const rowBlocks = Math.ceil(rows / BLOCK);
  const colBlocks = Math.ceil(n / BLOCK);
  const tile = workgroupTile(rowBlocks, colBlocks);
  const tilesDown = Math.ceil(rowBlocks / tile.rows);
  const tilesAcross = Math.ceil(colBlocks / tile.cols);
  const batchTiles = Math.ceil(batchSize / tile.matrices);
  const g = grid(batchTiles * tilesDown * tilesAcross * WORKGROUP_SIZE, p.limits);

  // Rows past m (and columns past n) in an edge block read the last row (column) again:
  // always in bounds, no branches in the inner loop; only the stores are guarded.
  // Operands read per row of a (per column of b) name them row0…row3 (col0…col3).
  const rowEdge = rows % BLOCK !== 0;
  const colEdge = n % BLOCK !== 0;
  const clamped = (first: string, d: number, edge: boolean, last: number): string =>
    edge ? `min(${first} + ${u(d)}, ${u(last)})` : `${first} + ${u(d)}`;
  const range = [0, 1, 2, 3];
  const perRow = loads.a !== 'm4';
  const perCol = loads.b !== 'n4';

  // Workgroup tiles run across n fastest, then down m, then over the batch.
  const guards = [
    ...(batchSize % tile.matrices !== 0 ? [`batch >= ${u(batchSize)}`] : []),
    ...(rowBlocks % tile.rows !== 0 ? [`row_block >= ${u(rowBlocks)}`] : []),
    ...(colBlocks % tile.cols !== 0 ? [`col_block >= ${u(colBlocks)}`] : []),
  ];
  const batchCoords = p.batch.length === 1 ? ['batch'] : p.batch.map((_, axis) => `batch${axis}`);
  const setup: string[] = [
    `let tile = ${over('i', WORKGROUP_SIZE)};`,
    `let lane = ${modulo('i', WORKGROUP_SIZE)};`,
    `let batch = ${add(times(over('tile', tilesAcross * tilesDown), tile.matrices), tile.matrices === 1 ? '0u' : over('lane', tile.rows * tile.cols))};`,
    `let row_block = ${add(times(modulo(over('tile', tilesAcross), tilesDown), tile.rows), tile.matrices === 1 ? over('lane', tile.cols) : modulo(over('lane', tile.cols), tile.rows))};`,
    `let col_block = ${add(times(modulo('tile', tilesAcross), tile.cols), modulo('lane', tile.cols))};`,
    ...(guards.length > 0 ? [`if (${guards.join(' || ')}) { return; }`] : []),
    `let row0 = row_block * ${u(BLOCK)};`,
    `let col0 = col_block * ${u(BLOCK)};`,
    ...(perRow ? range.slice(1).map((ii) => `let row${ii} = ${clamped('row0', ii, rowEdge, rows - 1)};`) : []),
    ...(perCol ? range.slice(1).map((jj) => `let col${jj} = ${clamped('col0', jj, colEdge, n - 1)};`) : []),
    ...(p.batch.length > 1 ? [unravel('batch', p.batch, 'batch')] : []),
    `let a_base = ${offsetExpr(batchCoords, p.batchStridesA)};`,
    `let b_base = ${offsetExpr(batchCoords, p.batchStridesB)};`,
  ];

  // Where each row of a (column of b) starts, in the units its binding is indexed in.
  // a(i, p) is stored at i·k + p, or i + p·m when transposed; b(p, j) at p·n + j, or j·k + p.
  if (loads.a === 'k4') setup.push(...range.map((ii) => `let a_row${ii} = (a_base + row${ii} * ${u(k)}) / 4u;`));
  else if (loads.a === 'm4') setup.push('let a_rows = (a_base + row0) / 4u;');
  else {
    // The row of ones has no storage: its address is clamped into a, its value selected below.
    const row = (ii: number): string => (p.onesRow ? `min(row${ii}, ${u(m - 1)})` : `row${ii}`);
    setup.push(...range.map((ii) => `let a_row${ii} = ${add('a_base', p.transposeA ? row(ii) : `${paren(row(ii))} * ${u(k)}`)};`));
  }
  if (loads.b === 'k4') setup.push(...range.map((jj) => `let b_col${jj} = (b_base + col${jj} * ${u(k)}) / 4u;`));
  else if (loads.b === 'n4') setup.push('let b_cols = (b_base + col0) / 4u;');
  else setup.push(...range.map((jj) => `let b_col${jj} = ${add('b_base', p.transposeB ? `col${jj} * ${u(k)}` : `col${jj}`)};`));
  setup.push(...range.map((ii) => `var acc${ii} = ${vec}();`));

  /**
   * The statements for `steps` consecutive k starting at WGSL expression `kAt` (a
   * multiple of 4 when steps is 4): loads, then acc_i += Σ_kk a(i, k+kk) · b(k+kk, :).
   */
  const step = (kAt: string | number, steps: number): string[] => {
    const kk = (d: number): string => (typeof kAt === 'number' ? u(kAt + d) : add(kAt, u(d)));
    const kTimes = (d: number, factor: number): string => (typeof kAt === 'number' ? u((kAt + d) * factor) : times(kk(d), factor));
    const lines: string[] = [];
    const chunk = range.slice(0, steps);
    let aAt: (ii: number, d: number) => string;
    if (loads.a === 'k4') {
      lines.push(...range.map((ii) => `let a${ii} = a[a_row${ii} + ${kAt} / 4u];`));
      aAt = (ii, d) => `a${ii}.${LANES[d]}`;
    } else if (loads.a === 'm4') {
      lines.push(...chunk.map((d) => `let a_k${d} = a[${add('a_rows', kTimes(d, m / 4))}];`));
      aAt = (ii, d) => `a_k${d}.${LANES[ii]}`;
    } else {
      const at = (d: number): string => (p.transposeA ? kTimes(d, m) : kk(d));
      const one = dtype === 'i32' ? '1i' : '1.0f';
      const read = (ii: number, d: number): string => {
        const value = `a[${add(`a_row${ii}`, at(d))}]`;
        return p.onesRow ? `select(${value}, ${one}, row${ii} == ${u(m)})` : value;
      };
      lines.push(...range.flatMap((ii) => chunk.map((d) => `let a${ii}_${d} = ${read(ii, d)};`)));
      aAt = (ii, d) => `a${ii}_${d}`;
    }
    let bRow: (d: number) => string;
    if (loads.b === 'n4') {
      lines.push(...chunk.map((d) => `let b_k${d} = b[${add('b_cols', kTimes(d, n / 4))}];`));
      bRow = (d) => `b_k${d}`;
    } else if (loads.b === 'k4') {
      lines.push(...range.map((jj) => `let b${jj} = b[b_col${jj} + ${kAt} / 4u];`));
      bRow = (d) => `${vec}(${range.map((jj) => `b${jj}.${LANES[d]}`).join(', ')})`;
    } else {
      const at = (d: number): string => (p.transposeB ? kk(d) : kTimes(d, n));
      lines.push(...chunk.map((d) => `let b_k${d} = ${vec}(${range.map((jj) => `b[${add(`b_col${jj}`, at(d))}]`).join(', ')});`));
      bRow = (d) => `b_k${d}`;
    }
    lines.push(...range.map((ii) => `acc${ii} += ${chunk.map((d) => `${aAt(ii, d)} * ${bRow(d)}`).join(' + ')};`));
    return lines;
  };

  // k in chunks of 4, then the 0–3 left over one at a time (k4 loads only occur when k % 4 == 0).
  const whole = k - (k % 4);
  const loop = whole === 0 ? [] : [`for (var p = 0u; p < ${u(whole)}; p += 4u) {`, ...step('p', 4).map((l) => `  ${l}`), '}'];
  const tail = range.slice(0, k % 4).flatMap((d) => ['{', ...step(whole + d, 1).map((l) => `  ${l}`), '}']);

  const outBase = batchSize === 1 ? '0u' : times('batch', rows * n);
  const stores = range.flatMap((ii) => {
    const r = ii === 0 ? 'row0' : `row0 + ${u(ii)}`;
    const guard = (cond: string, line: string): string => (cond === '' ? line : `if (${cond}) { ${line} }`);
    const rowOk = rowEdge && ii > 0 ? `${r} < ${u(rows)}` : '';
    if (loads.out === 'n4') return [guard(rowOk, `out[${over(add(outBase, add(times(r, n), 'col0')), 4)}] = acc${ii};`)];
    return range.map((jj) => {
      const c = jj === 0 ? 'col0' : `col0 + ${u(jj)}`;
      const colOk = colEdge && jj > 0 ? `${c} < ${u(n)}` : '';
      const cond = [rowOk, colOk].filter((x) => x !== '').join(' && ');
      const at = add(outBase, add(times(r, n), c));
      const value = `acc${ii}.${LANES[jj]}`;
      return guard(cond, p.epilogue ? `kiln_epilogue(${at}, ${value});` : `out[${at}] = ${value};`);
    });
  });

  const layout = (mode: string): string =>
    ({ k4: 'vec4 along k', m4: 'vec4 along m', n4: 'vec4 along n', s: 'scalar' })[mode] ?? mode;
  const declare = (binding: number, label: string, mode: string, access: 'read' | 'read_write'): string =>
    `@group(0) @binding(${binding}) var<storage, ${access}> ${label}: array<${mode === 's' ? dtype : vec}>;`;
  const wgsl = [
    kernelHeader(name, [
      ...p.header,
      `${m}×${k} · ${k}×${n}${p.onesRow ? ' (plus a row of ones: column sums of b)' : ''}${p.batch.length > 0 ? ` × batch [${p.batch.join(',')}]` : ''}, 4×4 outputs per invocation, ` +
        `${tile.matrices > 1 ? `${tile.matrices} × ` : ''}${tile.rows * BLOCK}×${tile.cols * BLOCK} per workgroup; a ${layout(loads.a)}, b ${layout(loads.b)}, out ${layout(loads.out)}`,
    ]),
    declare(0, 'a', loads.a, 'read'),
    declare(1, 'b', loads.b, 'read'),
    ...(p.epilogue ? p.epilogue.code(2) : [declare(2, 'out', loads.out, 'read_write')]),
    '',
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn main(${g.params}) {`,
    `  ${g.prologue}`,
    ...[...setup, ...loop, ...tail, ...stores].map((line) => `  ${line}`),
    '}',
    '',
  ].join('\n');
  const bindings = p.epilogue ? [p.ids[0], p.ids[1], ...p.epilogue.bindings] : [...p.ids];
  return [{ name: p.epilogue ? `${name}_epilogue` : name, wgsl, workgroups: g.workgroups, bindings }];
}
