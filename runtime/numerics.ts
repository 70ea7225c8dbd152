/**
 * Checking steps for NaN and ±Infinity on the GPU: a Session's `checkNumerics`.
 *
 * Memory planning lets intermediates share memory, so a value read after the step may have
 * been overwritten, and reading buffers afterwards could not say which kernel made a NaN.
 * A checked step therefore runs an instrumented pass: before the first kernel, one check
 * of each f32 input, param and state the entry reads; after each kernel, one check of each
 * f32 buffer it writes (its `read_write` bindings: WGSL writes no other), while those
 * values are still live. Every check is a dispatch of ONE small kernel that scans a
 * buffer's bits and records, in the check's own slot of one flags buffer, the kinds of
 * non-finite values it saw, how many, and the first index. The flags come back in ONE
 * readback with the step's outputs, and the first slot in dispatch order that holds a flag
 * names the kernel, its graph nodes and the buffer. Steps that are not checked run the
 * plain pass: nothing is created or dispatched for numerics unless a step is checked.
 */

import { ArgumentError, KilnError } from '../compiler/errors.js';
import type { Plan, PlanEntry, PlanKernel } from '../compiler/plan-format.js';
import type { SizedBuffer } from './host-tensor.js';
import { describeBuffer, elementCount } from './host-tensor.js';
import type { RunDims } from './run-dims.js';
import { bufferAt, dimsKey } from './run-dims.js';

/** When a session checks its steps: the first run of an entry other than `init`, and every `every`-th run after it. */
export interface NumericsCheckOptions {
  readonly every: number;
}

export type NonFiniteKind = 'NaN' | '+Infinity' | '-Infinity';

/** Where a checked step first held a non-finite value. */
export interface NonFiniteReport {
  readonly entry: string;
  /** The session's run count (from 1; `init` is not counted) of the step that found it. */
  readonly run: number;
  /** The kernel that wrote it, or undefined when an input, param or state held it before the first kernel. */
  readonly kernel?: {
    readonly name: string;
    /** Its index in `plan.kernels`, and its place in the entry's dispatch order (from 0). */
    readonly index: number;
    readonly position: number;
    readonly ops: readonly string[];
    readonly nodes: readonly number[];
  };
  /** The buffer, with its shape at the run's dims. */
  readonly buffer: Pick<SizedBuffer, 'id' | 'name' | 'role' | 'dtype' | 'shape'>;
  /** The graph node whose value the buffer held (transients are named `%<node>`). */
  readonly node?: number;
  readonly kinds: readonly NonFiniteKind[];
  readonly count: number;
  /** Row-major index of the first non-finite element. */
  readonly firstIndex: number;
}

/** A checked step found NaN or ±Infinity; `report` says where it first appeared. */
export class NumericsError extends KilnError {
  override name = 'NumericsError';
  constructor(
    message: string,
    readonly report: NonFiniteReport,
  ) {
    super(message);
  }
}

const WORKGROUP_SIZE = 64;
/** Enough invocations to scan a large buffer quickly; each strides through the rest. */
const MAX_CHECK_WORKGROUPS = 1024;
/** kinds, count, ~first index: three u32 per slot. */
const SLOT_BYTES = 12;
const KIND_BITS: readonly [number, NonFiniteKind][] = [
  [1, 'NaN'],
  [2, '+Infinity'],
  [4, '-Infinity'],
];

/**
 * The check kernel. It reads values as u32 bits: WGSL lets compilers assume floats are
 * finite, so a float comparison such as `x != x` may be folded away.
 */
export const CHECK_WGSL = `// kiln numerics check: flags NaN and ±Infinity in one f32 buffer, reading its bits.
@group(0) @binding(0) var<storage, read> values: array<u32>;
// found[0]: kinds seen (1 NaN, 2 +Infinity, 4 -Infinity); found[1]: how many;
// found[2]: the complement of the first index (the slot starts at 0, so atomicMax keeps the smallest index).
@group(0) @binding(1) var<storage, read_write> found: array<atomic<u32>, 3>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let stride = groups.x * ${WORKGROUP_SIZE}u;
  for (var i = id.x; i < arrayLength(&values); i += stride) {
    let bits = values[i];
    if ((bits & 0x7f800000u) == 0x7f800000u) {
      let infinity = select(2u, 4u, bits >= 0x80000000u);
      atomicOr(&found[0], select(infinity, 1u, (bits & 0x007fffffu) != 0u));
      atomicAdd(&found[1], 1u);
      atomicMax(&found[2], ~i);
    }
  }
}
`;

