/**
 * The direct convolution kernel, for conv and (gathering per output element) for
 * convTranspose, over the geometry of compiler/ops/conv-shape.ts (an image, a response
 * and a weight; 1-D ops arrive as 2-D with a first axis of size 1). The weight gradient
 * has its own kernel in conv-weight-grad.ts.
 *
 * One invocation computes a block of outputs: up to 4 output channels of one group × a
 * row of up to 16 columns, or 8 neighbouring columns of a wider one (at most 32 outputs),
 * looping over the group's input channels and the kernel rows, with the kernel's columns
 * unrolled. So each input value loaded serves every channel of the block and, along a
 * row, the neighbouring columns whose windows overlap (a 5-wide kernel over 8 columns
 * loads 12 inputs for 160 products with 4 channels), and each weight loaded serves every column. Bounds checks are emitted only for taps that
 * can fall into padding; a checked read is clamped into the buffer and selected away.
 * (Measured on SwiftShader with LeNet's shapes: 3–4× faster than one output per invocation.)
 *
 * The last column block of a row, when the block does not divide the row, is shifted
 * left to end at the row's end and stores only the columns no other block stores; the
 * last channel block likewise recomputes the group's last channel and does not store it.
 */

import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { KernelBindings, perElementKernel, wgslSize } from '../compiler/codegen/wgsl.js';
import type { Dim } from '../compiler/dims.js';
import { dimProduct } from '../compiler/dims.js';
import type { Epilogue, KernelSpec } from '../compiler/codegen/kernel.js';
import { epilogueOfConstant, fillKernel } from './reduce.js';

/**
 * Everything the reference and the templates need, in 2-D: a 1-D op is a 2-D one whose
 * first spatial axis has size 1 (kernel 1, stride 1, no padding). Only the batch may be
 * symbolic: the kernels' loops and blocks are specialised to the channels and the spatial sizes.
 */
export interface ConvGeometry {
  readonly batch: Dim;
  readonly imageChannels: number;
  readonly responseChannels: number;
  readonly groups: number;
  /** Spatial sizes, [H, W]. */
  readonly image: readonly [number, number];
  readonly response: readonly [number, number];
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Padding before each axis (top, left) and after it (bottom, right). */
  readonly padBefore: readonly [number, number];
  readonly padAfter: readonly [number, number];
}

export interface ConvProblem {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  readonly geometry: ConvGeometry;
  /** Node ids bound in order: the two operands, then the output. */
  readonly ids: readonly [number, number, number];
  readonly epilogue?: Epilogue;
  /** The plan's symbolic dims (`LoweringContext.dims`): a symbolic batch is read from the size block. */
  readonly dims: readonly string[];
}

export interface DirectConvProblem extends ConvProblem {
  /** Computes the image from a response (convTranspose) instead of the response from an image (conv). */
  readonly transposed: boolean;
}

/** Most output channels one invocation accumulates. */
const MAX_CHANNEL_BLOCK = 4;
/** Most accumulators (channels × columns) one invocation holds. */
const MAX_ACCUMULATORS = 32;
/**
 * Rows up to this wide are one column block: the block's columns are then constants, so
 * the compiler drops the bounds checks (and the padding's reads) of every column it can
 * prove inside or outside the row. (SwiftShader, LeNet's shapes: the input gradient of the
 * second conv, 12 wide with 4 of padding each side, ran in about half the time of blocks of 4.)
 */
const MAX_ROW_BLOCK = 16;
/** Neighbouring output columns one invocation accumulates in a wider row (8: LeNet's first conv ran in about half the time of 4). */
const WIDE_ROW_COLUMN_BLOCK = 8;
/** Wider kernels get one column per invocation, so the window of inputs held stays small. */
const MAX_BLOCKED_KERNEL_WIDTH = 16;

