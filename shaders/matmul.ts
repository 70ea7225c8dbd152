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
 * loads; a standalone kernel with one output per invocation runs 0.26. SwiftShader
 * (Subzero) runs 4 invocations per SIMD group and reads every component of a load as a
 * per-lane gather, so what counts there is multiply-adds per value loaded: large
 * products default to 8×8 blocks (compiler/codegen/tuning.ts). Tiling through workgroup
 * memory is left for real GPUs, where it pays; on SwiftShader its loads are gathers too
 * and it adds barriers.
 *
 * A weight gradient xᵀ·g with its bias gradient fused (`onesRow`) reads xᵀ as vec4 along
 * m like any transposed a: with m a multiple of 4, the row of ones starts a vec4 of its
 * own, selected per vec4 instead of per element.
 *
 * The block is written out, or handed to a fused epilogue, from one loop over its outputs
 * (shaders/matmul-store.ts): the epilogue is inlined once, not once per output.
 */

import type { KernelLimits, WorkgroupCount } from '../compiler/codegen/wgsl.js';
import { KernelBindings, WORKGROUP_SIZE, grid, workgroupKernelSource, offsetExpr, unravel, wgslSize } from '../compiler/codegen/wgsl.js';
import type { MatmulVariant } from '../compiler/codegen/tuning.js';
import { DEFAULT_MATMUL_VARIANT, sameVariant, variantName } from '../compiler/codegen/tuning.js';
import type { Epilogue, KernelSpec } from '../compiler/codegen/kernel.js';
import type { Dim, Shape } from '../compiler/shape.js';
import { sizeOf } from '../compiler/shape.js';
import { dimAdd, dimDivide, dimMul, dimProduct, dimSub, isSymbolic } from '../compiler/dims.js';
import { DeviceLimitError, KernelError } from '../compiler/errors.js';
import { epilogueOfConstant, fillKernel } from './reduce.js';
import { matmulStores } from './matmul-store.js';

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
  /** Sizes; any may be symbolic (m: batch rows of a layer, k: the batch of a weight gradient xᵀ·dy). */
  readonly m: Dim;
  readonly k: Dim;
  readonly n: Dim;
  /** a is stored [k, m] (else [m, k]). */
  readonly transposeA: boolean;
  /** b is stored [n, k] (else [k, n]). */
  readonly transposeB: boolean;
  /** Element offset of each operand's matrix per unit of each output batch dim (0 where broadcast). */
  readonly batchStridesA: readonly Dim[];
  readonly batchStridesB: readonly Dim[];
  /** Fused elementwise consumers: every output element goes through `kiln_epilogue` instead of a store. */
  readonly epilogue?: Epilogue;
  /**
   * Computes one more output row, as if op(a) had a last row of ones: with a = xᵀ that row
   * is the column sums of b (a bias gradient next to its weight gradient). Needs an epilogue.
   */
  readonly onesRow?: boolean;
  /** Block and workgroup sizes (default 4×4 outputs per invocation, 64 invocations). */
  readonly variant?: MatmulVariant;
  /** The plan's symbolic dims (`LoweringContext.dims`): the size block a symbolic size is read from. */
  readonly dims: readonly string[];
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
    a: !p.transposeA && divides(k, 4) ? 'k4' : p.transposeA && divides(m, 4) && m !== 0 && blockRows % 4 === 0 ? 'm4' : 's',
    b: !p.transposeB && divides(n, 4) ? 'n4' : p.transposeB && divides(k, 4) ? 'k4' : 's',
    out: divides(n, 4) ? 'n4' : 's',
  };
}

/**
 * Whether `c` divides size `d` for every value of its dims: a static size, or a symbolic
 * one whose every coefficient is a multiple of c (`4*batch`; not `batch`, whose
 * divisibility is only known at run time).
 */
