/**
 * Register-blocked batched matmul. Each invocation computes a block of one output matrix
 * (4×4 by default) in vec4 accumulators (one per row and 4 columns), so every value it
 * loads is used several times; no workgroup memory. Operands are read as vec4 wherever
 * the stored layout and the shape allow it (4 consecutive elements along k, m or n,
 * aligned), else as scalars; the kernel's name records which (`_ak4_bn4`, `_as_bk4`, ...
 * or `_scalar`). Other block and workgroup sizes (variants, chosen per adapter by the
 * autotuner, see compiler/codegen/tuning.ts) add their name: `_ak4_bn4_b8x4_w64`.
 *
 * Measured on SwiftShader (2 CPU cores, f32, through compile + Session): 512³ 1.9–2.2
 * GFLOP/s and 128×784×128 1.6–1.9 with vec4 loads (`_ak4_bn4`), 511³ 1.7 with scalar
 * loads; a standalone kernel with one output per invocation runs 0.26. On SwiftShader
 * the autotuner keeps the 4×4, 64-invocation default for the training shapes (no other
 * variant beats it by its 10% margin in bench/kernels.ts); the others are for GPUs.
 * Tiling through workgroup memory is left for real GPUs, where it pays; on SwiftShader
 * it only adds barriers.
 */

import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { KernelBindings, WORKGROUP_SIZE, grid, workgroupKernelSource, offsetExpr, unravel } from '../compiler/codegen/wgsl.js';
import type { MatmulVariant } from '../compiler/codegen/tuning.js';
import { DEFAULT_MATMUL_VARIANT, sameVariant, variantName } from '../compiler/codegen/tuning.js';
import type { Epilogue, KernelSpec } from '../compiler/codegen/kernel.js';
import type { Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';
import { epilogueOfConstant, fillKernel } from './reduce.js';

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
  /** Block and workgroup sizes (default 4×4 outputs per invocation, 64 invocations). */
  readonly variant?: MatmulVariant;
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
 * aligned too). Rows of a transposed a are read 4 at a time only when a block has a
 * multiple of 4 rows. Only called for non-empty operands: an empty buffer is a 4-byte
 * placeholder that could not bind as array<vec4>.
 */
function chooseLoads(p: MatmulProblem, blockRows: number): { a: LoadA; b: LoadB; out: 'n4' | 's' } {
  const { m, k, n } = p;
  return {
    a: !p.transposeA && k % 4 === 0 ? 'k4' : p.transposeA && m % 4 === 0 && blockRows % 4 === 0 ? 'm4' : 's',
    b: !p.transposeB && n % 4 === 0 ? 'n4' : p.transposeB && k % 4 === 0 ? 'k4' : 's',
    out: n % 4 === 0 ? 'n4' : 's',
  };
}

/**
 * The blocks one workgroup of `size` invocations covers: `rows` × `cols` blocks of
 * `matrices` consecutive matrices of the batch. A square-ish tile (8×8 blocks for 64
 * invocations: neighbouring invocations share rows of a and columns of b) when the matrix
 * is that large; a matrix with fewer block rows or columns gets a narrower tile, spread
 * over its other dim and then over the batch, so a matrix–vector product or a batch of
 * small matrices (attention heads) does not leave most invocations idle.
 */
