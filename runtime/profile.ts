/**
 * Per-kernel timing of one entry of a plan: each kernel is dispatched alone, `runs`
 * times, and timed from submit to `onSubmittedWorkDone` (wall clock: timestamp queries
 * are optional in WebGPU and absent on some adapters), or, with the `'timestamps'` clock on
 * a device that has `timestamp-query`, by the GPU's own timestamps at the start and end of
 * its compute pass (no submit overhead: what the playground's Time kernels shows). Buffers
 * are allocated one per plan buffer, zero-filled, so the figures show where a step's time
 * goes — not a step's exact total (each kernel runs alone, and by the wall clock pays one
 * submit's overhead). A plan with symbolic dims is profiled at the sizes `dims` gives
 * (`{batch: 64}`). `profileCompile` times each kernel's pipeline creation instead. scripts/kiln-profile.ts prints both (`kiln profile`).
 */

import type { Plan, PlanBuffer, PlanKernel } from '../compiler/plan-format.js';
import { planSizeNames } from '../compiler/plan-format.js';
import { createPipelines, dimsBindGroupLayout } from './pipelines.js';
import type { RunDims } from './run-dims.js';
import { bytesAt, entryDimNames, workgroupsAt } from './run-dims.js';

export interface KernelTiming {
  readonly kernel: PlanKernel;
  /** Median milliseconds of one dispatch. */
  readonly ms: number;
}

/** How a dispatch is timed: the wall clock around its submit, or GPU timestamps around its pass. */
export type ProfileClock = 'wall' | 'timestamps';

export async function profileEntry(device: GPUDevice, plan: Plan, entryName: string, runs = 5, dims: RunDims = {}, clock: ProfileClock = 'wall'): Promise<KernelTiming[]> {
  if (clock === 'timestamps' && !device.features.has('timestamp-query')) {
    throw new Error(`profileEntry: the 'timestamps' clock needs a device made with the 'timestamp-query' feature (requiredFeatures: ['timestamp-query']); this one has none. Use the 'wall' clock.`);
  }
  const entry = plan.entries[entryName];
  if (!entry) throw new Error(`profileEntry: plan '${plan.name}' has no entry '${entryName}' (entries: ${Object.keys(plan.entries).join(', ')}).`);
  const unsized = entryDimNames(plan, entry).filter((name) => dims[name] === undefined);
  if (unsized.length > 0) throw new Error(`profileEntry: plan '${plan.name}' has symbolic dims; pass their sizes to profile at (dims {${unsized.map((name) => `${name}: 64`).join(', ')}}).`);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  // Bindings need a non-zero size that is a multiple of 4; buffers of dims this entry does not use get 4 bytes.
  const sized = (b: PlanBuffer): number => (planSizeNames(b.bytes).every((name) => dims[name] !== undefined) ? bytesAt(b, dims) : 4);
  const buffers = plan.buffers.map((b) => device.createBuffer({ size: Math.max(4, Math.ceil(sized(b) / 4) * 4), usage }));
  const dimsBuffer = plan.dims?.length ? device.createBuffer({ size: Math.ceil(plan.dims.length / 4) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }) : undefined;
  if (dimsBuffer) device.queue.writeBuffer(dimsBuffer, 0, Uint32Array.from(plan.dims!.map((name) => dims[name] ?? 1)));
  const dimsBindGroup = dimsBuffer && device.createBindGroup({ layout: dimsBindGroupLayout(device), entries: [{ binding: 0, resource: { buffer: dimsBuffer } }] });
  const stamps = clock === 'timestamps' ? passTimestamps(device) : undefined;
  try {
    const kernels = entry.dispatches.map((k) => plan.kernels[k]!);
    const pipelines = await createPipelines(device, kernels);
    const timings: KernelTiming[] = [];
    for (const [i, kernel] of kernels.entries()) {
      const pipeline = pipelines[i]!;
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: kernel.bindings.map(({ buffer }, binding) => ({ binding, resource: { buffer: buffers[buffer]! } })),
      });
      const once = async (): Promise<number> => {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass(stamps ? { timestampWrites: stamps.writes } : {});
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        if (kernel.readsDims) pass.setBindGroup(1, dimsBindGroup!);
        pass.dispatchWorkgroups(...workgroupsAt(kernel, dims, device.limits.maxComputeWorkgroupsPerDimension));
        pass.end();
        stamps?.resolve(encoder);
        const start = performance.now();
        device.queue.submit([encoder.finish()]);
        if (stamps) return stamps.read();
        await device.queue.onSubmittedWorkDone();
        return performance.now() - start;
      };
      await once();
      const samples = [];
      for (let r = 0; r < runs; r++) samples.push(await once());
      // An implementation that quantizes timestamps can read a short pass as zero (or wrapped): keep the runs that measured something.
      const measured = samples.filter((ms) => ms > 0).sort((a, b) => a - b);
      timings.push({ kernel, ms: measured.length === 0 ? 0 : measured[Math.floor(measured.length / 2)]! });
    }
    return timings;
  } finally {
    for (const buffer of [...buffers, ...(dimsBuffer ? [dimsBuffer] : [])]) buffer.destroy();
    stamps?.destroy();
  }
}

