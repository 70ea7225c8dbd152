/**
 * `compile`: graph (or training program) → plan. It picks what each entry point needs,
 * lowers every needed node to kernels, gives every value a buffer (aliases share their
 * input's), adds an `init` entry that fills params and state on the GPU, and checks
 * every kernel against the device's limits. The plan is plain JSON (see plan-format.ts).
 */

import { deviceBytes } from './dtype.js';
import { DeviceLimitError, GraphError } from './errors.js';
import { Graph, ancestorsOf, roleOf } from './graph.js';
import type { Node } from './graph.js';
import type { InitSpec } from './init.js';
import { resolveInit } from './init.js';
import { initKernel } from './codegen/init.js';
import { isAlias } from './codegen/lower.js';
import { lowerGroup } from './codegen/fused.js';
import type { FusionGroup } from './passes/fuse.js';
import { fuseNodes } from './passes/fuse.js';
import type { EntrySource } from './passes/program.js';
import { programOf } from './passes/program.js';
import type { GraphProgram } from './passes/program.js';
import { specializeModes } from './passes/specialize-modes.js';
import { simplify } from './passes/simplify.js';
import type { KernelLimits } from './codegen/wgsl.js';
import type { TuningTable } from './codegen/tuning.js';
import { kernelLimits } from './codegen/wgsl.js';
import type { KernelSpec } from './ops/op.js';
import type { BufferRole, KernelKind, Plan, PlanBuffer, PlanEntry, PlanKernel } from './plan-format.js';
import { PLAN_FORMAT, PLAN_VERSION, toPlanNumber } from './plan-format.js';
import { formatType, sameShape, sizeOf } from './shape.js';
import type { TrainingProgram } from './train.js';
import { verify } from './verify.js';
import { planMemory } from './memory.js';

export interface CompileOptions {
  /** Fuse kernels (default true). `false` gives one kernel per op: the reference for fused results. */
  fuse?: boolean;
  /** Run the simplification passes first (default true). */
  simplify?: boolean;
  /** Plan memory: transient buffers share allocations, leftover updates go in place (default true). */
  memory?: boolean;
  /**
   * The device's limits (`device.limits`), so kernels use what the hardware offers and are
   * checked against it. Default: WebGPU's guaranteed minimums (runs everywhere).
   */
  limits?: Partial<KernelLimits>;
  /**
   * The kernel variants measured fastest on the target adapter (`autotune(device)`, or a
   * table saved from it). Default: every kernel's default variant.
   */
  tuning?: TuningTable;
}


/**
 * The program `compile` lowers: each entry specialized to its mode (training or
 * inference), then simplified unless `options.simplify` is false. Pure, so re-running it
 * gives the graph whose node ids a plan's kernels name.
 */
export function programToLower(source: Graph | TrainingProgram, options: CompileOptions = {}): GraphProgram {
  const program = specializeModes(programOf(source));
  return options.simplify === false ? program : simplify(program);
}