function workgroupTile(rowBlocks: number, colBlocks: number, size: number): { matrices: number; rows: number; cols: number } {
  const pow2 = (x: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  let rows = Math.min(pow2(rowBlocks), 2 ** Math.floor(Math.log2(size) / 2));
  const cols = Math.min(pow2(colBlocks), size / rows);
  rows = Math.min(pow2(rowBlocks), size / cols);
  return { matrices: size / (rows * cols), rows, cols };
}

const u = (value: number): string => `${value}u`;
const paren = (x: string): string => (/^\w+$/.test(x) ? x : `(${x})`);
/** WGSL u32 arithmetic with a constant, leaving out what a 0 or 1 makes trivial. */
const add = (x: string, y: string): string => (x === '0u' ? y : y === '0u' ? x : `${x} + ${y}`);
const times = (x: string, c: number): string => (c === 1 ? x : x === '0u' ? '0u' : `${paren(x)} * ${u(c)}`);
const over = (x: string, c: number): string => (c === 1 ? x : `${paren(x)} / ${u(c)}`);
const modulo = (x: string, c: number): string => (c === 1 ? '0u' : `${paren(x)} % ${u(c)}`);
const upTo = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

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

  const variant = p.variant ?? DEFAULT_MATMUL_VARIANT;
  // Outputs per invocation: blockRows rows of blockCols columns, held as blockCols/4 vec4 per row.
  const blockRows = variant.rows;
  const blockCols = variant.cols;
  const size = variant.workgroupSize;
  const vecsPerRow = blockCols / 4;
  // An epilogue consumes elements one at a time, so the output is never stored as vec4.
  const chosen = chooseLoads(p, blockRows);
  // The row of ones is selected per row as a is read, so a is read as scalars then.
  const loads = p.epilogue ? { ...chosen, a: p.onesRow ? ('s' as const) : chosen.a, out: 's' as const } : chosen;
  const layoutName = loads.a === 's' && loads.b === 's' && loads.out === 's' ? `${p.name}_scalar` : `${p.name}_a${loads.a}_b${loads.b}`;
  const name = sameVariant(variant, DEFAULT_MATMUL_VARIANT) ? layoutName : `${layoutName}_${variantName(variant)}`;
  const vec = `vec4<${dtype}>`;
  const rowBlocks = Math.ceil(rows / blockRows);
  const colBlocks = Math.ceil(n / blockCols);
  const tile = workgroupTile(rowBlocks, colBlocks, size);
  const tilesDown = Math.ceil(rowBlocks / tile.rows);
  const tilesAcross = Math.ceil(colBlocks / tile.cols);
  const batchTiles = Math.ceil(batchSize / tile.matrices);
  const workgroups = batchTiles * tilesDown * tilesAcross;
  // The 2-D folding of `grid`, for workgroups of `size` invocations.
  const folded = grid(workgroups * WORKGROUP_SIZE, p.limits).workgroups;

  // Rows past m (and columns past n) in an edge block read the last row (column) again:
  // always in bounds, no branches in the inner loop; only the stores are guarded.
  // Operands read per row of a (per column of b) name them row0, row1, … (col0, col1, …).
  const rowEdge = rows % blockRows !== 0;
  const colEdge = n % blockCols !== 0;
  const clamped = (first: string, d: number, edge: boolean, last: number): string =>
    edge ? `min(${first} + ${u(d)}, ${u(last)})` : `${first} + ${u(d)}`;
  const blockRowRange = upTo(blockRows);
  const blockColRange = upTo(blockCols);
  const vecRange = upTo(vecsPerRow);
  const perRow = loads.a !== 'm4';
  const perCol = loads.b !== 'n4';
  // The default 4×4 block keeps its one-vec4 names (acc0, b_k0, a_rows); wider blocks number each vec4.
  const nth = (base: string, q: number, count: number): string => (count === 1 ? base : `${base}_${q}`);
  const acc = (ii: number, v: number): string => nth(`acc${ii}`, v, vecsPerRow);

  // Workgroup tiles run across n fastest, then down m, then over the batch.
  const guards = [
    ...(batchSize % tile.matrices !== 0 ? [`batch >= ${u(batchSize)}`] : []),
    ...(rowBlocks % tile.rows !== 0 ? [`row_block >= ${u(rowBlocks)}`] : []),
    ...(colBlocks % tile.cols !== 0 ? [`col_block >= ${u(colBlocks)}`] : []),
  ];
  const batchCoords = p.batch.length === 1 ? ['batch'] : p.batch.map((_, axis) => `batch${axis}`);
  const setup: string[] = [
    `let tile = ${over('i', size)};`,
    `let lane = ${modulo('i', size)};`,
    `let batch = ${add(times(over('tile', tilesAcross * tilesDown), tile.matrices), tile.matrices === 1 ? '0u' : over('lane', tile.rows * tile.cols))};`,
    `let row_block = ${add(times(modulo(over('tile', tilesAcross), tilesDown), tile.rows), tile.matrices === 1 ? over('lane', tile.cols) : modulo(over('lane', tile.cols), tile.rows))};`,
    `let col_block = ${add(times(modulo('tile', tilesAcross), tile.cols), modulo('lane', tile.cols))};`,
    ...(guards.length > 0 ? [`if (${guards.join(' || ')}) { return; }`] : []),
    `let row0 = row_block * ${u(blockRows)};`,
    `let col0 = col_block * ${u(blockCols)};`,
    ...(perRow ? blockRowRange.slice(1).map((ii) => `let row${ii} = ${clamped('row0', ii, rowEdge, rows - 1)};`) : []),
    ...(perCol ? blockColRange.slice(1).map((jj) => `let col${jj} = ${clamped('col0', jj, colEdge, n - 1)};`) : []),
    ...(p.batch.length > 1 ? [unravel('batch', p.batch, 'batch')] : []),
    `let a_base = ${offsetExpr(batchCoords, p.batchStridesA)};`,
    `let b_base = ${offsetExpr(batchCoords, p.batchStridesB)};`,
  ];

  // Where each row of a (column of b) starts, in the units its binding is indexed in.
  // a(i, p) is stored at i·k + p, or i + p·m when transposed; b(p, j) at p·n + j, or j·k + p.
  // A vec4 of 4 rows (columns) past the edge starts at the last 4 instead, so it stays in bounds.
  const firstOf4 = (first: string, q: number, edge: boolean, last: number): string =>
    q === 0 ? first : edge ? `min(${first} + ${u(4 * q)}, ${u(last - 3)})` : `${first} + ${u(4 * q)}`;
  const rowVecs = upTo(blockRows / 4);
  if (loads.a === 'k4') setup.push(...blockRowRange.map((ii) => `let a_row${ii} = (a_base + row${ii} * ${u(k)}) / 4u;`));
  else if (loads.a === 'm4') setup.push(...rowVecs.map((q) => `let ${nth('a_rows', q, rowVecs.length)} = (a_base + ${firstOf4('row0', q, rowEdge, rows - 1)}) / 4u;`));
  else {
    // The row of ones has no storage: its address is clamped into a, its value selected below.
    const row = (ii: number): string => (p.onesRow ? `min(row${ii}, ${u(m - 1)})` : `row${ii}`);
    setup.push(...blockRowRange.map((ii) => `let a_row${ii} = ${add('a_base', p.transposeA ? row(ii) : `${paren(row(ii))} * ${u(k)}`)};`));
  }
  if (loads.b === 'k4') setup.push(...blockColRange.map((jj) => `let b_col${jj} = (b_base + col${jj} * ${u(k)}) / 4u;`));
  else if (loads.b === 'n4') setup.push(...vecRange.map((v) => `let ${nth('b_cols', v, vecsPerRow)} = (b_base + ${firstOf4('col0', v, colEdge, n - 1)}) / 4u;`));
  else setup.push(...blockColRange.map((jj) => `let b_col${jj} = ${add('b_base', p.transposeB ? `col${jj} * ${u(k)}` : `col${jj}`)};`));
  setup.push(...blockRowRange.flatMap((ii) => vecRange.map((v) => `var ${acc(ii, v)} = ${vec}();`)));

  /**
   * The statements for `steps` consecutive k starting at WGSL expression `kAt` (a
   * multiple of 4 when steps is 4): loads, then acc_i += Σ_kk a(i, k+kk) · b(k+kk, :).
   */
  const step = (kAt: string | number, steps: number): string[] => {
    const kk = (d: number): string => (typeof kAt === 'number' ? u(kAt + d) : add(kAt, u(d)));
    const kTimes = (d: number, factor: number): string => (typeof kAt === 'number' ? u((kAt + d) * factor) : times(kk(d), factor));
    const lines: string[] = [];
    const chunk = upTo(steps);
    let aAt: (ii: number, d: number) => string;
    if (loads.a === 'k4') {
      lines.push(...blockRowRange.map((ii) => `let a${ii} = a[a_row${ii} + ${kAt} / 4u];`));
      aAt = (ii, d) => `a${ii}.${LANES[d]}`;
    } else if (loads.a === 'm4') {
      const name = (d: number, q: number): string => nth(`a_k${d}`, q, rowVecs.length);
      lines.push(...chunk.flatMap((d) => rowVecs.map((q) => `let ${name(d, q)} = a[${add(nth('a_rows', q, rowVecs.length), kTimes(d, m / 4))}];`)));
      aAt = (ii, d) => `${name(d, Math.floor(ii / 4))}.${LANES[ii % 4]}`;
    } else {
      const at = (d: number): string => (p.transposeA ? kTimes(d, m) : kk(d));
      const one = dtype === 'i32' ? '1i' : '1.0f';
      const read = (ii: number, d: number): string => {
        const value = `a[${add(`a_row${ii}`, at(d))}]`;
        return p.onesRow ? `select(${value}, ${one}, row${ii} == ${u(m)})` : value;
      };
      lines.push(...blockRowRange.flatMap((ii) => chunk.map((d) => `let a${ii}_${d} = ${read(ii, d)};`)));
      aAt = (ii, d) => `a${ii}_${d}`;
    }
    // bRow(d, v): the v-th vec4 of row k+d of b (columns col0 + 4v …).
    let bRow: (d: number, v: number) => string;
    if (loads.b === 'n4') {
      const name = (d: number, v: number): string => nth(`b_k${d}`, v, vecsPerRow);
      lines.push(...chunk.flatMap((d) => vecRange.map((v) => `let ${name(d, v)} = b[${add(nth('b_cols', v, vecsPerRow), kTimes(d, n / 4))}];`)));
      bRow = name;
    } else if (loads.b === 'k4') {
      lines.push(...blockColRange.map((jj) => `let b${jj} = b[b_col${jj} + ${kAt} / 4u];`));
      bRow = (d, v) => `${vec}(${upTo(4).map((j) => `b${4 * v + j}.${LANES[d]}`).join(', ')})`;
    } else {
      const at = (d: number): string => (p.transposeB ? kk(d) : kTimes(d, n));
      const name = (d: number, v: number): string => nth(`b_k${d}`, v, vecsPerRow);
      lines.push(
        ...chunk.flatMap((d) => vecRange.map((v) => `let ${name(d, v)} = ${vec}(${upTo(4).map((j) => `b[${add(`b_col${4 * v + j}`, at(d))}]`).join(', ')});`)),
      );
      bRow = name;
    }
    lines.push(...blockRowRange.flatMap((ii) => vecRange.map((v) => `${acc(ii, v)} += ${chunk.map((d) => `${aAt(ii, d)} * ${bRow(d, v)}`).join(' + ')};`)));
    return lines;
  };

  // k in chunks of 4, then the 0–3 left over one at a time (k4 loads only occur when k % 4 == 0).
  const whole = k - (k % 4);
  const loop = whole === 0 ? [] : [`for (var p = 0u; p < ${u(whole)}; p += 4u) {`, ...step('p', 4).map((l) => `  ${l}`), '}'];
  const tail = upTo(k % 4).flatMap((d) => ['{', ...step(whole + d, 1).map((l) => `  ${l}`), '}']);

  const outBase = batchSize === 1 ? '0u' : times('batch', rows * n);
  const guard = (conds: readonly string[], line: string): string => {
    const cond = conds.filter((x) => x !== '').join(' && ');
    return cond === '' ? line : `if (${cond}) { ${line} }`;
  };
  const stores = blockRowRange.flatMap((ii) => {
    const r = ii === 0 ? 'row0' : `row0 + ${u(ii)}`;
    const rowOk = rowEdge && ii > 0 ? `${r} < ${u(rows)}` : '';
    if (loads.out === 'n4') {
      return vecRange.map((v) => {
        const c = add('col0', u(4 * v));
        const colOk = colEdge && v > 0 ? `${c} < ${u(n)}` : '';
        return guard([rowOk, colOk], `out[${over(add(outBase, add(times(r, n), c)), 4)}] = ${acc(ii, v)};`);
      });
    }
    return blockColRange.map((jj) => {
      const c = jj === 0 ? 'col0' : `col0 + ${u(jj)}`;
      const colOk = colEdge && jj > 0 ? `${c} < ${u(n)}` : '';
      const at = add(outBase, add(times(r, n), c));
      const value = `${acc(ii, Math.floor(jj / 4))}.${LANES[jj % 4]}`;
      return guard([rowOk, colOk], p.epilogue ? `kiln_epilogue(${at}, ${value});` : `out[${at}] = ${value};`);
    });
  });

  const layout = (mode: string): string =>
    ({ k4: 'vec4 along k', m4: 'vec4 along m', n4: 'vec4 along n', s: 'scalar' })[mode] ?? mode;
  const bindings = new KernelBindings();
  const declare = (node: number, label: string, mode: string, access: 'read' | 'read_write'): string =>
    bindings.array(node, label, mode === 's' ? dtype : vec, access);
  const source = workgroupKernelSource({
    name,
    header: [
      ...p.header,
      `${m}×${k} · ${k}×${n}${p.onesRow ? ' (plus a row of ones: column sums of b)' : ''}${p.batch.length > 0 ? ` × batch [${p.batch.join(',')}]` : ''}, ` +
        `${blockRows}×${blockCols} outputs per invocation, ` +
        `${tile.matrices > 1 ? `${tile.matrices} × ` : ''}${tile.rows * blockRows}×${tile.cols * blockCols} per workgroup; a ${layout(loads.a)}, b ${layout(loads.b)}, out ${layout(loads.out)}`,
    ],
    decls: [
      declare(p.ids[0], 'a', loads.a, 'read'),
      declare(p.ids[1], 'b', loads.b, 'read'),
      ...(p.epilogue ? bindings.fused(p.epilogue) : [declare(p.ids[2], 'out', loads.out, 'read_write')]),
    ],
    workgroupSize: size,
    body: [`let i = (wid.y * ${u(folded[0])} + wid.x) * ${u(size)} + lid;`, `if (i >= ${u(workgroups * size)}) { return; }`, ...setup, ...loop, ...tail, ...stores],
  });
  return [{ name: p.epilogue ? `${name}_epilogue` : name, ...source, workgroups: folded, bindings: bindings.list }];
}
