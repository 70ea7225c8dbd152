/**
 * The sizes of one run of a plan with symbolic dims: which dims a run binds (from its feeds'
 * shapes, a flat array's length, or `RunOptions.dims`), and what they make of the plan's
 * sizes (buffer shapes and bytes, workgroup counts). Every check here runs before anything
 * reaches the GPU, so a bad size rejects the call and leaves the session usable.
 */

import { ArgumentError, DeviceLimitError, FeedError } from '../compiler/errors.js';
import type { Plan, PlanBuffer, PlanEntry, PlanKernel, PlanSize, PlanSizeTerm } from '../compiler/plan-format.js';
import { evaluatePlanSize, parsePlanSize, planSizeNames } from '../compiler/plan-format.js';
import type { Feed, SizedBuffer } from './host-tensor.js';
import { describeBuffer, isHostTensor } from './host-tensor.js';

/** A run's size of each dim it uses, by name (`{batch: 32}`); empty for a static plan. */
export type RunDims = Readonly<Record<string, number>>;

/** `batch=32,seq=7`: a run's dims as a cache key. */
export function dimsKey(dims: RunDims): string {
  return Object.entries(dims)
    .map(([name, size]) => `${name}=${size}`)
    .join(',');
}

/** A shape at a run's dims: numbers only. */
export function shapeAt(shape: readonly PlanSize[], dims: RunDims): number[] {
  return shape.map((d) => evaluatePlanSize(d, dims));
}

/** The bytes a buffer holds in a run (WebGPU binds no empty buffer: at least 4). */
export function bytesAt(buffer: Pick<PlanBuffer, 'bytes'>, dims: RunDims): number {
  return typeof buffer.bytes === 'number' ? buffer.bytes : Math.max(4, evaluatePlanSize(buffer.bytes, dims));
}

/** The buffer as a run sees it: its shape and bytes at the run's dims (params, state and consts are static: any dims). */
export function bufferAt(buffer: PlanBuffer, dims: RunDims = {}): SizedBuffer {
  return { ...buffer, shape: shapeAt(buffer.shape, dims), bytes: bytesAt(buffer, dims) };
}

/** Every plan buffer an entry touches: bound by its kernels, fed, read back or copied. */
export function entryBuffers(plan: Plan, entry: PlanEntry): Set<number> {
  return new Set([
    ...entry.dispatches.flatMap((k) => plan.kernels[k]!.bindings.map(({ buffer }) => buffer)),
    ...Object.values(entry.inputs),
    ...Object.values(entry.outputs),
    ...[...entry.copies, ...(entry.inPlace ?? [])].flatMap(({ from, to }) => [from, to]),
  ]);
}

/** The dims a run of `entry` must bind: those its buffers' sizes, output views and workgroup counts name. */
export function entryDimNames(plan: Plan, entry: PlanEntry): string[] {
  const sizes: PlanSize[] = [...entryBuffers(plan, entry)].flatMap((id) => [...plan.buffers[id]!.shape, plan.buffers[id]!.bytes]);
  sizes.push(...Object.values(entry.outputShapes ?? {}).flat());
  for (const k of entry.dispatches) for (const count of plan.kernels[k]!.workgroups) if (typeof count !== 'number') sizes.push(count.size);
  return [...new Set(sizes.flatMap(planSizeNames))].sort();
}

/** One thing a run's feeds say about its dims: `terms` (a size in the dims) equals `value`. */
interface Constraint {
  readonly terms: readonly PlanSizeTerm[];
  readonly value: number;
  /** `input 'x' (f32[100,784] for f32[batch,784])`: where it came from, for messages. */
  readonly source: string;
}

/** The product of sizes as one polynomial's terms (a flat feed's element count). */
function productTerms(shape: readonly PlanSize[]): PlanSizeTerm[] {
  let terms: PlanSizeTerm[] = [{ coefficient: 1, names: [] }];
  for (const d of shape) {
    const factor = typeof d === 'number' ? [{ coefficient: d, names: [] }] : parsePlanSize(d);
    terms = terms.flatMap((a) => factor.map((b) => ({ coefficient: a.coefficient * b.coefficient, names: [...a.names, ...b.names] })));
  }
  return terms;
}