/** A size as WGSL: a literal (`784u`), or read from the size block when symbolic. */
export const u = (value: Dim): string => wgslSize(value);
/** `x * c` for a WGSL u32 expression x, without the trivial cases. */
export const scaled = (x: string, c: number): string => (c === 0 || x === '0u' ? '0u' : c === 1 ? x : `${x} * ${u(c)}`);
/** A sum of WGSL u32 terms, dropping zeros. */
export const plus = (...terms: string[]): string => terms.filter((t) => t !== '0u').join(' + ') || '0u';
export const range = (count: number): number[] => Array.from({ length: count }, (_, j) => j);

/** `let` statements splitting flat index `flat` into named coordinates (row-major; size-1 axes are 0u; the first axis's size is never read). */
export function splitIndex(flat: string, axes: readonly (readonly [string, Dim])[]): string[] {
  const lines: string[] = [];
  let rest = flat;
  for (let k = axes.length - 1; k >= 0; k--) {
    const [name, size] = axes[k]!;
    if (k === 0) lines.push(`let ${name} = ${rest};`);
    else if (size === 1) lines.push(`let ${name} = 0u;`);
    else {
      lines.push(`let ${name} = ${rest} % ${u(size)};`);
      lines.push(`let ${name}_rest = ${rest} / ${u(size)};`);
      rest = `${name}_rest`;
    }
  }
  return lines;
}

/** The kernel for an output whose sums have no terms: zeros, through the epilogue if there is one. */
export function zeros(p: ConvProblem, size: Dim): KernelSpec {
  const header = [...p.header, 'sums over no terms: every element is 0'];
  if (p.epilogue) return epilogueOfConstant(p.name, header, p.limits, p.epilogue, size, '0.0f', p.dims);
  return fillKernel({ name: p.name, header, limits: p.limits, id: p.ids[2], size, dtype: 'f32', value: 0, dims: p.dims });
}

/**
 * Channels per invocation for `perGroup` output channels per group: the largest block up
 * to `most` that divides them, else `most` with the last block recomputing the group's last channel.
 */
function channelBlock(perGroup: number, most: number): number {
  if (perGroup <= most) return Math.max(1, perGroup);
  for (let block = most; block > 1; block--) if (perGroup % block === 0) return block;
  return most;
}

/** One spatial axis as the kernel sees it: output and input extents and the tap geometry. */
interface Axis {
  readonly outSize: number;
  readonly inSize: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBefore: number;
}

/**
 * Statements defining input row `iy` for output row `oy` and kernel row `kh` inside the
 * kh loop: for a conv iy = oy·stride − pad + kh·dilation, for a convTranspose
 * iy = (oy + pad − kh·dilation) / stride where that divides; `continue` skips rows
 * outside the input. Checks that cannot fail are left out.
 */
function mapRow(a: Axis, transposed: boolean): string[] {
  if (!transposed) {
    const checks = [
      ...(a.padBefore > 0 ? [`iy_padded < ${u(a.padBefore)}`] : []),
      // The last window's last tap reaches past the input only when there is padding after it.
      ...((a.outSize - 1) * a.stride + (a.kernel - 1) * a.dilation - a.padBefore >= a.inSize ? [`iy_padded - ${u(a.padBefore)} >= ${u(a.inSize)}`] : []),
    ];
    return [
      `let iy_padded = ${plus(scaled('oy', a.stride), scaled('kh', a.dilation))};`,
      ...(checks.length > 0 ? [`if (${checks.join(' || ')}) { continue; }`] : []),
      `let iy = ${a.padBefore > 0 ? `iy_padded - ${u(a.padBefore)}` : 'iy_padded'};`,
    ];
  }
  // u32 arithmetic wraps: a kernel row past the output's start gives a huge offset, which the bound check refuses.
  const quotient = a.stride > 1 ? `iy_offset / ${u(a.stride)}` : 'iy_offset';
  const checks = [
    ...(a.stride > 1 ? [`iy_offset % ${u(a.stride)} != 0u`] : []),
    ...(a.kernel > 1 || Math.floor((a.outSize - 1 + a.padBefore) / a.stride) >= a.inSize ? [`${quotient} >= ${u(a.inSize)}`] : []),
  ];
  const start = plus('oy', u(a.padBefore));
  return [
    `let iy_offset = ${a.kernel > 1 ? `${start} - ${scaled('kh', a.dilation)}` : start};`,
    ...(checks.length > 0 ? [`if (${checks.join(' || ')}) { continue; }`] : []),
    `let iy = ${quotient};`,
  ];
}

