/**
 * The weight gradient of a convolution: few outputs (C_out · C_in/groups · kH · kW), each
 * a sum of N · H_out · W_out products, so the sums are split across invocations and meet
 * in a tree in workgroup memory (as reduce-tree.ts does for plain reductions).
 *
 * A workgroup takes one (C_out, C_in) pair and a tile of its kernel taps (kernel rows ×
 * kernel columns). Its invocations split the (n, output row) pairs and blocks of 4
 * neighbouring output columns; for each block an invocation reads the 4 output-gradient
 * values once for every tap of the tile, and along each kernel row reads the window of
 * inputs the 4 columns' taps overlap on once (4 columns × 5 taps: 8 inputs, 20 products).
 * Tiles are as large as registers allow, then smaller until there are enough workgroups
 * to keep the device busy. A last tile or column block that would run past the kernel's
 * or row's end is shifted back to end there, and skips (delivers no sums for, or reads
 * as zero gradient) what an earlier one covers, so every product is counted once.
 */

import { WORKGROUP_SIZE, KernelBindings, grid, workgroupKernelSource, maxWorkgroupWidth, sizeForChoices } from '../compiler/codegen/wgsl.js';
import { dimMul } from '../compiler/dims.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import type { ConvProblem } from './conv.js';
import { plus, range, scaled, splitIndex, u, zeros } from './conv.js';

/**
 * Most kernel taps one workgroup accumulates (registers per invocation): a whole 5×5
 * kernel, so no tap rows are recomputed by a shifted tile (SwiftShader, LeNet's second
 * layer: 0.63× the time of tiles of 3×5).
 */
const MAX_TAPS_PER_WORKGROUP = 25;
/**
 * Tiles shrink until there are this many workgroups (busy cores), or one tap per
 * workgroup. Smaller tiles read more per product (1×2 taps: 9 loads per 8 products), so
 * this stays low (SwiftShader, LeNet's first layer, 6 (C_out, C_in) pairs: tiles of 2×5
 * over 18 workgroups took 0.45× the time of 1×2 over 90).
 */
const TARGET_WORKGROUPS = 16;
/** Invocations per workgroup, at most. */
const MAX_THREADS = 64;
/**
 * Each invocation sums at least this many column blocks before the tree: on SwiftShader
 * 64 invocations of 16 blocks each (LeNet's second layer) ran 2–4× slower than 16 of 64.
 */
const MIN_BLOCKS_PER_THREAD = 64;
/** Neighbouring output columns an invocation reads together. */
const COLUMN_BLOCK = 4;

/**
 * Partial sums folded per tree level: fewer levels mean fewer barriers, which SwiftShader
 * runs as context switches (a binary tree was about 2× slower than 4 at a time there).
 */
const FAN_IN = 4;
/** The tree's levels: each folds \`from\` partial sums per tap into \`to\`, FAN_IN (or fewer, last) at a time. */
function treeSteps(threads: number): { from: number; to: number }[] {
  const steps: { from: number; to: number }[] = [];
  for (let from = threads; from > 1; from = Math.max(1, from / FAN_IN)) steps.push({ from, to: Math.max(1, from / FAN_IN) });
  return steps;
}

const floorPow2 = (x: number): number => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/** The tile of kernel taps per workgroup (at most `maxTaps`): `rows` × `columns`, and how many tiles cover the kernel. */
function tapTile(
  kernelHeight: number,
  kernelWidth: number,
  pairs: number,
  maxTaps: number,
): { rows: number; columns: number; rowTiles: number; columnTiles: number } {
  let columns = Math.ceil(kernelWidth / Math.ceil(kernelWidth / maxTaps));
  let rows = Math.min(kernelHeight, Math.max(1, Math.floor(maxTaps / columns)));
  const tiles = (): number => pairs * Math.ceil(kernelHeight / rows) * Math.ceil(kernelWidth / columns);
  while (tiles() < TARGET_WORKGROUPS && (rows > 1 || columns > 1)) {
    if (rows > 1) rows--;
    else columns--;
  }
  return { rows, columns, rowTiles: Math.ceil(kernelHeight / rows), columnTiles: Math.ceil(kernelWidth / columns) };
}