/**
 * The dims of one run of an entry: `given` (RunOptions.dims) first, then each symbolic
 * size of a fed tensor's shape, then a flat array's length where its size is linear in one
 * unknown dim. A FeedError names the inputs that disagree (with their shapes and sizes), a
 * dim of 0, or a dim no feed determines; a dim over its limit (`maxDims`) is refused by name.
 */
export function bindRunDims(
  what: string,
  plan: Plan,
  inputs: readonly { readonly name: string; readonly buffer: PlanBuffer }[],
  feeds: Readonly<Record<string, Feed>>,
  given: Readonly<Record<string, number>> | undefined,
  needed: readonly string[],
  maxDims: RunDims,
): RunDims {
  const dims: Record<string, number> = {};
  const from = new Map<string, string>();
  const bind = (name: string, value: number, source: string): void => {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new FeedError(`${what}: ${source} makes dim '${name}' ${value}; a symbolic dim is a whole number of at least 1. Feed at least one row.`);
    }
    dims[name] = value;
    from.set(name, source);
  };
  if (given !== undefined) {
    if (given === null || typeof given !== 'object') throw new ArgumentError(`${what}: the option dims must be an object {dimName: size}, got ${given === null ? 'null' : typeof given}.`);
    for (const [name, value] of Object.entries(given)) {
      if (!(plan.dims ?? []).includes(name)) throw new ArgumentError(`${what}: the option dims names '${name}', which is not a dim of plan '${plan.name}' (${(plan.dims ?? []).join(', ') || 'it has none'}).`);
      bind(name, value, 'RunOptions.dims');
    }
  }
  const constraints: Constraint[] = [];
  for (const { name, buffer } of inputs) {
    const feed = Object.hasOwn(feeds, name) ? feeds[name] : undefined;
    if (feed === undefined || feed === null || typeof feed !== 'object' || buffer.shape.every((d) => typeof d === 'number')) continue;
    if (isHostTensor(feed)) {
      if (!Array.isArray(feed.shape) || feed.shape.length !== buffer.shape.length) continue; // feedBytes names the mismatch.
      const source = `input '${name}' (${describeBuffer(feed)} for ${describeBuffer(buffer)})`;
      buffer.shape.forEach((d, axis) => {
        if (typeof d === 'string') constraints.push({ terms: parsePlanSize(d), value: feed.shape[axis]!, source });
      });
    } else if (typeof (feed as { length?: unknown }).length === 'number') {
      const length = (feed as ArrayLike<number>).length;
      constraints.push({ terms: productTerms(buffer.shape), value: length, source: `input '${name}' (${length} values for ${describeBuffer(buffer)})` });
    }
  }
  solve(what, constraints, dims, from, bind);
  const missing = needed.filter((name) => dims[name] === undefined);
  if (missing.length > 0) {
    const unsolved = constraints.find((c) => c.terms.some((t) => t.names.some((n) => missing.includes(n))));
    throw new FeedError(
      `${what}: cannot tell the size of dim ${missing.map((n) => `'${n}'`).join(', ')}${unsolved ? ` from ${unsolved.source}` : ' from the feeds'}. ` +
        'Feed a tensor {shape, dtype, data}, or pass the sizes as RunOptions.dims ({dims: {batch: 32}}).',
    );
  }
  for (const [name, limit] of Object.entries(maxDims)) {
    const size = dims[name];
    if (size !== undefined && size > limit) {
      throw new DeviceLimitError(`${what}: dim '${name}' is ${size} (from ${from.get(name)}), over its limit of ${limit} (maxDims). Split the run into batches of at most ${limit}, or compile/create the session with a larger maxDims.`);
    }
  }
  return Object.fromEntries(needed.map((name) => [name, dims[name]!]));
}