/** Validates the `checkNumerics` option of Session.create. */
export function checkNumericsOptions(options: unknown): NumericsCheckOptions | undefined {
  if (options === undefined) return undefined;
  const every = (options as { every?: unknown } | null)?.every;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) {
    throw new ArgumentError(
      `Session.create: checkNumerics must be {every: N} with N a positive integer (1 checks every run), got ${JSON.stringify(options)}.`,
    );
  }
  return { every };
}

/**
 * A session's numerics checking: which runs are checked, and the check pipeline and
 * per-entry instrumentation, made on the first checked run (or at once when the session
 * checks on a schedule, so the pipeline compiles beside the plan's kernels).
 */
export class NumericsMonitor {
  private runs = 0;
  private pipeline: Promise<GPUComputePipeline> | undefined;
  /** Each entry's instrumentation, for the sizes and memory it was built for (`key`). */
  private readonly entries = new Map<string, { readonly key: string; readonly check: Promise<EntryCheck> }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly plan: Plan,
    private readonly schedule: NumericsCheckOptions | undefined,
  ) {
    if (schedule) this.pipeline = this.createPipeline();
  }

  /** Counts a run of `entryName` and returns its number if it is to be checked (`forced` overrides the schedule). */
  due(entryName: string, forced: boolean | undefined): number | undefined {
    if (forced !== undefined && typeof forced !== 'boolean') {
      throw new ArgumentError(`Session.${entryName}: the option checkNumerics must be true or false, got ${JSON.stringify(forced)}.`);
    }
    const run = entryName === 'init' ? 0 : ++this.runs;
    const scheduled = this.schedule !== undefined && run > 0 && (run - 1) % this.schedule.every === 0;
    return (forced ?? scheduled) ? run : undefined;
  }

  /**
   * The instrumentation of one entry, built on its first checked run and again when a run's
   * dims or the session's memory (`generation`: it grew) differ from the last one's.
   */
  instrument(entryName: string, entry: PlanEntry, buffers: readonly GPUBuffer[], dims: RunDims, generation: number): Promise<EntryCheck> {
    const key = `${generation} ${dimsKey(dims)}`;
    const built = this.entries.get(entryName);
    if (built?.key === key) return built.check;
    void built?.check.then((old) => old.destroy(), () => undefined);
    this.pipeline ??= this.createPipeline();
    const check = this.pipeline.then((pipeline) => this.buildEntryCheck(pipeline, entryName, entry, buffers, dims));
    this.entries.set(entryName, { key, check });
    return check;
  }

  destroy(): void {
    for (const { check } of this.entries.values()) void check.then((built) => built.destroy(), () => undefined);
    this.entries.clear();
  }

  private createPipeline(): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ label: 'kiln numerics check', code: CHECK_WGSL });
    return this.device.createComputePipelineAsync({ label: 'kiln numerics check', layout: 'auto', compute: { module, entryPoint: 'main' } });
  }

  private buildEntryCheck(pipeline: GPUComputePipeline, entryName: string, entry: PlanEntry, buffers: readonly GPUBuffer[], dims: RunDims): EntryCheck {
    const sized = new Map<number, SizedBuffer>();
    const at = (id: number): SizedBuffer => sized.get(id) ?? sized.set(id, bufferAt(this.plan.buffers[id]!, dims)).get(id)!;
    const slots = checkSlots(this.plan, entry, at);
    // Each slot is bound at its own offset, which must be a multiple of the device's alignment.
    const stride = Math.max(SLOT_BYTES, this.device.limits.minStorageBufferOffsetAlignment);
    const bytes = Math.max(1, slots.length) * stride;
    const flags = this.device.createBuffer({ label: `${entryName} numerics flags`, size: bytes, usage: 0x80 | 0x04 | 0x08 }); // STORAGE | COPY_SRC | COPY_DST
    const staging = this.device.createBuffer({ label: `${entryName} numerics readback`, size: bytes, usage: 0x01 | 0x08 }); // MAP_READ | COPY_DST
    const layout = pipeline.getBindGroupLayout(0);
    const dispatches = slots.map((slot, s): CheckDispatch => ({
      ...slot,
      workgroups: Math.min(MAX_CHECK_WORKGROUPS, Math.ceil(elementCount(at(slot.buffer)) / WORKGROUP_SIZE)),
      bindGroup: this.device.createBindGroup({
        label: `${entryName} numerics check ${s}`,
        layout,
        entries: [
          // The run's bytes: the check scans arrayLength, which must not reach past this run's values.
          { binding: 0, resource: { buffer: buffers[slot.buffer]!, size: at(slot.buffer).bytes } },
          { binding: 1, resource: { buffer: flags, offset: s * stride, size: SLOT_BYTES } },
        ],
      }),
    }));
    return new EntryCheck(this.plan, entryName, entry, pipeline, dispatches, flags, staging, stride, at);
  }
}