/**
 * Where output column ox0 + o reads the input for kernel column kw: column `index` of the
 * row (both WGSL, in terms of `column_base`), valid where `inside` holds (absent when it
 * always does). Reads with equal keys are the same input column, loaded once.
 */
interface ColumnRead {
  readonly key: string;
  readonly index: string;
  readonly inside?: string;
}

/**
 * The column reads of a block of `block` columns starting at `ox0`: `column_base` (defined
 * by `base`) plus a constant per (o, kw) for conv and stride-1 convTranspose; per-tap
 * divisibility for a strided convTranspose (whose blocks are one column wide). A checked
 * index is clamped into the row, so its read stays in bounds before it is selected away.
 */
function columnReads(a: Axis, transposed: boolean, block: number): { base: string; read: (o: number, kw: number) => ColumnRead } {
  const last = a.inSize - 1;
  const clamp = (index: string): string => `min(${index}, ${u(last)})`;
  // The largest ox0 a block can have: its last column is the row's last.
  const maxStart = a.outSize - block;
  if (!transposed) {
    // Padded input column ox0·stride + offset; outside the input only where padding is.
    return {
      base: `let column_base = ${scaled('ox0', a.stride)};`,
      read(o, kw) {
        const offset = o * a.stride + kw * a.dilation;
        const shift = offset - a.padBefore;
        const low = shift < 0;
        const high = maxStart * a.stride + shift > last;
        // Below the padding the u32 column wraps to a huge value, which the clamp and the check catch.
        const index = low ? `column_base - ${u(-shift)}` : plus('column_base', u(shift));
        const inside = [...(low ? [`column_base >= ${u(-shift)}`] : []), ...(high ? [`${index} <= ${u(last)}`] : [])];
        return { key: low ? `m${-shift}` : String(shift), index: inside.length > 0 ? clamp(index) : index, ...(inside.length > 0 ? { inside: inside.join(' && ') } : {}) };
      },
    };
  }
  if (a.stride === 1) {
    // Input column ox0 + pad + o − kw·dilation (a wrapped u32 below 0, refused by the bound).
    return {
      base: `let column_base = ${plus('ox0', u(a.padBefore))};`,
      read(o, kw) {
        const offset = o - kw * a.dilation;
        const index = offset >= 0 ? plus('column_base', u(offset)) : `column_base - ${u(-offset)}`;
        const key = offset >= 0 ? String(offset) : `m${-offset}`;
        const checked = a.padBefore + offset < 0 || maxStart + a.padBefore + offset > last;
        return checked ? { key, index: clamp(index), inside: `${index} <= ${u(last)}` } : { key, index };
      },
    };
  }
  return {
    base: `let column_base = ${plus('ox0', u(a.padBefore))};`,
    read(_o, kw) {
      const offset = kw === 0 ? 'column_base' : `(column_base - ${u(kw * a.dilation)})`;
      const quotient = `${offset} / ${u(a.stride)}`;
      return { key: `k${kw}`, index: clamp(quotient), inside: `${offset} % ${u(a.stride)} == 0u && ${quotient} <= ${u(last)}` };
    },
  };
}

