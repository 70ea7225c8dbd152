/**
 * Code generation for fusion groups: a loop group (or one elementwise op) becomes one
 * elementwise kernel that computes every member per element; an epilogue group gives its
 * anchor's template a `kiln_epilogue(i, value)` function running the members on each
 * stored element; a row group a row kernel; any other op alone is its own lowering.
 * Outputs fusion writes in place over a param or state (an optimizer update) read and
 * write one read_write binding. Every decision is the group's: the emitter only checks
 * that its kernels bind the storage buffers fusion counted.
 */

import type { Graph, Node } from '../graph.js';
import type { Lowering } from '../ops/op.js';
import type { BindingAccess, Epilogue, KernelBinding, KernelSpec, Prologue } from './kernel.js';
import { getOp, rowRuleOf } from '../ops/op.js';
import { GraphError } from '../errors.js';
import type { FusionGroup } from '../passes/fusion/group.js';
import { broadcastStrides, formatType, sameShape, sizeOf, staticDim } from '../shape.js';
import type { Shape } from '../shape.js';
import { isAlias, recomputedWhereRead, splatValue } from '../node-values.js';
import type { KernelLimits } from './wgsl.js';
import type { TuningTable } from './tuning.js';
import { finalizeWgsl, foldPasses, reducerHelpers } from './reducer.js';
import {
  KernelBindings,
  WORKGROUP_SIZE,
  calledHelpers,
  perElementKernel,
  grid,
  literal,
  load,
  offsetExpr,
  sanitize,
  specialFloatHelpers,
  storageType,
  store,
  unravel,
  valueType,
  wgslSize,
  workgroupKernelSource,
} from './wgsl.js';