function divides(d: Dim, c: number): boolean {
  return isSymbolic(d) ? d.terms.every((t) => t.coefficient % c === 0) : d % c === 0;
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

/** A size as WGSL: a literal (`784u`), or read from the size block when symbolic. */
const u = (value: Dim): string => wgslSize(value);
const paren = (x: string): string => (/^\w+$/.test(x) ? x : `(${x})`);
/** WGSL u32 arithmetic with a constant, leaving out what a 0 or 1 makes trivial. */
const add = (x: string, y: string): string => (x === '0u' ? y : y === '0u' ? x : `${x} + ${y}`);
const times = (x: string, c: Dim): string => (c === 1 ? x : x === '0u' ? '0u' : `${paren(x)} * ${u(c)}`);
const over = (x: string, c: number): string => (c === 1 ? x : `${paren(x)} / ${u(c)}`);
const modulo = (x: string, c: number): string => (c === 1 ? '0u' : `${paren(x)} % ${u(c)}`);
const upTo = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** d / 4, for a size that `divides(d, 4)`. */
function quarter(d: Dim): Dim {
  const q = dimDivide(d, 4);
  if (q === undefined) throw new KernelError(`matmul: a vec4 load was chosen along a size of ${d}, which 4 does not divide.`);
  return q;
}

/** `ceil(size / per)` workgroups along one axis, as WGSL (a symbolic size is read from the size block). */
const ceilDiv = (size: Dim, per: number): string => (isSymbolic(size) ? (per === 1 ? u(size) : `(${u(size)} + ${u(per - 1)}) / ${u(per)}`) : u(Math.ceil(size / per)));

/**
 * How the workgroups cover the output: the tile each takes, the dispatch, and the
 * statements defining `lane`, `batch`, `row_block` and `col_block` (returning past the
 * output). Static sizes fold the tiles into a 1-D count (2-D past the device's limit);
 * with a symbolic size, x runs over column tiles, y over row tiles and z over batch
 * tiles, each counted ceil(size / per) by the runtime at the run's sizes.
 */
function workgroupLayout(
  limits: KernelLimits,
  s: { readonly batchSize: Dim; readonly rows: Dim; readonly n: Dim; readonly blockRows: number; readonly blockCols: number; readonly size: number },
): { tile: { matrices: number; rows: number; cols: number }; workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount]; setup: string[] } {
  const { batchSize, rows, n, blockRows, blockCols, size } = s;
  // A symbolic size is tiled as a large one (its square-ish tile), whatever its value at run time.
  const blocks = (d: Dim, block: number): number => (isSymbolic(d) ? Infinity : Math.ceil(d / block));
  const tile = workgroupTile(blocks(rows, blockRows), blocks(n, blockCols), size);
  const laneParts = {
    batch: tile.matrices === 1 ? '0u' : over('lane', tile.rows * tile.cols),
    row: tile.matrices === 1 ? over('lane', tile.cols) : modulo(over('lane', tile.cols), tile.rows),
    col: modulo('lane', tile.cols),
  };
  if (!isSymbolic(batchSize) && !isSymbolic(rows) && !isSymbolic(n)) {
    const rowBlocks = Math.ceil(rows / blockRows);
    const colBlocks = Math.ceil(n / blockCols);
    const tilesDown = Math.ceil(rowBlocks / tile.rows);
    const tilesAcross = Math.ceil(colBlocks / tile.cols);
    const workgroups = Math.ceil(batchSize / tile.matrices) * tilesDown * tilesAcross;
    // The 2-D folding of `grid`, for workgroups of `size` invocations: x is as wide as the limit allows.
    const folded = grid(workgroups * WORKGROUP_SIZE, limits).workgroups;
    const width = Math.min(workgroups, limits.maxComputeWorkgroupsPerDimension);
    // Workgroup tiles run across n fastest, then down m, then over the batch.
    const guards = [
      ...(batchSize % tile.matrices !== 0 ? [`batch >= ${u(batchSize)}`] : []),
      ...(rowBlocks % tile.rows !== 0 ? [`row_block >= ${u(rowBlocks)}`] : []),
      ...(colBlocks % tile.cols !== 0 ? [`col_block >= ${u(colBlocks)}`] : []),
    ];
    return {
      tile,
      workgroups: folded,
      setup: [
        `let i = (wid.y * ${u(width)} + wid.x) * ${u(size)} + lid;`,
        `if (i >= ${u(workgroups * size)}) { return; }`,
        `let tile = ${over('i', size)};`,
        `let lane = ${modulo('i', size)};`,
        `let batch = ${add(times(over('tile', tilesAcross * tilesDown), tile.matrices), laneParts.batch)};`,
        `let row_block = ${add(times(modulo(over('tile', tilesAcross), tilesDown), tile.rows), laneParts.row)};`,
        `let col_block = ${add(times(modulo('tile', tilesAcross), tile.cols), laneParts.col)};`,
        ...(guards.length > 0 ? [`if (${guards.join(' || ')}) { return; }`] : []),
      ],
    };
  }
  const count = (d: Dim, per: number): WorkgroupCount => {
    if (isSymbolic(d)) return { size: d, per };
    const groups = Math.ceil(d / per);
    if (groups > limits.maxComputeWorkgroupsPerDimension) {
      throw new DeviceLimitError(
        `matmul: ${groups} workgroups along one grid axis (a size of ${d} in tiles of ${per}) exceed this device's maxComputeWorkgroupsPerDimension of ` +
          `${limits.maxComputeWorkgroupsPerDimension}. Fix: use smaller matrices, or compile for the device's own limits (compile(graph, {limits: device.limits})).`,
      );
    }
    return groups;
  };
  const across = blockCols * tile.cols;
  const down = blockRows * tile.rows;
  const guards = [
    ...(divides(batchSize, tile.matrices) ? [] : [`batch >= ${u(batchSize)}`]),
    ...(divides(rows, down) ? [] : [`row_block >= ${ceilDiv(rows, blockRows)}`]),
    ...(divides(n, across) ? [] : [`col_block >= ${ceilDiv(n, blockCols)}`]),
  ];
  return {
    tile,
    workgroups: [count(n, across), count(rows, down), count(batchSize, tile.matrices)],
    setup: [
      'let lane = lid;',
      `let batch = ${add(times('wid.z', tile.matrices), laneParts.batch)};`,
      `let row_block = ${add(times('wid.y', tile.rows), laneParts.row)};`,
      `let col_block = ${add(times('wid.x', tile.cols), laneParts.col)};`,
      ...(guards.length > 0 ? [`if (${guards.join(' || ')}) { return; }`] : []),
    ],
  };
}