/** Binds what the constraints determine (one unknown, linear), then checks each against the dims: a mismatch names both sources. */
function solve(what: string, constraints: readonly Constraint[], dims: Record<string, number>, from: ReadonlyMap<string, string>, bind: (name: string, value: number, source: string) => void): void {
  const pending = new Set(constraints);
  for (let progress = true; progress; ) {
    progress = false;
    for (const c of pending) {
      let known = 0;
      let slope = 0;
      const unknown = new Set<string>();
      let linear = true;
      for (const t of c.terms) {
        const free = t.names.filter((n) => dims[n] === undefined);
        const value = t.names.reduce((v, n) => v * (dims[n] ?? 1), t.coefficient);
        free.forEach((n) => unknown.add(n));
        if (free.length === 0) known += value;
        else if (free.length === 1) slope += value;
        else linear = false;
      }
      if (unknown.size === 0) {
        pending.delete(c);
        if (known !== c.value) {
          const names = [...new Set(c.terms.flatMap((t) => t.names))];
          const others = [...new Set(names.map((n) => `${from.get(n)}: ${n} = ${dims[n]}`))].join('; ');
          throw new FeedError(`${what}: the inputs' sizes disagree: ${c.source} needs ${termsText(c.terms)} = ${c.value}, but ${others} gives ${known}. Feed every input of a run at the same size.`);
        }
      } else if (unknown.size === 1 && linear && slope !== 0) {
        const [name] = unknown;
        const value = (c.value - known) / slope;
        if (!Number.isInteger(value)) throw new FeedError(`${what}: ${c.source} is not a whole number of rows: ${termsText(c.terms)} = ${c.value} gives ${name!} = ${value}.`);
        bind(name!, value, c.source);
        pending.delete(c);
        progress = true;
      }
    }
  }
}

function termsText(terms: readonly PlanSizeTerm[]): string {
  return terms.map((t) => [...(t.coefficient !== 1 || t.names.length === 0 ? [String(t.coefficient)] : []), ...t.names].join('*')).join(' + ');
}

/** The limits a run is checked against before anything is submitted. */
export type RunLimits = Pick<GPUSupportedLimits, 'maxComputeWorkgroupsPerDimension' | 'maxStorageBufferBindingSize' | 'maxBufferSize'>;

/** A kernel's dispatch at a run's dims: x folded into y past the device's per-dimension limit where the kernel allows it. */
export function workgroupsAt(kernel: PlanKernel, dims: RunDims, maxPerDimension: number): [number, number, number] {
  const [x, y, z] = kernel.workgroups.map((count) => (typeof count === 'number' ? count : Math.ceil(evaluatePlanSize(count.size, dims) / count.per)));
  if (!kernel.foldX || x! <= maxPerDimension) return [x!, y!, z!];
  return [maxPerDimension, Math.ceil(x! / maxPerDimension), z!];
}

/**
 * Throws a DeviceLimitError naming the dims when a run's buffer would exceed the device's
 * binding or buffer size, or a dispatch its workgroups per dimension: before anything is
 * submitted, so the session stays usable.
 */
export function checkRunFits(what: string, plan: Plan, entry: PlanEntry, dims: RunDims, limits: RunLimits): void {
  if (Object.keys(dims).length === 0) return;
  const spelled = Object.entries(dims).map(([name, size]) => `${name} = ${size}`).join(', ');
  const bindingLimit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  for (const id of entryBuffers(plan, entry)) {
    const b = plan.buffers[id]!;
    if (typeof b.bytes === 'number') continue;
    const bytes = bytesAt(b, dims);
    if (bytes > bindingLimit) {
      throw new DeviceLimitError(`${what}: at ${spelled}, buffer #${id} (${b.name}, ${describeBuffer(b)}) needs ${bytes} bytes, over this device's storage-buffer limit of ${bindingLimit}. Run a smaller ${Object.keys(dims).join(' or ')}.`);
    }
  }
  for (const k of new Set(entry.dispatches)) {
    const kernel = plan.kernels[k]!;
    const counts = workgroupsAt(kernel, dims, limits.maxComputeWorkgroupsPerDimension);
    if (counts.some((n) => n > limits.maxComputeWorkgroupsPerDimension)) {
      throw new DeviceLimitError(
        `${what}: at ${spelled}, kernel ${kernel.name} (${kernel.ops.join(', ')}) would dispatch [${counts.join(', ')}] workgroups, over this device's maxComputeWorkgroupsPerDimension of ${limits.maxComputeWorkgroupsPerDimension}. Run a smaller ${Object.keys(dims).join(' or ')}.`,
      );
    }
  }
}