interface CheckSlot {
  readonly buffer: number;
  /** The dispatch position after which it runs; -1: before the first kernel. */
  readonly position: number;
}

/** A slot with its dispatch: workgroups for its buffer, and the bind group of the buffer and the slot's flags. */
interface CheckDispatch extends CheckSlot {
  readonly workgroups: number;
  readonly bindGroup: GPUBindGroup;
}

/** The buffers a kernel may write: its `read_write` bindings. */
function writtenBuffers(kernel: PlanKernel): number[] {
  return [...new Set(kernel.bindings.filter(({ access }) => access === 'read_write').map(({ buffer }) => buffer))];
}

/** The buffers a check looks at, in the order values appear: entry values first, then each kernel's writes (`at`: a buffer at the run's dims). */
export function checkSlots(plan: Plan, entry: PlanEntry, at: (id: number) => SizedBuffer = (id) => bufferAt(plan.buffers[id]!)): CheckSlot[] {
  const checkable = (id: number): boolean => plan.buffers[id]!.dtype === 'f32' && elementCount(at(id)) > 0;
  const read = new Set(entry.dispatches.flatMap((k) => plan.kernels[k]!.bindings.map(({ buffer }) => buffer)));
  const entryValues = [...read]
    .filter((id) => ['input', 'param', 'state'].includes(plan.buffers[id]!.role) && checkable(id))
    .sort((a, b) => a - b)
    .map((buffer) => ({ buffer, position: -1 }));
  const written = entry.dispatches.flatMap((k, position) => {
    return writtenBuffers(plan.kernels[k]!).filter(checkable).map((buffer) => ({ buffer, position }));
  });
  return [...entryValues, ...written];
}

/** One entry's instrumentation: its check dispatches, flags buffer and readback. */
export class EntryCheck {
  private readonly after: Map<number, CheckDispatch[]>;

  constructor(
    private readonly plan: Plan,
    private readonly entryName: string,
    private readonly entry: PlanEntry,
    private readonly pipeline: GPUComputePipeline,
    private readonly slots: readonly CheckDispatch[],
    private readonly flags: GPUBuffer,
    private readonly staging: GPUBuffer,
    private readonly stride: number,
    private readonly at: (id: number) => SizedBuffer,
  ) {
    this.after = new Map();
    for (const slot of slots) this.after.set(slot.position, [...(this.after.get(slot.position) ?? []), slot]);
  }

  destroy(): void {
    this.flags.destroy();
    this.staging.destroy();
  }