/** Emits the kernel (or, for an empty product, a fill with zeros; nothing for an empty output). */
export function matmulKernel(p: MatmulProblem): KernelSpec[] {
  const { m, k, n, dtype } = p;
  // Output rows: m, plus the row of ones' products when asked for.
  const rows = p.onesRow ? dimAdd(m, 1) : m;
  const batchSize = sizeOf(p.batch);
  const outSize = dimProduct([batchSize, rows, n]);
  if (outSize === 0) return [];
  // A sum over an empty k is 0: nothing to read, so a and b are not even bound.
  if (k === 0 && p.epilogue) return [epilogueOfConstant(p.name, p.header, p.limits, p.epilogue, outSize, dtype === 'i32' ? '0i' : '0.0f', p.dims)];
  if (k === 0) return [fillKernel({ name: p.name, header: p.header, limits: p.limits, id: p.ids[2], size: outSize, dtype, value: 0, dims: p.dims })];

  const variant = p.variant ?? DEFAULT_MATMUL_VARIANT;
  // Outputs per invocation: blockRows rows of blockCols columns, held as blockCols/4 vec4 per row.
  const blockRows = variant.rows;
  const blockCols = variant.cols;
  const size = variant.workgroupSize;
  const vecsPerRow = blockCols / 4;
  // An epilogue consumes elements one at a time, so the output is never stored as vec4.
  const chosen = chooseLoads(p, blockRows);
  const loads = p.epilogue ? { ...chosen, out: 's' as const } : chosen;
  const layoutName = loads.a === 's' && loads.b === 's' && loads.out === 's' ? `${p.name}_scalar` : `${p.name}_a${loads.a}_b${loads.b}`;
  const name = sameVariant(variant, DEFAULT_MATMUL_VARIANT) ? layoutName : `${layoutName}_${variantName(variant)}`;
  const vec = `vec4<${dtype}>`;
  const layout = workgroupLayout(p.limits, { batchSize, rows, n, blockRows, blockCols, size });
  const { tile } = layout;

  // Rows past m (and columns past n) in an edge block read the last row (column) again:
  // always in bounds, no branches in the inner loop; only the stores are guarded.
  // Operands read per row of a (per column of b) name them row0, row1, … (col0, col1, …).
  const rowEdge = !divides(rows, blockRows);
  const colEdge = !divides(n, blockCols);
  const clamped = (first: string, d: number, edge: boolean, last: Dim): string =>
    edge ? `min(${first} + ${u(d)}, ${u(last)})` : `${first} + ${u(d)}`;
  const blockRowRange = upTo(blockRows);
  const blockColRange = upTo(blockCols);
  const vecRange = upTo(vecsPerRow);
  const perRow = loads.a !== 'm4';
  const perCol = loads.b !== 'n4';
  // The default 4×4 block keeps its one-vec4 names (acc0, b_k0, a_rows); wider blocks number each vec4.
  const nth = (base: string, q: number, count: number): string => (count === 1 ? base : `${base}_${q}`);
  const acc = (ii: number, v: number): string => nth(`acc${ii}`, v, vecsPerRow);

  const batchCoords = p.batch.length === 1 ? ['batch'] : p.batch.map((_, axis) => `batch${axis}`);
  const setup: string[] = [
    ...layout.setup,
    `let row0 = row_block * ${u(blockRows)};`,
    `let col0 = col_block * ${u(blockCols)};`,
    ...(perRow ? blockRowRange.slice(1).map((ii) => `let row${ii} = ${clamped('row0', ii, rowEdge, dimSub(rows, 1))};`) : []),
    ...(perCol ? blockColRange.slice(1).map((jj) => `let col${jj} = ${clamped('col0', jj, colEdge, dimSub(n, 1))};`) : []),
    ...(p.batch.length > 1 ? [unravel('batch', p.batch, 'batch')] : []),
    `let a_base = ${offsetExpr(batchCoords, p.batchStridesA)};`,
    `let b_base = ${offsetExpr(batchCoords, p.batchStridesB)};`,
  ];

  // Where each row of a (column of b) starts, in the units its binding is indexed in.
  // a(i, p) is stored at i·k + p, or i + p·m when transposed; b(p, j) at p·n + j, or j·k + p.
  // A vec4 of 4 rows (columns) past the edge starts at the last 4 instead, so it stays in bounds.
  const firstOf4 = (first: string, q: number, edge: boolean, last: Dim): string =>
    q === 0 ? first : edge ? `min(${first} + ${u(4 * q)}, ${u(dimSub(last, 3))})` : `${first} + ${u(4 * q)}`;
  const rowVecs = upTo(blockRows / 4);
  if (loads.a === 'k4') setup.push(...blockRowRange.map((ii) => `let a_row${ii} = (a_base + row${ii} * ${u(k)}) / 4u;`));
  else if (loads.a === 'm4' && p.onesRow) {
    // m is a multiple of 4, so the row of ones (row m) starts a vec4 of its own: a vec4 at
    // or past it is all ones (its other lanes are past the output, never stored). Its
    // address is clamped to a's last vec4, in bounds and aligned; the select happens per vec4.
    setup.push(
      ...rowVecs.flatMap((q) => {
        const first = q === 0 ? 'row0' : `row0 + ${u(4 * q)}`;
        return [
          `let ${nth('a_rows', q, rowVecs.length)} = (a_base + min(${first}, ${u(dimSub(m, 4))})) / 4u;`,
          `let ${nth('a_ones', q, rowVecs.length)} = ${first} >= ${u(m)};`,
        ];
      }),
    );
  } else if (loads.a === 'm4') setup.push(...rowVecs.map((q) => `let ${nth('a_rows', q, rowVecs.length)} = (a_base + ${firstOf4('row0', q, rowEdge, dimSub(rows, 1))}) / 4u;`));
  else {
    // The row of ones has no storage: its address is clamped into a, its value selected below.
    const row = (ii: number): string => (p.onesRow ? `min(row${ii}, ${u(dimSub(m, 1))})` : `row${ii}`);
    setup.push(...blockRowRange.map((ii) => `let a_row${ii} = ${add('a_base', p.transposeA ? row(ii) : `${paren(row(ii))} * ${u(k)}`)};`));
  }
  if (loads.b === 'k4') setup.push(...blockColRange.map((jj) => `let b_col${jj} = (b_base + col${jj} * ${u(k)}) / 4u;`));
  else if (loads.b === 'n4') setup.push(...vecRange.map((v) => `let ${nth('b_cols', v, vecsPerRow)} = (b_base + ${firstOf4('col0', v, colEdge, dimSub(n, 1))}) / 4u;`));
  else setup.push(...blockColRange.map((jj) => `let b_col${jj} = ${add('b_base', p.transposeB ? `col${jj} * ${u(k)}` : `col${jj}`)};`));
  setup.push(...blockRowRange.flatMap((ii) => vecRange.map((v) => `var ${acc(ii, v)} = ${vec}();`)));

  /**
   * The statements for `steps` consecutive k starting at WGSL expression `kAt` (a
   * multiple of 4 when steps is 4): loads, then acc_i += Σ_kk a(i, k+kk) · b(k+kk, :).
   */
  const step = (kAt: string | number, steps: number): string[] => {
    const kk = (d: number): string => (typeof kAt === 'number' ? u(kAt + d) : add(kAt, u(d)));
    const kTimes = (d: number, factor: Dim): string =>
      typeof kAt === 'number' && typeof factor === 'number' ? u((kAt + d) * factor) : times(kk(d), factor);
    const lines: string[] = [];
    const chunk = upTo(steps);
    let aAt: (ii: number, d: number) => string;
    if (loads.a === 'k4') {
      lines.push(...blockRowRange.map((ii) => `let a${ii} = a[a_row${ii} + ${kAt} / 4u];`));
      aAt = (ii, d) => `a${ii}.${LANES[d]}`;
    } else if (loads.a === 'm4') {
      const name = (d: number, q: number): string => nth(`a_k${d}`, q, rowVecs.length);
      const read = (d: number, q: number): string => {
        const value = `a[${add(nth('a_rows', q, rowVecs.length), kTimes(d, quarter(m)))}]`;
        return p.onesRow ? `select(${value}, ${vec}(${dtype === 'i32' ? '1i' : '1.0f'}), ${nth('a_ones', q, rowVecs.length)})` : value;
      };
      lines.push(...chunk.flatMap((d) => rowVecs.map((q) => `let ${name(d, q)} = ${read(d, q)};`)));
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
      lines.push(...chunk.flatMap((d) => vecRange.map((v) => `let ${name(d, v)} = b[${add(nth('b_cols', v, vecsPerRow), kTimes(d, quarter(n)))}];`)));
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

  // k in chunks of 4, then the 0–3 left over one at a time (k4 loads only occur when k % 4 == 0);
  // a symbolic k runs to its run-time bound, the same sums in the same order as a static k.
  const loop = (whole: string): string[] => [`for (var p = 0u; p < ${whole}; p += 4u) {`, ...step('p', 4).map((l) => `  ${l}`), '}'];
  const kLoops = isSymbolic(k)
    ? divides(k, 4)
      ? loop(u(k))
      : [`let k_whole = ${u(k)} / 4u * 4u;`, ...loop('k_whole'), `for (var p = k_whole; p < ${u(k)}; p++) {`, ...step('p', 1).map((l) => `  ${l}`), '}']
    : [...(k < 4 ? [] : loop(u(k - (k % 4)))), ...upTo(k % 4).flatMap((d) => ['{', ...step(k - (k % 4) + d, 1).map((l) => `  ${l}`), '}'])];

  const outBase = batchSize === 1 ? '0u' : times('batch', dimMul(rows, n));
  const stores = matmulStores({
    blockRows,
    blockCols,
    accumulators: blockRowRange.flatMap((ii) => vecRange.map((v) => acc(ii, v))),
    vec,
    rows,
    n,
    outBase,
    rowEdge,
    colEdge,
    out: loads.out,
    epilogue: p.epilogue !== undefined,
  });

  const described = (mode: string): string =>
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
        `${tile.matrices > 1 ? `${tile.matrices} × ` : ''}${tile.rows * blockRows}×${tile.cols * blockCols} per workgroup; a ${described(loads.a)}, b ${described(loads.b)}, out ${described(loads.out)}`,
    ],
    decls: [
      declare(p.ids[0], 'a', loads.a, 'read'),
      declare(p.ids[1], 'b', loads.b, 'read'),
      ...(p.epilogue ? bindings.fused(p.epilogue) : [declare(p.ids[2], 'out', loads.out, 'read_write')]),
    ],
    workgroupSize: size,
    body: [...setup, ...kLoops, ...stores],
    dims: p.dims,
  });
  return [{ name: p.epilogue ? `${name}_epilogue` : name, ...source, workgroups: layout.workgroups, bindings: bindings.list }];
}