/** The WGSL of a fused element computation: bindings, helpers, and statements using `i` (and `value`). */
interface ElementCode {
  readonly bindings: readonly KernelBinding[];
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

/**
 * The WGSL expression of a value elementwise code recomputes where it reads it
 * (`recomputedWhereRead`): a splat's literal, or its ops' expressions over those of its
 * inputs (views seen through); else undefined.
 */
function recomputedValue(graph: Graph, node: Node, helpers: string[]): string | undefined {
  if (!recomputedWhereRead(graph, node)) return undefined;
  const splat = splatValue(node);
  if (splat !== undefined) return literal(splat, node.dtype);
  if (isAlias(node)) return recomputedValue(graph, graph.node(node.inputs[0]!), helpers);
  const lowering = getOp(node.op).lower as Extract<Lowering, { kind: 'elementwise' }>;
  const inputs = node.inputs.map((id) => graph.node(id));
  const expr = lowering.expr(
    inputs.map((input) => recomputedValue(graph, input, helpers)!),
    node.attrs,
    { inputs: inputs.map((input) => input.dtype), output: node.dtype },
  );
  helpers.push(...(lowering.helpers ?? []), ...specialFloatHelpers(expr));
  return `(${expr})`;
}

function elementCode(graph: Graph, spec: ElementSpec): ElementCode {
  const { writeInto, shape } = spec;
  const members = new Set(spec.nodes);
  const group = { nodes: spec.nodes, anchor: spec.anchor, outputs: spec.outputs };
  const bound: number[] = [];
  const access = new Map<number, BindingAccess>();
  const nameOf = new Map<number, string>();
  let inputCount = 0;
  let outputCount = 0;
  // Inputs in0, in1, …; outputs out, out1, out2, … (a single-op kernel reads `out[i] = …`).
  const nextName = (mode: BindingAccess): string =>
    mode === 'read' ? `in${inputCount++}` : outputCount++ === 0 ? 'out' : `out${outputCount - 1}`;
  const bind = (id: number, mode: BindingAccess): string => {
    if (!nameOf.has(id)) {
      nameOf.set(id, `${spec.prefix}${nextName(mode)}`);
      bound.push(id);
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

  // Locals are named by position (v0, v1, … in computing order), never by node id, so a
  // repeated layer's kernels are the same code up to their header and share one pipeline.
  const local = new Map(spec.nodes.map((id, k) => [id, `v${k}`] as const));
  let needsCoords = false;
  const coords = shape.map((_, axis) => `c${axis}`);
  const read = (input: Node): string => {
    if (members.has(input.id)) return local.get(input.id)!;
    const recomputed = recomputedValue(graph, input, helpers);
    if (recomputed !== undefined) return recomputed;
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
      statements.push(`let ${local.get(id)!} = value;`);
      continue;
    }
    const lowering = getOp(node.op).lower as Extract<Lowering, { kind: 'elementwise' }>;
    const args = node.inputs.map((input) => read(graph.node(input)));
    const expr = lowering.expr(args, node.attrs, { inputs: node.inputs.map((input) => graph.node(input).dtype), output: node.dtype });
    helpers.push(...(lowering.helpers ?? []), ...specialFloatHelpers(expr));
    statements.push(`let ${local.get(id)!}: ${valueType(node.dtype)} = ${expr};`);
  }
  for (const id of group.outputs) {
    const node = graph.node(id);
    const target = writeInto.get(id);
    const name = bind(target ?? id, 'read_write');
    statements.push(`${name}[i] = ${store(local.get(id)!, node.dtype)};`);
  }
  if (spec.returns !== undefined) statements.push(`return ${local.get(spec.returns)!};`);
  const body = [...(needsCoords && shape.length > 0 ? [unravel('i', shape, 'c')] : []), ...statements];
  // Declared and recorded by one KernelBindings, so the records match any first binding's declarations.
  const declare = (firstBinding: number): { decls: string[]; bindings: readonly KernelBinding[] } => {
    const declared = new KernelBindings(firstBinding);
    const decls = bound.map((id) => declared.storage(id, nameOf.get(id)!, graph.node(id).dtype, access.get(id)!));
    return { decls, bindings: declared.list };
  };
  return {
    bindings: declare(0).bindings,
    broadcasts: needsCoords,
    body,
    code(firstBinding) {
      return { decls: declare(firstBinding).decls, helpers: calledHelpers(statements.join('\n'), [...new Set(helpers)]) };
    },
  };
}

/** Lines of the kernel header comment describing one node (names sanitized). */
export function describeNode(graph: Graph, node: Node): string {
  const args = node.inputs.map((id) => {
    const input = graph.node(id);
    return `${input.name === undefined ? `%${id}` : sanitize(input.name)}:${formatType(input)}`;
  });
  return `%${node.id}:${formatType(node)} = ${node.op} ${args.join(' ')}`;
}

function header(graph: Graph, group: FusionGroup): string[] {
  const prologue = group.prologue?.nodes.map((id) => `prologue ${describeNode(graph, graph.node(id))}`) ?? [];
  return [group.reason, ...prologue, ...group.nodes.map((id) => describeNode(graph, graph.node(id)))];
}

/**
 * The kernels of a fused group: a row kernel, a loop kernel (also for an elementwise op
 * alone), or an anchor's template with a fused epilogue and prologue. codegen/lower.ts's
 * `lowerGroup` sends any other op alone to its own template. Outputs the group writes in
 * place (`group.inPlace`) read and write their param's or state's binding.
 */
export function lowerFusedGroup(graph: Graph, group: FusionGroup, limits: KernelLimits, tuning: TuningTable | undefined, dims: readonly string[]): readonly KernelSpec[] {
  if (group.kind === 'row') return [rowKernel(graph, group, limits, dims)];
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
    const source = workgroupKernelSource({
      name: kernelName,
      header: header(graph, group),
      decls: [...decls, ...helpers],
      workgroupSize: WORKGROUP_SIZE,
      body: [...g.prologue.split('\n').map((line) => line.trim()), ...element.body],
      dims,
    });
    return [{ name: kernelName, ...source, workgroups: g.workgroups, ...(g.foldX ? { foldX: true } : {}), bindings: element.bindings, elementwise: !element.broadcasts }];
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
    dims,
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
        `  if (i < ${wgslSize(size)}) { kiln_epilogue_matrix(i, value); } else { kiln_epilogue_column_sums(i - ${wgslSize(size)}, value); }`,
        '}',
      ];
    },
  };
}

/**
 * A row kernel: one invocation per row of [rows, length]. Values of shape [rows, length]
 * live in a private array per node; values of one number per row ([rows] or [rows, 1]) in
 * a scalar; ops with a row rule (softmax, reductions along the row) fold the row with
 * their reducer.
 */
