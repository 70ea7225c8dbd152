/**
 * The fusion and kernel stages of `compile` (plan.ts): each entry's nodes partitioned into
 * kernels, then every kernel lowered to WGSL with its buffers, an `init` entry that fills
 * params and state on the GPU, and every kernel checked against the device's limits. The
 * result is a plan (plain JSON, see plan-format.ts) whose memory is not yet planned.
 */

import { deviceBytes } from './dtype.js';
import { DeviceLimitError, GraphError } from './errors.js';
import { ancestorsOf, graphDims, roleOf } from './graph.js';
import type { Graph, Node } from './graph.js';
import type { InitSpec } from './init.js';
import { resolveInit } from './init.js';
import { initKernel } from '../shaders/init.js';
import { lowerGroup } from './codegen/lower.js';
import { aliasRoot } from './node-values.js';
import type { FusionGroup } from './passes/fusion/group.js';
import { fuseEntry } from './passes/fusion/index.js';
import type { GraphProgram } from './passes/program.js';
import type { KernelLimits } from './codegen/wgsl.js';
import type { TuningTable } from './codegen/tuning.js';
import { kernelLimitProblems, limitFix } from './kernel-fit.js';
import type { KernelSpec } from './codegen/kernel.js';
import type { WorkgroupCount } from './codegen/wgsl.js';
import type { BufferRole, KernelKind, Plan, PlanBuffer, PlanEntry, PlanKernel, PlanWorkgroupCount } from './plan-format.js';
import { PLAN_FORMAT, PLAN_VERSION, toPlanNumber } from './plan-format.js';
import { formatType, sameShape, sizeOf } from './shape.js';
import { dimMul, dimToJson, isSymbolic } from './dims.js';
import { withValueRanges } from './feed-ranges.js';

/**
 * The fusion stage: each entry fused on its own (a forward pass never runs or writes
 * training work). Every kernel decision — membership, kind, in-place writes, the binding
 * count and splits to fit the device — is made here, in passes/fusion/.
 */
export function fuseProgram(program: GraphProgram, options: { fuse: boolean; limits: KernelLimits }): Record<string, readonly FusionGroup[]> {
  const { graph } = program;
  return Object.fromEntries(
    Object.entries(program.entries).map(([name, entry]): [string, readonly FusionGroup[]] => {
      const targets = [...Object.values(entry.outputs), ...entry.assignments.map(([, value]) => value)];
      const needed = ancestorsOf(graph, targets);
      return [name, fuseEntry(graph, { needed, outputs: Object.values(entry.outputs), assignments: entry.assignments }, options)];
    }),
  );
}

/**
 * The kernel stage: every fusion group lowered to WGSL, every value given a buffer
 * (aliases share their root's), the `init` entry that fills params and state, and each
 * entry's dispatches, outputs and update copies. Memory is not planned yet.
 */
