/**
 * Per-kernel timing of one entry of a plan: each kernel is dispatched alone, `runs`
 * times, and timed from submit to `onSubmittedWorkDone` (wall clock: timestamp queries
 * are optional in WebGPU and absent on software adapters). Buffers are allocated one per
 * plan buffer, zero-filled, so the figures show where a step's time goes — not a step's
 * exact total (each kernel pays one submit's overhead here). A plan with symbolic dims is
 * profiled at the sizes `dims` gives (`{batch: 64}`). `profileCompile` times each kernel's
 * pipeline creation instead. scripts/kiln-profile.ts prints both (`kiln profile`).
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

export async function profileEntry(device: GPUDevice, plan: Plan, entryName: string, runs = 5, dims: RunDims = {}): Promise<KernelTiming[]> {
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
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        if (kernel.readsDims) pass.setBindGroup(1, dimsBindGroup!);
        pass.dispatchWorkgroups(...workgroupsAt(kernel, dims, device.limits.maxComputeWorkgroupsPerDimension));
        pass.end();
        const start = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        return performance.now() - start;
      };
      await once();
      const samples = [];
      for (let r = 0; r < runs; r++) samples.push(await once());
      samples.sort((a, b) => a - b);
      timings.push({ kernel, ms: samples[Math.floor(samples.length / 2)]! });
    }
    return timings;
  } finally {
    for (const buffer of [...buffers, ...(dimsBuffer ? [dimsBuffer] : [])]) buffer.destroy();
  }
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