function rowKernel(graph: Graph, group: FusionGroup, limits: KernelLimits, dims: readonly string[]): KernelSpec {
  // Rows may be symbolic (read from the size block); a row is held in private arrays, so its length is static (fusion forms no other).
  const [rows, rowLength] = group.shape;
  const length = staticDim(`row kernel k${group.nodes[0]}_rows`, rowLength!, 'a row kernel holds its rows in private arrays of static length');
  const members = new Set(group.nodes);
  // Named by position in the row kernel (v0, acc1, …), never by node id: see elementCode.
  const position = new Map(group.nodes.map((id, k) => [id, k] as const));
  const local = (id: number): string => `v${position.get(id)!}`;
  const isFull = (id: number): boolean => {
    const s = graph.node(id).shape;
    return s.length === 2 && s[1] === length && length !== 1;
  };
  const bound: number[] = [];
  const names = new Map<number, string>();
  const binding = (id: number): string => {
    if (!names.has(id)) {
      names.set(id, `${group.outputs.includes(id) ? 'out' : 'in'}${bound.length}`);
      bound.push(id);
    }
    return names.get(id)!;
  };
  /** Operand `id` at column `c` (a WGSL expression), or for the whole row when `c` is undefined. */
  const operand = (id: number, c?: string): string => {
    const node = graph.node(id);
    if (members.has(id)) return isFull(id) ? `${local(id)}[${c!}]` : local(id);
    const recomputed = recomputedValue(graph, node, helpers);
    if (recomputed !== undefined) return recomputed;
    const [rowStride, columnStride] = broadcastStrides(node.shape, [rows!, length]);
    const terms = [...(rowStride !== 0 ? [rowStride === 1 ? 'row' : `row * ${wgslSize(rowStride!)}`] : []), ...(columnStride !== 0 && c ? [columnStride === 1 ? c : `${c} * ${wgslSize(columnStride!)}`] : [])];
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
      if (full) body.push(`var ${local(id)}: array<${type}, ${length}>;`, ...loop([`${local(id)}[c] = ${expr};`]));
      else body.push(`let ${local(id)}: ${type} = ${expr};`);
    } else {
      const rule = rowRuleOf(node);
      if (!rule) throw new GraphError(`row kernel ${group.nodes[0]}: ${describeNode(graph, node)} has no row rule, so fusion should not have put it in a row group`);
      const x = (c: string): string => operand(node.inputs[0]!, c);
      const rowLoop = (visit: (v: string) => string[]): string[] => loop(visit(x('c')));
      const dtype = graph.node(node.inputs[0]!).dtype;
      if (rule.kind === 'normalize') {
        // softmax, logSoftmax: the row's fold, then every element from it.
        const fold = { total: `row_sum${position.get(id)!}`, shift: `row_max${position.get(id)!}` };
        body.push(...foldPasses(rule.reducer, { acc: fold.total, shift: fold.shift }, x('0u'), dtype, rowLoop));
        body.push(`var ${local(id)}: array<f32, ${length}>;`, ...loop([`${local(id)}[c] = ${rule.element.wgsl(x('c'), fold)};`]));
        helpers.push(...reducerHelpers(rule.reducer, dtype, false), ...rule.element.helpers);
      } else {
        // A reduction along the row (sum, mean, max, min, logsumexp).
        const names = { acc: `acc${position.get(id)!}`, shift: `acc${position.get(id)!}_max` };
        body.push(...foldPasses(rule.reducer, names, x('0u'), dtype, rowLoop));
        body.push(`let ${local(id)}: ${type} = ${finalizeWgsl(rule.reducer, names.acc, { count: length, shift: names.shift })};`);
        helpers.push(...reducerHelpers(rule.reducer, dtype));
      }
    }
  }
  for (const id of group.outputs) {
    const node = graph.node(id);
    const name = binding(id);
    body.push(...(isFull(id) ? loop([`${name}[row * ${length}u + c] = ${store(`${local(id)}[c]`, node.dtype)};`]) : [`${name}[row] = ${store(local(id), node.dtype)};`]));
  }
  const name = `k${group.nodes[0]}_rows`;
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name,
    header: header(graph, group),
    limits,
    decls: bound.map((id) => bindings.storage(id, names.get(id)!, graph.node(id).dtype, group.outputs.includes(id) ? 'read_write' : 'read')),
    invocations: rows!,
    body: ['let row = i;', ...body],
    helpers: calledHelpers(body.join('\n'), [...new Set(helpers)]),
    dims,
  });
  return { name, ...kernel, bindings: bindings.list };
}
