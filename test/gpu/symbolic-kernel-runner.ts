/**
 * Runs one template's kernels on the shared device without a plan or a Session: binds
 * the given buffers (group 0) and, for a kernel reading symbolic sizes, the size block
 * (group 1: one u32 per dim, in `dims` order, padded to 16 bytes), and sizes the grid at
 * the given dim values as the runtime does (ceil(size / per); an x count past the limit
 * folds into y). So the symbolic templates can be checked bit for bit against their
 * static kernels at the same sizes, with an explicit pipeline layout.
 */

import type { KernelSpec } from '../../compiler/codegen/kernel.js';
import type { WorkgroupCount } from '../../compiler/codegen/wgsl.js';
import { evaluateDim } from '../../compiler/dims.js';
import { gpu } from './harness.js';

export type KernelData = Float32Array | Int32Array | Uint32Array;

/** The dispatch of `count`s at `sizes`, x folded into y past `max` (the kernel reads num_workgroups). */
export function dispatchAt(counts: readonly WorkgroupCount[], sizes: Readonly<Record<string, number>>, max: number): [number, number, number] {
  const [x, y, z] = counts.map((c) => (typeof c === 'number' ? c : Math.ceil(evaluateDim(c.size, sizes) / c.per))) as [number, number, number];
  if (x <= max) return [x, y, z];
  const width = max;
  return [width, y * Math.ceil(x / width), z];
}

/** What a pipeline is made from: a template's KernelSpec or a plan's kernel. */
type PipelineSource = Pick<KernelSpec, 'name' | 'wgsl' | 'readsDims'> & { readonly bindings: readonly { readonly access: 'read' | 'read_write' }[] };

/** Compiles `kernel` with an explicit layout (group 1 = the size block when it reads one); rejects with the WGSL's errors. */
export async function pipelineFor(kernel: PipelineSource): Promise<GPUComputePipeline> {
  const { device } = await gpu();
  const module = device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = kernel.wgsl.split('\n');
    throw new Error(`${kernel.name}: WGSL does not compile:\n${errors.map((m) => `line ${m.lineNum}: ${m.message}\n  ${lines[m.lineNum - 1]}`).join('\n')}\n${kernel.wgsl}`);
  }
  const storage = device.createBindGroupLayout({
    entries: kernel.bindings.map(({ access }, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
    })),
  });
  const layouts = [storage];
  if (kernel.readsDims) layouts.push(device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }] }));
  return device.createComputePipelineAsync({ label: kernel.name, layout: device.createPipelineLayout({ bindGroupLayouts: layouts }), compute: { module, entryPoint: 'main' } });
}

/**
 * Runs `kernels` in order over `buffers` (every bound node's initial contents, outputs
 * included) at dim values `sizes` (plan dim order `dims`); returns every buffer's final contents.
 */
export async function runKernels(
  kernels: readonly KernelSpec[],
  buffers: ReadonlyMap<number, KernelData>,
  dims: readonly string[] = [],
  sizes: Readonly<Record<string, number>> = {},
): Promise<Map<number, Float32Array>> {
  const { device } = await gpu();
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const gpuBuffers = new Map<number, GPUBuffer>();
  for (const [node, data] of buffers) {
    const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage });
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    gpuBuffers.set(node, buffer);
  }
  const block = new Uint32Array(Math.max(4, Math.ceil(dims.length / 4) * 4));
  dims.forEach((name, i) => (block[i] = sizes[name]!));
  const uniform = device.createBuffer({ size: block.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, block);
  const encoder = device.createCommandEncoder();
  for (const kernel of kernels) {
    const pipeline = await pipelineFor(kernel);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: kernel.bindings.map(({ node }, binding) => {
          const buffer = gpuBuffers.get(node);
          if (!buffer) throw new Error(`${kernel.name} binds node ${node}, which has no buffer in this test`);
          return { binding, resource: { buffer } };
        }),
      }),
    );
    if (kernel.readsDims) pass.setBindGroup(1, device.createBindGroup({ layout: pipeline.getBindGroupLayout(1), entries: [{ binding: 0, resource: { buffer: uniform } }] }));
    pass.dispatchWorkgroups(...dispatchAt(kernel.workgroups, sizes, device.limits.maxComputeWorkgroupsPerDimension));
    pass.end();
  }
  const staging = new Map<number, GPUBuffer>();
  for (const [node, buffer] of gpuBuffers) {
    const copy = device.createBuffer({ size: buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffer, 0, copy, 0, buffer.size);
    staging.set(node, copy);
  }
  device.queue.submit([encoder.finish()]);
  const results = new Map<number, Float32Array>();
  for (const [node, copy] of staging) {
    await copy.mapAsync(GPUMapMode.READ);
    results.set(node, new Float32Array(copy.getMappedRange().slice(0, buffers.get(node)!.byteLength)));
    copy.unmap();
    copy.destroy();
    gpuBuffers.get(node)!.destroy();
  }
  uniform.destroy();
  return results;
}