export function lowerProgram(
  program: GraphProgram,
  fusion: Readonly<Record<string, readonly FusionGroup[]>>,
  options: { limits: KernelLimits; tuning: TuningTable | undefined; userGraph: Graph },
): Plan {
  const { limits } = options;
  const { graph, entries: sources } = program;
  // The size block's dims: every kernel of the plan declares the same one.
  const dims = graphDims(graph);
  const rootOf = (id: number): number => aliasRoot(graph, id);
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
    const bindings = spec.bindings.map(({ node, access }) => ({ buffer: bufferOf(node), access }));
    const key = `${spec.wgsl}\n${bindings.map((b) => b.buffer).join(',')}`;
    const existing = kernelIndex.get(key);
    if (existing !== undefined) return existing;
    const [problem] = kernelLimitProblems(spec, limits);
    if (problem) {
      throw new DeviceLimitError(`compile: kernel ${spec.name} (${describeNodes(nodes)}) ${problem.problem}. Fix: ${limitFix(problem)}.`);
    }
    kernels.push({
      name: spec.name,
      wgsl: spec.wgsl,
      bindings,
      workgroups: [planWorkgroupCount(spec.workgroups[0]), planWorkgroupCount(spec.workgroups[1]), planWorkgroupCount(spec.workgroups[2])],
      ...(spec.foldX ? { foldX: true } : {}),
      ...(spec.readsDims ? { readsDims: true } : {}),
      workgroupSize: [...spec.workgroupSize],
      workgroupStorageBytes: spec.workgroupStorageBytes,
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
    const groups = fusion[name]!;
    const writtenInPlace = new Set(groups.flatMap((group) => group.inPlace.map((write) => write.value)));
    const dispatches: number[] = [];
    for (const group of groups) {
      // A group whose outputs hold no element has nothing to compute (and no index space to emit).
      if (group.outputs.every((id) => sizeOf(graph.node(id).shape) === 0)) continue;
      const nodes = group.nodes.map((id) => graph.node(id));
      for (const spec of lowerWithinLimits(() => lowerGroup(graph, group, limits, options.tuning, dims), nodes)) {
        const k = addKernel(spec, nodes, group);
        // A count computed per run is at least 1 (a symbolic dim is never 0).
        if (kernels[k]!.workgroups.every((n) => typeof n !== 'number' || n > 0)) dispatches.push(k);
      }
    }
    const outputs = Object.fromEntries(Object.entries(entry.outputs).map(([out, id]) => [out, bufferOf(id)]));
    const outputShapes = Object.fromEntries(
      Object.entries(entry.outputs)
        .filter(([, id]) => !sameShape(graph.node(id).shape, graph.node(rootOf(id)).shape))
        .map(([out, id]) => [out, graph.node(id).shape.map(dimToJson)]),
    );
    const copies = entry.assignments
      .filter(([, value]) => !writtenInPlace.has(value))
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
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    name: graph.name,
    buffers: withValueRanges(options.userGraph, buffers),
    kernels,
    entries,
    limits: { ...limits },
    ...(dims.length > 0 ? { dims } : {}),
  };
}

/** A kernel's workgroup count as the plan stores it (a symbolic size printed). */
function planWorkgroupCount(count: WorkgroupCount): PlanWorkgroupCount {
  return typeof count === 'number' ? count : { size: String(count.size), per: count.per };
}

function makeBuffer(node: Node, id: number, limits: KernelLimits): PlanBuffer {
  const role = roleOf(node);
  const bufferRole: BufferRole = role === 'computed' ? 'transient' : role;
  const size = sizeOf(node.shape);
  // A symbolic size's bytes are evaluated per run (the runtime rounds up to 4 and checks the limit then).
  const bytes = isSymbolic(size) ? dimMul(size, deviceBytes(node.dtype)) : Math.max(4, size * deviceBytes(node.dtype));
  // A kernel binds each tensor whole, so a tensor must fit one binding (and one buffer).
  const limit = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  if (typeof bytes === 'number' && bytes > limits[limit]) {
    throw new DeviceLimitError(
      `compile: tensor ${node.name ?? `%${node.id}`} (${node.op} %${node.id}, ${formatType(node)}) needs ${bytes} bytes, over this device's ` +
        `storage-buffer binding limit of ${limits[limit]} bytes (${limit}). Fix: use a smaller batch or layer, or compile for the ` +
        `device's own limits (compile(graph, {limits: device.limits})) if it allows more.`,
    );
  }
  return {
    id,
    name: node.name ?? `%${node.id}`,
    role: bufferRole,
    dtype: node.dtype,
    shape: node.shape.map(dimToJson),
    bytes: dimToJson(bytes),
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
  const filled = persistent.filter((node) => sizeOf(node.shape) !== 0);
  // As many buffers per kernel as the device binds: fewer pipelines to create before a first step.
  const perKernel = limits.maxStorageBuffersPerShaderStage;
  for (let start = 0; start < filled.length; start += perKernel) {
    const nodes = filled.slice(start, start + perKernel);
    const targets = nodes.map((node) => ({ node: { ...node, name: node.name! }, init: resolveInit(node.name!, node.shape, node.attrs['init'] as InitSpec, graph.seed) }));
    const what = nodes.map((node) => `${roleOf(node)} ${node.name!} (${(node.attrs['init'] as InitSpec).kind})`).join(', ');
    dispatches.push(addKernel(lowerWithinLimits(() => [initKernel(targets, limits)], nodes)[0]!, nodes, { kind: 'init', reason: `fills ${what} with their initializers` }));
  }
  return { inputs: {}, outputs: {}, dispatches, copies: [] };
}

/** `matmul %5, add %6`: the graph nodes a kernel implements, for error messages. */
function describeNodes(nodes: readonly Node[]): string {
  return nodes.map((n) => `${n.op} %${n.id}`).join(', ');
}

/** Lowers a group; a template's DeviceLimitError gains the graph nodes it was lowering. */
function lowerWithinLimits(lower: () => readonly KernelSpec[], nodes: readonly Node[]): readonly KernelSpec[] {
  try {
    return lower();
  } catch (error) {
    if (error instanceof DeviceLimitError) throw new DeviceLimitError(`compile: kernel for ${describeNodes(nodes)}: ${error.message}`);
    throw error;
  }
}