  /** Zeroes the flags: call before the pass. */
  begin(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.flags);
  }

  /** Dispatches the checks that run after dispatch `position` (-1: before the first kernel). */
  check(pass: GPUComputePassEncoder, position: number): void {
    const slots = this.after.get(position);
    if (!slots) return;
    pass.setPipeline(this.pipeline);
    for (const slot of slots) {
      pass.setBindGroup(0, slot.bindGroup);
      pass.dispatchWorkgroups(slot.workgroups);
    }
  }

  /** Copies the flags out: call after the pass. */
  end(encoder: GPUCommandEncoder): void {
    encoder.copyBufferToBuffer(this.flags, 0, this.staging, 0, this.flags.size);
  }

  /** Reads the flags back after the submit: a NumericsError for the first non-finite value in dispatch order, if any. */
  async read(run: number): Promise<NumericsError | undefined> {
    await this.staging.mapAsync(0x01); // GPUMapMode.READ
    const words = new Uint32Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    const s = this.slots.findIndex((_, i) => words[(i * this.stride) / 4] !== 0);
    if (s < 0) return undefined;
    const [kindBits, count, firstComplement] = words.subarray((s * this.stride) / 4, (s * this.stride) / 4 + 3);
    const { buffer: id, position } = this.slots[s]!;
    const buffer = this.at(id);
    const index = this.entry.dispatches[position];
    const kernel: PlanKernel | undefined = index === undefined ? undefined : this.plan.kernels[index];
    const node = /^%(\d+)$/.exec(buffer.name)?.[1];
    const report: NonFiniteReport = {
      entry: this.entryName,
      run,
      ...(kernel ? { kernel: { name: kernel.name, index: index!, position, ops: kernel.ops, nodes: kernel.nodes } } : {}),
      buffer: { id, name: buffer.name, role: buffer.role, dtype: buffer.dtype, shape: buffer.shape },
      ...(node !== undefined ? { node: Number(node) } : {}),
      kinds: KIND_BITS.filter(([bit]) => (kindBits! & bit) !== 0).map(([, kind]) => kind),
      count: count!,
      firstIndex: ~firstComplement! >>> 0,
    };
    return nonFiniteError(this.plan, report, this.entry);
  }
}

/** The NumericsError for a report: where the value appeared, and what to do. */
function nonFiniteError(plan: Plan, report: NonFiniteReport, entry: PlanEntry): NumericsError {
  const { buffer, kernel } = report;
  const values = `${report.count} non-finite value${report.count === 1 ? '' : 's'} (${report.kinds.join(', ')})`;
  const first = `the first at element ${report.firstIndex}${buffer.shape.length > 1 ? ` ${JSON.stringify(unravel(report.firstIndex, buffer.shape))}` : ''}`;
  const where = `Session '${plan.name}' ${report.entry} (run ${report.run}, checked)`;
  const named = buffer.role === 'transient' ? buffer.name : `${buffer.role} '${buffer.name}'`;
  if (!kernel) {
    const fix =
      buffer.role === 'input'
        ? 'Fix: clean the values fed to it.'
        : 'It came from an earlier run (not checked, or whose NumericsError was not acted on), setParams or loadCheckpoint. Fix: restore params and state from a checkpoint, and check every run (checkNumerics: {every: 1}) to find the kernel that makes it.';
    return new NumericsError(`${where}: ${named} (${describeBuffer(buffer)}) held ${values} before the step's first kernel, ${first}. ${fix}`, report);
  }
  const ops = kernel.ops.map((op, i) => `${op} %${kernel.nodes[i]}`).join(', ');
  const persistent = (id: number): boolean => ['param', 'state'].includes(plan.buffers[id]!.role);
  const updates = entry.copies.length > 0 || entry.dispatches.some((k) => writtenBuffers(plan.kernels[k]!).some(persistent));
  const node = report.node !== undefined && buffer.role === 'transient' ? `, the value of graph node %${report.node}` : buffer.role === 'transient' ? '' : ', updated in place';
  return new NumericsError(
    `${where}: kernel ${kernel.name} (${ops}), dispatch ${kernel.position + 1} of ${entry.dispatches.length}, is the first to produce a non-finite value: ` +
      `it wrote ${values} to ${named} (${describeBuffer(buffer)}${node}), ${first}. Every f32 input, param and state the step read, and every earlier kernel's output, was finite. ` +
      `${updates ? 'The step ran to its end and its updates were applied. ' : ''}Fix: look in these ops for an overflow (exp of a large value), a log, sqrt or division of zero or a negative value, ` +
      'or a learning rate too large; then restore params and state from a checkpoint.',
    report,
  );
}

function unravel(index: number, shape: readonly number[]): number[] {
  const at: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    at.unshift(index % shape[axis]!);
    index = Math.floor(index / shape[axis]!);
  }
  return at;
}