/** Compiles a graph (entries `init` and `forward`) or a training program (`init`, `forward`, `trainStep`). */
export function compile(source: Graph | TrainingProgram, options: CompileOptions = {}): Plan {
  const limits = kernelLimits(options.limits);
  // The user's graph is verified as written, so its errors name the user's nodes.
  verify(source instanceof Graph ? source : source.graph);
  const program = programToLower(source, options);
  const { graph, entries: sources } = program;

  // Buffers: one per value that a kernel binds or an entry reads or writes; aliases resolve to their root.
  const rootOf = (id: number): number => {
    let node = graph.node(id);
    while (roleOf(node) === 'computed' && isAlias(node)) node = graph.node(node.inputs[0]!);
    return node.id;
  };
  const buffers: PlanBuffer[] = [];
  const bufferOfRoot = new Map<number, number>();
  const bufferOf = (id: number): number => {
    const root = rootOf(id);
    const existing = bufferOfRoot.get(root);
    if (existing !== undefined) return existing;
    const node = graph.node(root);
    const buffer = makeBuffer(node, buffers.length, limits);
    buffers.push(buffer);
    bufferOfRoot.set(root, buffer.id);
    return buffer.id;
  };

  const kernels: PlanKernel[] = [];
  // Entries fused apart often make the same kernel (a forward layer): it is kept once.
  const kernelIndex = new Map<string, number>();
  const addKernel = (spec: KernelSpec, nodes: readonly Node[], origin: { kind: KernelKind; reason: string }): number => {
    const key = `${spec.wgsl}\n${spec.bindings.map(bufferOf).join(',')}`;
    const existing = kernelIndex.get(key);
    if (existing !== undefined) return existing;
    if (spec.bindings.length > limits.maxStorageBuffersPerShaderStage) {
      throw new DeviceLimitError(
        `compile: kernel ${spec.name} (${nodes.map((n) => `${n.op} %${n.id}`).join(', ')}) binds ${spec.bindings.length} storage buffers, ` +
          `over this device's maxStorageBuffersPerShaderStage of ${limits.maxStorageBuffersPerShaderStage}.`,
      );
    }
    kernels.push({
      name: spec.name,
      wgsl: spec.wgsl,
      bindings: spec.bindings.map(bufferOf),
      workgroups: [...spec.workgroups],
      nodes: nodes.map((n) => n.id),
      ops: nodes.map((n) => n.op),
      kind: origin.kind,
      reason: origin.reason,
      ...(spec.elementwise ? { elementwise: true } : {}),
    });
    kernelIndex.set(key, kernels.length - 1);
    return kernels.length - 1;
  };

  const entries: Record<string, PlanEntry> = {};
  entries['init'] = initEntry(graph, limits, addKernel, bufferOf);
  for (const [name, entry] of Object.entries(sources)) {
    const targets = [...Object.values(entry.outputs), ...entry.assignments.map(([, value]) => value)];
    const needed = ancestorsOf(graph, targets);
    const inputs: Record<string, number> = {};
    for (const node of graph.nodes) {
      if (needed.has(node.id) && roleOf(node) === 'input') inputs[node.name!] = bufferOf(node.id);
    }
    // Each entry is fused on its own: a forward pass never runs (or writes) training work.
    const externallyRead = new Set(targets.map(rootOf));
    const groups =
      options.fuse === false
        ? unfusedGroups(graph, needed)
        : fuseNodes(
            graph,
            needed,
            externallyRead,
            limits.maxStorageBuffersPerShaderStage,
            new Map(entry.assignments.map(([target, value]) => [value, target])),
          );
    const inPlace = options.fuse === false ? new Map<number, number>() : updatesInPlace(graph, groups, entry, needed, rootOf);
    const dispatches: number[] = [];
    for (const group of groups) {
      // A group whose outputs hold no element has nothing to compute (and no index space to emit).
      if (group.outputs.every((id) => sizeOf(graph.node(id).shape) === 0)) continue;
      const writeInto = new Map(group.outputs.flatMap((id) => (inPlace.has(id) ? [[id, inPlace.get(id)!] as const] : [])));
      const members = group.nodes.map((id) => graph.node(id));
      for (const spec of lowerGroup(graph, group, limits, writeInto, options.tuning)) {
        const k = addKernel(spec, members, { kind: kernelKind(group), reason: group.reason });
        if (kernels[k]!.workgroups.every((n) => n > 0)) dispatches.push(k);
      }
    }
    const outputs = Object.fromEntries(Object.entries(entry.outputs).map(([out, id]) => [out, bufferOf(id)]));
    const outputShapes = Object.fromEntries(
      Object.entries(entry.outputs)
        .filter(([out, id]) => !sameShape(graph.node(id).shape, buffers[outputs[out]!]!.shape))
        .map(([out, id]) => [out, [...graph.node(id).shape]]),
    );
    const copies = entry.assignments
      .filter(([, value]) => !inPlace.has(value))
      .map(([target, value]) => ({ from: bufferOf(value), to: bufferOf(target) }))
      .filter((copy) => copy.from !== copy.to);
    const written = new Set(copies.map((c) => c.to));
    const clash = copies.find((c) => written.has(c.from));
    if (clash) {
      throw new GraphError(
        `compile: entry '${name}' assigns ${buffers[clash.to]!.name} from ${buffers[clash.from]!.name}, which it also assigns; updates must be computed values.`,
      );
    }
    entries[name] = { inputs, outputs, ...(Object.keys(outputShapes).length > 0 ? { outputShapes } : {}), dispatches, copies };
  }
  const plan: Plan = { format: PLAN_FORMAT, version: PLAN_VERSION, name: graph.name, buffers, kernels, entries };
  return options.memory === false ? plan : planMemory(plan);
}

function makeBuffer(node: Node, id: number, limits: KernelLimits): PlanBuffer {
  const role = roleOf(node);
  const bufferRole: BufferRole = role === 'computed' ? 'transient' : role;
  const bytes = Math.max(4, sizeOf(node.shape) * deviceBytes(node.dtype));
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (bytes > limit) {
    throw new DeviceLimitError(
      `compile: ${node.name ?? `%${node.id}`} (${node.op}, ${formatType(node)}) needs ${bytes} bytes, over this device's ` +
        `storage-buffer binding limit of ${limit} bytes. Use a smaller batch or layer, or a device with larger limits.`,
    );
  }
  return {
    id,
    name: node.name ?? `%${node.id}`,
    role: bufferRole,
    dtype: node.dtype,
    shape: [...node.shape],
    bytes,
    ...(node.op === 'const' ? { data: (node.attrs['value'] as readonly number[]).map(toPlanNumber) } : {}),
  };
}

