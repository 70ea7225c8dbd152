/**
 * Code generation for fusion groups: a loop group (or one elementwise op) becomes one
 * elementwise kernel that computes every member per element; an epilogue group gives its
 * anchor's template a `kiln_epilogue(i, value)` function running the members on each
 * stored element; a row group a row kernel; any other op alone is its own lowering.
 * Outputs fusion writes in place over a param or state (an optimizer update) read and
 * write one read_write binding. Every decision is the group's: the emitter only checks
 * that its kernels bind the storage buffers fusion counted.
 */

import { KernelError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import type { Lowering } from '../ops/op.js';
import type { Epilogue, KernelSpec, Prologue } from './kernel.js';
import { getOp } from '../ops/op.js';
import type { FusionGroup } from '../passes/fusion/group.js';
import { broadcastStrides, sameShape, sizeOf } from '../shape.js';
import type { Shape } from '../shape.js';
import { describeNode, lowerNode, splatValue } from './lower.js';
import type { KernelLimits } from './wgsl.js';
import type { TuningTable } from './tuning.js';
import { IS_INF_HELPER } from '../../shaders/reduce.js';
import {
  WORKGROUP_SIZE,
  bindingDecl,
  calledHelpers,
  perElementKernel,
  grid,
  kernelHeader,
  literal,
  load,
  offsetExpr,
  sanitize,
  specialFloatHelpers,
  storageType,
  store,
  unravel,
  valueType,
} from './wgsl.js';

/** The WGSL of a fused element computation: bindings, helpers, and statements using `i` (and `value`). */
interface ElementCode {
  readonly bindings: readonly number[];
  /** Whether some input is read broadcast (at another index than the element's own). */
  readonly broadcasts: boolean;
  code(firstBinding: number): { decls: string[]; helpers: string[] };
  readonly body: readonly string[];
}

interface ElementSpec {
  /** Nodes computed per element, topologically ordered (an anchor's value arrives as `value`). */
  readonly nodes: readonly number[];
  readonly shape: Shape;
  readonly anchor?: number;
  /** Nodes stored per element (into their own buffer, or their in-place target). */
  readonly outputs: readonly number[];
  /** Output → the param/state it is written over. */
  readonly writeInto: ReadonlyMap<number, number>;
  /** A prologue returns this node's value instead of storing. */
  readonly returns?: number;
  /** Prefix of binding names, so a prologue and an epilogue can share one module. */
  readonly prefix: string;
}

function elementCode(graph: Graph, spec: ElementSpec): ElementCode {
  const { writeInto, shape } = spec;
  const members = new Set(spec.nodes);
  const group = { nodes: spec.nodes, anchor: spec.anchor, outputs: spec.outputs };
  const bindings: number[] = [];
  const access = new Map<number, 'read' | 'read_write'>();
  const nameOf = new Map<number, string>();
  let inputCount = 0;
  let outputCount = 0;
  // Inputs in0, in1, …; outputs out, out1, out2, … (a single-op kernel reads `out[i] = …`).
  const nextName = (mode: 'read' | 'read_write'): string =>
    mode === 'read' ? `in${inputCount++}` : outputCount++ === 0 ? 'out' : `out${outputCount - 1}`;
  const bind = (id: number, mode: 'read' | 'read_write'): string => {
    if (!nameOf.has(id)) {
      nameOf.set(id, `${spec.prefix}${nextName(mode)}`);
      bindings.push(id);
      access.set(id, mode);
    } else if (mode === 'read_write') {
      access.set(id, 'read_write');
    }
    return nameOf.get(id)!;
  };
  // In-place targets of this code's outputs are bound once, read_write, before anything reads them.
  for (const id of spec.outputs) {
    const target = writeInto.get(id);
    if (target !== undefined) bind(target, 'read_write');
  }

  let needsCoords = false;
  const coords = shape.map((_, axis) => `c${axis}`);
  const read = (input: Node): string => {
    if (members.has(input.id)) return `v${input.id}`;
    const splat = splatValue(input);
    if (splat !== undefined) return literal(splat, input.dtype);
    const name = bind(input.id, 'read');
    if (sameShape(input.shape, shape)) return load(name, 'i', input.dtype);
    needsCoords = true;
    return load(name, offsetExpr(coords, broadcastStrides(input.shape, shape)), input.dtype);
  };

  const statements: string[] = [];
  const helpers: string[] = [];
  for (const id of group.nodes) {
    const node = graph.node(id);
    if (id === group.anchor) {
      statements.push(`let v${id} = value;`);
      continue;
    }
    const lowering = getOp(node.op).lower as Extract<Lowering, { kind: 'elementwise' }>;
    const args = node.inputs.map((input) => read(graph.node(input)));
    const expr = lowering.expr(args, node.attrs, { inputs: node.inputs.map((input) => graph.node(input).dtype), output: node.dtype });
    helpers.push(...(lowering.helpers ?? []), ...specialFloatHelpers(expr));
    statements.push(`let v${id}: ${valueType(node.dtype)} = ${expr};`);
  }
  for (const id of group.outputs) {
    const node = graph.node(id);
    const target = writeInto.get(id);
    const name = bind(target ?? id, 'read_write');
    statements.push(`${name}[i] = ${store(`v${id}`, node.dtype)};`);
  }
  if (spec.returns !== undefined) statements.push(`return v${spec.returns};`);
  const body = [...(needsCoords && shape.length > 0 ? [unravel('i', shape, 'c')] : []), ...statements];
  return {
    bindings,
    broadcasts: needsCoords,
    body,
    code(firstBinding) {
      const decls = bindings.map((id, k) => bindingDecl(firstBinding + k, nameOf.get(id)!, graph.node(id).dtype, access.get(id)!));
      return { decls, helpers: calledHelpers(statements.join('\n'), [...new Set(helpers)]) };
    },
  };
}

function header(graph: Graph, group: FusionGroup): string[] {
  const prologue = group.prologue?.nodes.map((id) => `prologue ${describeNode(graph, graph.node(id))}`) ?? [];
  return [group.reason, ...prologue, ...group.nodes.map((id) => describeNode(graph, graph.node(id)))];
}

/** The kernels of one fusion group; they bind exactly the storage buffers fusion counted (else a fusion bug). */
export function lowerGroup(graph: Graph, group: FusionGroup, limits: KernelLimits, tuning?: TuningTable): readonly KernelSpec[] {
  const kernels = emitGroup(graph, group, limits, tuning);
  const wrong = kernels.find((spec) => group.storageBuffers !== undefined && spec.bindings.length !== group.storageBuffers);
  if (wrong) {
    throw new KernelError(
      `lowerGroup: kernel ${wrong.name} (${group.reason}) binds ${wrong.bindings.length} storage buffers, but fusion counted ` +
        `${group.storageBuffers} (a fusion bug: compile with {fuse: false} to work around it).`,
    );
  }
  return kernels;
}

function emitGroup(graph: Graph, group: FusionGroup, limits: KernelLimits, tuning: TuningTable | undefined): readonly KernelSpec[] {
  if (group.kind === 'row') return [rowKernel(graph, group, limits)];
  const alone = group.nodes.length === 1 && !group.prologue && group.inPlace.length === 0;
  const elementwise = group.anchor === undefined && group.nodes.every((id) => getOp(graph.node(id).op).lower?.kind === 'elementwise');
  if (alone && !elementwise) return lowerNode(graph, graph.node(group.nodes[0]!), limits, tuning);
  const writeInto = new Map(group.inPlace.map(({ value, target }) => [value, target] as const));
  const sums = group.columnSums;
  const inSums = new Set(sums?.nodes ?? []);
  const element = elementCode(graph, {
    nodes: group.nodes.filter((id) => !inSums.has(id)),
    shape: group.shape,
    ...(group.anchor === undefined ? {} : { anchor: group.anchor }),
    outputs: group.outputs.filter((id) => !inSums.has(id)),
    writeInto,
    prefix: '',
  });
  const first = graph.node(group.nodes[0]!);
  const kind = group.anchor !== undefined ? sanitize(graph.node(group.anchor).op) : group.nodes.length === 1 ? sanitize(first.op) : 'fused';
  const kernelName = `k${first.id}_${kind}`;
  if (group.anchor === undefined) {
    const { decls, helpers } = element.code(0);
    const g = grid(sizeOf(group.shape), limits);
    const wgsl = [
      kernelHeader(kernelName, header(graph, group)),
      ...decls,
      ...helpers,
      '',
      `@compute @workgroup_size(${WORKGROUP_SIZE})`,
      `fn main(${g.params}) {`,
      `  ${g.prologue}`,
      ...element.body.map((line) => `  ${line}`),
      '}',
      '',
    ].join('\n');
    return [{ name: kernelName, wgsl, workgroups: g.workgroups, bindings: element.bindings, elementwise: !element.broadcasts }];
  }
  const anchor = graph.node(group.anchor!);
  const epilogue: Epilogue = sums ? columnSumsEpilogue(graph, group, sums, element, writeInto) : {
    bindings: element.bindings,
    code(firstBinding) {
      const { decls, helpers } = element.code(firstBinding);
      return [
        ...decls,
        ...helpers,
        '',
        `fn kiln_epilogue(i: u32, value: ${storageType(anchor.dtype)}) {`,
        ...element.body.map((line) => `  ${line}`),
        '}',
      ];
    },
  };
  const lowering = getOp(anchor.op).lower as Extract<Lowering, { kind: 'kernel' }>;
  const prologue = group.prologue ? prologueOf(graph, group.prologue) : undefined;
  return lowering.emit({
    ...(prologue ? { prologue } : {}),
    node: anchor,
    inputs: anchor.inputs.map((id) => graph.node(id)),
    attrs: anchor.attrs,
    name: kernelName,
    limits,
    header: header(graph, group),
    epilogue,
    ...(tuning ? { tuning } : {}),
  });
}

function prologueOf(graph: Graph, spec: NonNullable<FusionGroup['prologue']>): Prologue {
  const element = elementCode(graph, { nodes: spec.nodes, shape: spec.shape, outputs: [], writeInto: new Map(), returns: spec.result, prefix: 'p' });
  const result = graph.node(spec.result);
  return {
    bindings: element.bindings,
    code(firstBinding) {
      const { decls, helpers } = element.code(firstBinding);
      // The template calls it with the input's flat index j; the element code names it i.
      return [...decls, ...helpers, '', `fn kiln_prologue(i: u32) -> ${valueType(result.dtype)} {`, ...element.body.map((line) => `  ${line}`), '}'];
    },
  };
}

/**
 * The epilogue of a weight-gradient matmul fused with its bias gradient: flat indices
 * below m·n are the product's elements, the n after them the column sums.
 */
function columnSumsEpilogue(
  graph: Graph,
  group: FusionGroup,
  sums: NonNullable<FusionGroup['columnSums']>,
  matrix: ElementCode,
  writeInto: ReadonlyMap<number, number>,
): Epilogue {
  const sum = graph.node(sums.anchor);
  const columns = elementCode(graph, { nodes: sums.nodes, shape: sum.shape, anchor: sums.anchor, outputs: sums.outputs, writeInto, prefix: 's' });
  const size = sizeOf(group.shape);
  const type = storageType(graph.node(group.anchor!).dtype);
  return {
    bindings: [...matrix.bindings, ...columns.bindings],
    columnSums: true,
    code(firstBinding) {
      const first = matrix.code(firstBinding);
      const second = columns.code(firstBinding + matrix.bindings.length);
      return [
        ...first.decls,
        ...second.decls,
        ...new Set([...first.helpers, ...second.helpers]),
        '',
        `fn kiln_epilogue_matrix(i: u32, value: ${type}) {`,
        ...matrix.body.map((line) => `  ${line}`),
        '}',
        '',
        `fn kiln_epilogue_column_sums(i: u32, value: ${type}) {`,
        ...columns.body.map((line) => `  ${line}`),
        '}',
        '',
        `fn kiln_epilogue(i: u32, value: ${type}) {`,
        `  if (i < ${size}u) { kiln_epilogue_matrix(i, value); } else { kiln_epilogue_column_sums(i - ${size}u, value); }`,
        '}',
      ];
    },
  };
}

/**
 * A row kernel: one invocation per row of [rows, length]. Values of shape [rows, length]
 * live in a private array per node; values of one number per row ([rows] or [rows, 1]) in
 * a scalar; softmax and row reductions loop over the row.
 */
function rowKernel(graph: Graph, group: FusionGroup, limits: KernelLimits): KernelSpec {
  const [rows, length] = group.shape as [number, number];
  const members = new Set(group.nodes);
  const isFull = (id: number): boolean => {
    const s = graph.node(id).shape;
    return s.length === 2 && s[1] === length && length !== 1;
  };
  const bindings: number[] = [];
  const names = new Map<number, string>();
  const binding = (id: number): string => {
    if (!names.has(id)) {
      names.set(id, `${group.outputs.includes(id) ? 'out' : 'in'}${bindings.length}`);
      bindings.push(id);
    }
    return names.get(id)!;
  };
  /** Operand `id` at column `c` (a WGSL expression), or for the whole row when `c` is undefined. */
  const operand = (id: number, c?: string): string => {
    const node = graph.node(id);
    if (members.has(id)) return isFull(id) ? `v${id}[${c!}]` : `v${id}`;
    const splat = splatValue(node);
    if (splat !== undefined) return literal(splat, node.dtype);
    const [rowStride, columnStride] = broadcastStrides(node.shape, [rows, length]) as [number, number];
    const terms = [...(rowStride ? [rowStride === 1 ? 'row' : `row * ${rowStride}u`] : []), ...(columnStride && c ? [columnStride === 1 ? c : `${c} * ${columnStride}u`] : [])];
    return load(binding(id), terms.join(' + ') || '0u', node.dtype);
  };
  const loop = (body: string[]): string[] => [`for (var c = 0u; c < ${length}u; c++) {`, ...body.map((l) => `  ${l}`), '}'];
  const helpers: string[] = [];
  const body: string[] = [];
  for (const id of group.nodes) {
    const node = graph.node(id);
    const type = valueType(node.dtype);
    const lowering = getOp(node.op).lower;
    if (lowering?.kind === 'elementwise') {
      const full = isFull(id);
      const args = node.inputs.map((input) => operand(input, full ? 'c' : undefined));
      const expr = lowering.expr(args, node.attrs, { inputs: node.inputs.map((input) => graph.node(input).dtype), output: node.dtype });
      helpers.push(...(lowering.helpers ?? []), ...specialFloatHelpers(expr));
      if (full) body.push(`var v${id}: array<${type}, ${length}>;`, ...loop([`v${id}[c] = ${expr};`]));
      else body.push(`let v${id}: ${type} = ${expr};`);
    } else if (node.op === 'softmax' || node.op === 'logSoftmax') {
      const x = (c: string): string => operand(node.inputs[0]!, c);
      body.push(`var row_max${id} = ${x('0u')};`, ...loop([`row_max${id} = max(row_max${id}, ${x('c')});`]));
      body.push(`var row_sum${id} = 0.0f;`, ...loop([`row_sum${id} += exp(${x('c')} - row_max${id});`]));
      const value = node.op === 'softmax' ? `exp(${x('c')} - row_max${id}) / row_sum${id}` : `${x('c')} - row_max${id} - log(row_sum${id})`;
      body.push(`var v${id}: array<f32, ${length}>;`, ...loop([`v${id}[c] = ${value};`]));
    } else {
      // A reduction along the row (sum, mean, max, min, logsumexp).
      const x = (c: string): string => operand(node.inputs[0]!, c);
      const acc = `acc${id}`;
      if (node.op === 'sum' || node.op === 'mean') {
        body.push(`var ${acc} = ${literal(0, node.dtype)};`, ...loop([`${acc} += ${x('c')};`]));
        body.push(`let v${id}: ${type} = ${node.op === 'mean' ? `${acc} / ${literal(length, 'f32')}` : acc};`);
      } else if (node.op === 'max' || node.op === 'min') {
        body.push(`var ${acc} = ${x('0u')};`, ...loop([`${acc} = ${node.op}(${acc}, ${x('c')});`]), `let v${id}: ${type} = ${acc};`);
      } else {
        body.push(`var ${acc}_max = ${x('0u')};`, ...loop([`${acc}_max = max(${acc}_max, ${x('c')});`]));
        // A max of ±∞ is the answer itself (a row of −∞ would otherwise give −∞ − −∞ = NaN).
        body.push(`var ${acc} = 0.0f;`, ...loop([`${acc} += exp(${x('c')} - ${acc}_max);`]));
        body.push(`let v${id}: f32 = select(${acc}_max + log(${acc}), ${acc}_max, kiln_is_inf(${acc}_max));`);
        helpers.push(IS_INF_HELPER);
      }
    }
  }
  for (const id of group.outputs) {
    const node = graph.node(id);
    const name = binding(id);
    body.push(...(isFull(id) ? loop([`${name}[row * ${length}u + c] = ${store(`v${id}[c]`, node.dtype)};`]) : [`${name}[row] = ${store(`v${id}`, node.dtype)};`]));
  }
  const name = `k${group.nodes[0]}_rows`;
  const kernel = perElementKernel({
    name,
    header: header(graph, group),
    limits,
    decls: bindings.map((id, k) => bindingDecl(k, names.get(id)!, graph.node(id).dtype, group.outputs.includes(id) ? 'read_write' : 'read')),
    invocations: rows,
    body: ['let row = i;', ...body],
    helpers: calledHelpers(body.join('\n'), [...new Set(helpers)]),
  });
  return { name, ...kernel, bindings };
}