const NANOSECONDS_PER_MILLISECOND = 1e6;

/** A pass's start and end timestamps: written by the pass, resolved into a buffer, read back as milliseconds. */
function passTimestamps(device: GPUDevice) {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  return {
    writes: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } satisfies GPUComputePassTimestampWrites,
    resolve(encoder: GPUCommandEncoder): void {
      encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
    },
    async read(): Promise<number> {
      await readback.mapAsync(GPUMapMode.READ);
      const [start, end] = new BigInt64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      return Number(end! - start!) / NANOSECONDS_PER_MILLISECOND;
    },
    destroy(): void {
      querySet.destroy();
      resolved.destroy();
      readback.destroy();
    },
  };
}

/** ` at batch=64, seq=8`: the sizes a symbolic plan was profiled at, for a title (empty for a static plan). */
export function atDims(dims: RunDims): string {
  return Object.keys(dims).length > 0 ? ` at ${Object.entries(dims).map(([name, size]) => `${name}=${size}`).join(', ')}` : '';
}

/** 1234567 → `1.23M`: three significant digits and an SI prefix (`kiln profile`'s and the playground's FLOPs and bytes). */
export function formatCount(n: number): string {
  const prefixes = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (Math.abs(n) >= 999.5 && i < prefixes.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? String(Math.round(n)) : n.toPrecision(3)}${prefixes[i]}`;
}

/** A rate per second of `amount` done in `ms`, in giga-units (GFLOP/s, GB/s; — for none). */
export function formatRate(amount: number, ms: number): string {
  if (amount === 0 || ms <= 0) return '—';
  const giga = amount / (ms * 1e6);
  return giga >= 100 ? giga.toFixed(0) : giga >= 1 ? giga.toPrecision(3) : giga.toFixed(3);
}

/** How long one kernel's pipeline took to make, alone on the device. */
export interface CompileTiming {
  readonly kernel: PlanKernel;
  /** `createShaderModule` until its compilation info: parsing and validating the WGSL. */
  readonly moduleMs: number;
  /** `createComputePipelineAsync` until it resolves: the backend's compile (SPIR-V, the driver or SwiftShader's JIT). */
  readonly pipelineMs: number;
}

/**
 * Makes each kernel's pipeline alone, one after another, and times both halves. Each
 * WGSL gets a comment unique to this call, so neither kiln's pipeline cache nor Dawn's
 * (keyed by the source) hands back one made before: every figure is a fresh compile.
 */
export async function profileCompile(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<CompileTiming[]> {
  const nonce = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  // A first pipeline pays the backend's one-time start-up: an empty kernel takes it, so no kernel of the plan does.
  const empty = device.createShaderModule({ code: `// ${nonce}\n@compute @workgroup_size(1) fn main() {}` });
  await device.createComputePipelineAsync({ layout: 'auto', compute: { module: empty, entryPoint: 'main' } });
  const timings: CompileTiming[] = [];
  for (const [i, kernel] of kernels.entries()) {
    const start = performance.now();
    const module = device.createShaderModule({ label: kernel.name, code: `// kiln profile --compile ${nonce} ${i}\n${kernel.wgsl}` });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    if (errors.length > 0) throw new Error(`profileCompile: kernel ${kernel.name} does not compile: ${errors.map((m) => m.message).join('; ')}`);
    const compiled = performance.now();
    const group = device.createBindGroupLayout({
      entries: kernel.bindings.map(({ access }, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' } })),
    });
    const layout = device.createPipelineLayout({ bindGroupLayouts: kernel.readsDims ? [group, dimsBindGroupLayout(device)] : [group] });
    await device.createComputePipelineAsync({ label: kernel.name, layout, compute: { module, entryPoint: 'main' } });
    timings.push({ kernel, moduleMs: compiled - start, pipelineMs: performance.now() - compiled });
  }
  return timings;
}