function initEntry(
  graph: Graph,
  limits: KernelLimits,
  addKernel: (spec: KernelSpec, nodes: readonly Node[], origin: { kind: KernelKind; reason: string }) => number,
  bufferOf: (id: number) => number,
): PlanEntry {
  const dispatches: number[] = [];
  const persistent = [...graph.nodesOfRole('param'), ...graph.nodesOfRole('state')];
  for (const node of persistent) bufferOf(node.id);
  const filled = persistent.filter((node) => sizeOf(node.shape) > 0);
  // As many buffers per kernel as the device binds: fewer pipelines to create before a first step.
  const perKernel = limits.maxStorageBuffersPerShaderStage;
  for (let start = 0; start < filled.length; start += perKernel) {
    const nodes = filled.slice(start, start + perKernel);
    const targets = nodes.map((node) => ({ node: { ...node, name: node.name! }, init: resolveInit(node.name!, node.shape, node.attrs['init'] as InitSpec, graph.seed) }));
    const what = nodes.map((node) => `${roleOf(node)} ${node.name!} (${(node.attrs['init'] as InitSpec).kind})`).join(', ');
    dispatches.push(addKernel(initKernel(targets, limits), nodes, { kind: 'init', reason: `fills ${what} with their initializers` }));
  }
  return { inputs: {}, outputs: {}, dispatches, copies: [] };
}

/** The rule that formed a group, as its kernels report it: fuse.ts's kind, with input and sibling fusion named. */
function kernelKind(group: FusionGroup): KernelKind {
  if (group.prologue) return 'input';
  if (group.columnSums) return 'sibling';
  return group.nodes.length === 1 ? 'single' : group.kind;
}

/** One group per node: the unfused plan. */
function unfusedGroups(graph: Graph, needed: ReadonlySet<number>): FusionGroup[] {
  return graph.nodes
    .filter((n) => needed.has(n.id) && roleOf(n) === 'computed' && !isAlias(n))
    .map((n) => ({ kind: 'single', nodes: [n.id], outputs: [n.id], shape: n.shape, reason: `${n.op}: unfused` }));
}

/**
 * Which update values a fused kernel may write straight into their param/state (value id
 * → target id), saving a buffer and a copy: the value must have no other reader; every
 * other kernel reading the target must run earlier; inside the group the target may be
 * read only elementwise (never by the anchor, whose invocations read other elements).
 */
function updatesInPlace(
  graph: Graph,
  groups: readonly FusionGroup[],
  entry: EntrySource,
  needed: ReadonlySet<number>,
  rootOf: (id: number) => number,
): Map<number, number> {
  const inPlace = new Map<number, number>();
  const readers = (target: number): number[] =>
    groups.flatMap((g, position) =>
      [...g.nodes, ...(g.prologue?.nodes ?? [])].some((id) => graph.node(id).inputs.some((input) => rootOf(input) === target)) ? [position] : [],
    );
  const outputIds = new Set(Object.values(entry.outputs).map(rootOf));
  for (const [target, value] of entry.assignments) {
    const position = groups.findIndex((g) => g.outputs.includes(value));
    const group = groups[position];
    if (!group || group.kind === 'single' || outputIds.has(value) || [...inPlace.values()].includes(target)) continue;
    const consumers = graph.nodes.filter((n) => needed.has(n.id) && n.inputs.includes(value));
    if (consumers.some((n) => !group.nodes.includes(n.id))) continue;
    if (readers(target).some((p) => p > position)) continue;
    const anchorReads = [...(group.anchor === undefined ? [] : [group.anchor]), ...(group.prologue?.nodes ?? [])];
    if (anchorReads.some((id) => graph.node(id).inputs.some((input) => rootOf(input) === target))) continue;
    // Reads through an alias (a reshape of the target) would see other elements.
    const aliasRead = group.nodes.some((id) => graph.node(id).inputs.some((input) => input !== target && rootOf(input) === target));
    const partShape = group.columnSums?.nodes.includes(value) ? graph.node(group.columnSums.anchor).shape : group.shape;
    if (aliasRead || !sameShape(graph.node(target).shape, partShape)) continue;
    inPlace.set(value, target);
  }
  return inPlace;
}