/** The weight gradient as one tree-reducing kernel; see the module comment. */
export function weightGradKernel(p: ConvProblem): KernelSpec[] {
  const g = p.geometry;
  const [height, width] = g.image;
  const [outHeight, outWidth] = g.response;
  const [kernelHeight, kernelWidth] = g.kernel;
  const imagePerGroup = g.imageChannels / g.groups;
  const responsePerGroup = g.responseChannels / g.groups;
  const pairs = g.responseChannels * imagePerGroup;
  const outSize = pairs * kernelHeight * kernelWidth;
  // The (n, output row) pairs each weight sums over: symbolic with the batch, a run-time loop bound.
  const rows = dimMul(g.batch, outHeight);
  if (outSize === 0) return [];
  if (rows === 0) return [zeros(p, outSize)];

  // Workgroup storage counted in whole 16-byte units, as WebGPU counts a workgroup variable.
  const storage = Math.floor(p.limits.maxComputeWorkgroupStorageSize / 16) * 16;
  // Fewer taps per workgroup where the storage cannot hold a partial sum of each.
  const tile = tapTile(kernelHeight, kernelWidth, pairs, Math.max(1, Math.min(MAX_TAPS_PER_WORKGROUP, storage / 4)));
  const tileTaps = tile.rows * tile.columns;
  const workgroupCount = pairs * tile.rowTiles * tile.columnTiles;
  const columnCount = Math.min(COLUMN_BLOCK, outWidth);
  const columnBlocks = Math.ceil(outWidth / columnCount);
  // Invocations: a power of two within the limits, with a partial sum per tap each in workgroup
  // memory. A symbolic batch is sized at sizeForChoices (the loop runs to the run's rows).
  const choiceRows = sizeForChoices(rows);
  const size = Math.min(
    MAX_THREADS,
    floorPow2((choiceRows * columnBlocks) / MIN_BLOCKS_PER_THREAD),
    floorPow2(maxWorkgroupWidth(p.limits)),
    floorPow2(storage / (4 * tileTaps)),
  );
  const rowThreads = Math.min(size, floorPow2(choiceRows));
  const columnThreads = Math.min(size / rowThreads, floorPow2(columnBlocks));
  const threads = rowThreads * columnThreads;
  const dispatch = grid(workgroupCount * WORKGROUP_SIZE, p.limits).workgroups;
  // The folded grid's width: as wide as the limit allows.
  const gridWidth = Math.min(workgroupCount, p.limits.maxComputeWorkgroupsPerDimension);
  const tileRows = range(tile.rows);
  const tileColumns = range(tile.columns);
  const columns = range(columnCount);
  const shiftedRows = kernelHeight % tile.rows !== 0;
  const shiftedColumns = kernelWidth % tile.columns !== 0;
  const shiftedBlocks = outWidth % columnCount !== 0;
  const first = (index: string, count: number, total: number, shifted: boolean): string =>
    shifted ? `min(${scaled(index, count)}, ${u(total - count)})` : scaled(index, count);

  // Input row of kernel row kr: outside the image only where padding is (then clamped, and its reads selected away).
  const rowChecks = (kr: number): string[] => [
    ...(kr * g.dilation[0] < g.padBefore[0] ? [`iy${kr} >= ${u(g.padBefore[0])}`] : []),
    ...((outHeight - 1) * g.stride[0] + (kernelHeight - tile.rows + kr) * g.dilation[0] - g.padBefore[0] > height - 1
      ? [`iy${kr} - ${u(g.padBefore[0])} <= ${u(height - 1)}`]
      : []),
  ];
  const unpaddedRow = (kr: number): string => (g.padBefore[0] > 0 ? `iy${kr} - ${u(g.padBefore[0])}` : `iy${kr}`);
  const rowSetup = tileRows.flatMap((kr) => {
    const checks = rowChecks(kr);
    const row = checks.length > 0 ? `min(${unpaddedRow(kr)}, ${u(height - 1)})` : unpaddedRow(kr);
    return [
      `let iy${kr} = ${plus(scaled('oy', g.stride[0]), scaled(kr === 0 ? 'kh0' : `(kh0 + ${u(kr)})`, g.dilation[0]))};`,
      ...(checks.length > 0 ? [`let row_inside${kr} = ${checks.join(' && ')};`] : []),
      `let x_row${kr} = ${plus('x_channel', scaled(`(${row})`, width))};`,
    ];
  });

  // Each input a column block needs, loaded once where first used: column ox0·stride + kw0·dilation + offset.
  const columnRead = (kr: number, offset: number): string => {
    const shift = offset - g.padBefore[1];
    const low = shift < 0;
    const high = (outWidth - columnCount) * g.stride[1] + (kernelWidth - tile.columns) * g.dilation[1] + shift > width - 1;
    // Below the padding the u32 column wraps; the clamp keeps the read in bounds and the select drops it.
    const column = low ? `column_base - ${u(-shift)}` : plus('column_base', u(shift));
    const inside = [
      ...(rowChecks(kr).length > 0 ? [`row_inside${kr}`] : []),
      ...(low ? [`column_base >= ${u(-shift)}`] : []),
      ...(high ? [`${column} <= ${u(width - 1)}`] : []),
    ];
    if (inside.length === 0) return `x[x_row${kr} + ${column}]`;
    return `select(0.0f, x[x_row${kr} + min(${column}, ${u(width - 1)})], ${inside.join(' && ')})`;
  };
  const products = tileRows.flatMap((kr) => {
    const loaded = new Set<number>();
    return tileColumns.flatMap((kc) =>
      columns.flatMap((o) => {
        const offset = o * g.stride[1] + kc * g.dilation[1];
        const load = loaded.has(offset) ? [] : [`let x${kr}_${offset} = ${columnRead(kr, offset)};`];
        loaded.add(offset);
        return [...load, `acc${kr}_${kc} += x${kr}_${offset} * gradient${o};`];
      }),
    );
  });

  const body = [
    `let workgroup_index = wid.y * ${u(gridWidth)} + wid.x;`,
    // Uniform per workgroup, so every barrier below stays in uniform control flow.
    `if (workgroup_index >= ${u(workgroupCount)}) { return; }`,
    ...splitIndex('workgroup_index', [['pair', pairs], ['row_tile', tile.rowTiles], ['column_tile', tile.columnTiles]]),
    ...splitIndex('pair', [['co', g.responseChannels], ['local', imagePerGroup]]),
    `let ci = ${plus(scaled(responsePerGroup === 1 ? 'co' : `(co / ${u(responsePerGroup)})`, imagePerGroup), 'local')};`,
    `let kh0 = ${first('row_tile', tile.rows, kernelHeight, shiftedRows)};`,
    `let kw0 = ${first('column_tile', tile.columns, kernelWidth, shiftedColumns)};`,
    ...tileRows.flatMap((kr) => tileColumns.map((kc) => `var acc${kr}_${kc} = 0.0f;`)),
    ...(columnThreads === 1 ? [] : [`let row_thread = lid / ${u(columnThreads)};`, `let column_thread = lid % ${u(columnThreads)};`]),
    `for (var row = ${columnThreads === 1 ? 'lid' : 'row_thread'}; row < ${u(rows)}; row += ${u(rowThreads)}) {`,
    ...[
      ...splitIndex('row', [['n', g.batch], ['oy', outHeight]]),
      `let dy_row = ${plus(scaled(`(${plus(scaled('n', g.responseChannels), 'co')})`, outHeight * outWidth), scaled('oy', outWidth))};`,
      `let x_channel = ${scaled(`(${plus(scaled('n', g.imageChannels), 'ci')})`, height * width)};`,
      ...rowSetup,
      `for (var column_block = ${columnThreads === 1 ? '0u' : 'column_thread'}; column_block < ${u(columnBlocks)}; column_block += ${u(columnThreads)}) {`,
      `  let ox0 = ${first('column_block', columnCount, outWidth, shiftedBlocks)};`,
      `  let column_base = ${plus(scaled('ox0', g.stride[1]), scaled('kw0', g.dilation[1]))};`,
      // A shifted last block reads the columns an earlier block covered as zero gradient.
      ...columns.map((o) => {
        const value = `dy[${plus('dy_row', 'ox0', u(o))}]`;
        const covered = shiftedBlocks && o < columnCount - 1;
        return `  let gradient${o} = ${covered ? `select(0.0f, ${value}, ${plus('ox0', u(o))} >= ${scaled('column_block', columnCount)})` : value};`;
      }),
      ...products.map((l) => `  ${l}`),
      '}',
    ].map((l) => `  ${l}`),
    '}',
    ...tileRows.flatMap((kr) => tileColumns.map((kc) => `partial[${plus(u((kr * tile.columns + kc) * threads), 'lid')}] = acc${kr}_${kc};`)),
    ...treeSteps(threads).flatMap(({ from, to }) => [
      'workgroupBarrier();',
      `if (lid < ${u(to)}) {`,
      ...range(tileTaps).map((t) => {
        const slot = (k: number): string => plus(u(t * threads + k * to), 'lid');
        return `  partial[${slot(0)}] += ${range(from / to - 1).map((k) => `partial[${slot(k + 1)}]`).join(' + ')};`;
      }),
      '}',
    ]),
    ...(threads > 1 ? ['workgroupBarrier();'] : []),
    // Each tap of the tile is delivered by one invocation, unless an earlier tile delivers it.
    `for (var tap = lid; tap < ${u(tileTaps)}; tap += ${u(threads)}) {`,
    `  let kh = ${tile.columns === 1 ? 'kh0 + tap' : `kh0 + tap / ${u(tile.columns)}`};`,
    `  let kw = ${tile.columns === 1 ? 'kw0' : `kw0 + tap % ${u(tile.columns)}`};`,
    ...(shiftedRows || shiftedColumns
      ? [
          `  if (${[...(shiftedRows ? [`kh < ${scaled('row_tile', tile.rows)}`] : []), ...(shiftedColumns ? [`kw < ${scaled('column_tile', tile.columns)}`] : [])].join(' || ')}) { continue; }`,
        ]
      : []),
    `  let at = ${plus(scaled(`(${plus(scaled('pair', kernelHeight), 'kh')})`, kernelWidth), 'kw')};`,
    `  let value = partial[tap * ${u(threads)}];`,
    `  ${p.epilogue ? 'kiln_epilogue(at, value);' : 'out[at] = value;'}`,
    '}',
  ];
  const name = p.epilogue ? `${p.name}_epilogue` : p.name;
  const bindings = new KernelBindings();
  const source = workgroupKernelSource({
    name,
    header: [
      ...p.header,
      `weight gradient: ${g.batch}×${outHeight}×${outWidth} products per weight; ${tile.rows}×${tile.columns} of the ${kernelHeight}×${kernelWidth} taps per workgroup, ` +
        `${threads} invocations (${rowThreads} over rows × ${columnThreads} over blocks of ${columnCount} columns); partial sums combined as a tree in workgroup memory`,
    ],
    decls: [
      bindings.storage(p.ids[0], 'x', 'f32', 'read'),
      bindings.storage(p.ids[1], 'dy', 'f32', 'read'),
      ...(p.epilogue ? bindings.fused(p.epilogue) : [bindings.storage(p.ids[2], 'out', 'f32', 'read_write')]),
    ],
    workgroupMemory: [{ name: 'partial', elementType: 'f32', length: tileTaps * threads }],
    workgroupSize: threads,
    body,
    dims: p.dims,
  });
  return [{ name, ...source, workgroups: dispatch, bindings: bindings.list }];
}