/** conv (or convTranspose) as one kernel of direct loops; see the module comment. */
export function directConvKernel(p: DirectConvProblem): KernelSpec[] {
  const g = p.geometry;
  const { transposed } = p;
  const [outChannels, inChannels] = transposed ? [g.imageChannels, g.responseChannels] : [g.responseChannels, g.imageChannels];
  const [outHeight, outWidth] = transposed ? g.image : g.response;
  const [inHeight, inWidth] = transposed ? g.response : g.image;
  const [kernelHeight, kernelWidth] = g.kernel;
  const outPerGroup = outChannels / g.groups;
  const inPerGroup = inChannels / g.groups;
  const outSize = dimProduct([g.batch, outChannels, outHeight, outWidth]);
  if (outSize === 0) return [];
  if (inPerGroup === 0) return [zeros(p, outSize)];

  // A strided convTranspose reads different kernel columns at neighbouring output columns: one column per invocation.
  const blockable = (!transposed || g.stride[1] === 1) && kernelWidth <= MAX_BLOCKED_KERNEL_WIDTH;
  const columnCount = !blockable ? 1 : outWidth <= MAX_ROW_BLOCK ? outWidth : WIDE_ROW_COLUMN_BLOCK;
  const channelCount = channelBlock(outPerGroup, Math.max(1, Math.min(MAX_CHANNEL_BLOCK, Math.floor(MAX_ACCUMULATORS / columnCount))));
  const blocksPerGroup = Math.ceil(outPerGroup / channelCount);
  const channelBlocks = g.groups * blocksPerGroup;
  const columnBlocks = Math.ceil(outWidth / columnCount);
  const shifted = outWidth % columnCount !== 0;
  const taps = kernelHeight * kernelWidth;
  const inArea = inHeight * inWidth;
  const channels = range(channelCount);
  const columns = range(columnCount);
  const clamped = outPerGroup % channelCount !== 0;
  const lastInGroup = `group * ${u(outPerGroup)} + ${u(outPerGroup - 1)}`;
  const channel = (j: number): string => (clamped ? `min(c0 + ${u(j)}, ${lastInGroup})` : `c0 + ${u(j)}`);
  // w[c, r, kh, kw] for conv (c an output channel, r an input channel of its group); for a
  // convTranspose w[group·inPerGroup + r, c − group·outPerGroup, kh, kw].
  const weightBase = (j: number): string =>
    transposed
      ? plus(scaled('group', inPerGroup * outPerGroup * taps), scaled(`(c${j} - group * ${u(outPerGroup)})`, taps))
      : scaled(`c${j}`, inPerGroup * taps);
  const weightPerInput = transposed ? outPerGroup * taps : taps;
  const axis = (k: 0 | 1): Axis => ({
    outSize: k === 0 ? outHeight : outWidth,
    inSize: k === 0 ? inHeight : inWidth,
    kernel: g.kernel[k],
    stride: g.stride[k],
    dilation: g.dilation[k],
    padBefore: g.padBefore[k],
  });
  const reads = columnReads(axis(1), transposed, columnCount);

  // Column indices and checks depend only on the block's columns: computed once, before the loops.
  const columnSetup: string[] = [];
  const seen = new Set<string>();
  for (const kw of range(kernelWidth)) {
    for (const o of columns) {
      const { key, index, inside } = reads.read(o, kw);
      if (seen.has(key)) continue;
      seen.add(key);
      columnSetup.push(`let column_${key} = ${index};`, ...(inside ? [`let inside_${key} = ${inside};`] : []));
    }
  }
  // The unrolled kernel columns: each input column loaded once, where first needed; weights per column.
  const loaded = new Set<string>();
  const unrolled = range(kernelWidth).flatMap((kw) => {
    const lines: string[] = [];
    for (const o of columns) {
      const { key, inside } = reads.read(o, kw);
      const value = `x[x_row + column_${key}]`;
      if (!loaded.has(key)) lines.push(`let x_${key} = ${inside ? `select(0.0f, ${value}, inside_${key})` : value};`);
      loaded.add(key);
    }
    lines.push(...channels.map((j) => `let w${j}_${kw} = w[${plus(`w${j}`, 'w_row', u(kw))}];`));
    for (const j of channels) for (const o of columns) lines.push(`acc${j}_${o} += x_${reads.read(o, kw).key} * w${j}_${kw};`);
    return lines;
  });

  const body = [
    ...splitIndex('i', [['n', g.batch], ['block', channelBlocks], ['oy', outHeight], ['column_block', columnBlocks]]),
    `let group = ${blocksPerGroup === 1 ? 'block' : `block / ${u(blocksPerGroup)}`};`,
    `let c0 = ${plus(scaled('group', outPerGroup), blocksPerGroup === 1 ? '0u' : scaled(`(block % ${u(blocksPerGroup)})`, channelCount))};`,
    ...channels.slice(1).map((j) => `let c${j} = ${channel(j)};`),
    ...channels.map((j) => `let w${j} = ${weightBase(j)};`),
    `let ox0 = ${shifted ? `min(${scaled('column_block', columnCount)}, ${u(outWidth - columnCount)})` : scaled('column_block', columnCount)};`,
    reads.base,
    ...columnSetup,
    ...channels.flatMap((j) => columns.map((o) => `var acc${j}_${o} = 0.0f;`)),
    `let x_group = ${scaled(`(${plus(scaled('n', inChannels), scaled('group', inPerGroup))})`, inArea)};`,
    `for (var r = 0u; r < ${u(inPerGroup)}; r++) {`,
    `  let x_channel = ${plus('x_group', scaled('r', inArea))};`,
    `  let w_channel = ${scaled('r', weightPerInput)};`,
    `  for (var kh = 0u; kh < ${u(kernelHeight)}; kh++) {`,
    ...mapRow(axis(0), transposed).map((l) => `    ${l}`),
    `    let x_row = ${plus('x_channel', scaled('iy', inWidth))};`,
    `    let w_row = ${plus('w_channel', scaled('kh', kernelWidth))};`,
    ...unrolled.map((l) => `    ${l}`),
    '  }',
    '}',
    ...channels.flatMap((j) =>
      columns.map((o) => {
        const at = plus(scaled(`(${plus(scaled('n', outChannels), j === 0 ? 'c0' : `c${j}`)})`, outHeight * outWidth), scaled('oy', outWidth), 'ox0', u(o));
        const deliver = p.epilogue ? `kiln_epilogue(${at}, acc${j}_${o});` : `out[${at}] = acc${j}_${o};`;
        const guards = [
          ...(clamped && j > 0 ? [`c0 + ${u(j)} <= ${lastInGroup}`] : []),
          ...(shifted && o < columnCount - 1 ? [`${plus('ox0', u(o))} >= ${scaled('column_block', columnCount)}`] : []),
        ];
        return guards.length > 0 ? `if (${guards.join(' && ')}) { ${deliver} }` : deliver;
      }),
    ),
  ];
  const op = transposed ? 'transposed convolution (gathered per output element)' : 'convolution';
  const name = p.epilogue ? `${p.name}_epilogue` : p.name;
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name,
    header: [
      ...p.header,
      `${op}: ${inPerGroup} input channel${inPerGroup === 1 ? '' : 's'} × ${kernelHeight}×${kernelWidth} taps per output; ` +
        `${channelCount} channel${channelCount === 1 ? '' : 's'} × ${columnCount} column${columnCount === 1 ? '' : 's'} per invocation` +
        (g.groups > 1 ? `; ${g.groups} groups` : ''),
    ],
    limits: p.limits,
    decls: [
      bindings.storage(p.ids[0], 'x', 'f32', 'read'),
      bindings.storage(p.ids[1], 'w', 'f32', 'read'),
      ...(p.epilogue ? bindings.fused(p.epilogue) : [bindings.storage(p.ids[2], 'out', 'f32', 'read_write')]),
    ],
    invocations: dimProduct([g.batch, channelBlocks, outHeight, columnBlocks]),
    body,
    dims: p.dims,
  });
  return [{ name, ...kernel, bindings: bindings.list }];
}
