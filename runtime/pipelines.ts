/**
 * Compiling a plan's kernels into compute pipelines: every distinct WGSL once, all in
 * parallel and asynchronously (no first-run stall). Each pipeline's bind group layout is
 * made from the kernel's recorded bindings (`read` → read-only storage, `read_write` →
 * storage), which `validatePlan` has checked against the WGSL; a kernel that reads the
 * plan's size block (`readsDims`) has a second group, one uniform buffer. A kernel that does not
 * compile is reported by its name, the graph nodes it implements and the offending WGSL line.
 */

import { KernelError } from '../compiler/errors.js';
import type { PlanKernel } from '../compiler/plan-format.js';
import { describeKernel, describeReport, withErrorScopes } from './device-errors.js';

/**
 * Pipelines already made on a device, by binding accesses and WGSL: a second session of a plan (a rebuilt
 * session, another batch size sharing kernels, a test) reuses them instead of compiling
 * the same shaders again. Weakly keyed, so a lost or dropped device takes its cache along.
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

const dimsLayouts = new WeakMap<GPUDevice, GPUBindGroupLayout>();

/** The layout of group 1, the size block (one uniform buffer): one per device, so one bind group serves every kernel that reads it. */
export function dimsBindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  let layout = dimsLayouts.get(device);
  if (!layout) {
    layout = device.createBindGroupLayout({ label: 'kiln dims', entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }] });
    dimsLayouts.set(device, layout);
  }
  return layout;
}

/** Pipelines in kernel order; kernels with the same WGSL share one (per device). */
export function createPipelines(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<GPUComputePipeline[]> {
  let byWgsl = pipelineCache.get(device);
  if (!byWgsl) {
    byWgsl = new Map();
    pipelineCache.set(device, byWgsl);
  }
  const cache = byWgsl;
  return Promise.all(
    kernels.map((kernel) => {
      const key = `${kernel.bindings.map(({ access }) => access).join(',')}${kernel.readsDims ? ',dims' : ''}\n${kernel.wgsl}`;
      let pipeline = cache.get(key);
      if (!pipeline) {
        pipeline = compileKernel(device, kernel);
        cache.set(key, pipeline);
        // A shader that failed is not kept: the error is reported to each caller that makes it.
        pipeline.catch(() => cache.delete(key));
      }
      return pipeline;
    }),
  );
}

async function compileKernel(device: GPUDevice, kernel: PlanKernel): Promise<GPUComputePipeline> {
  const where = describeKernel(kernel);
  // The scopes keep a bad shader or layout from also surfacing as an uncaptured device error.
  const { result: module, report: moduleReport } = withErrorScopes(device, () => device.createShaderModule({ label: kernel.name, code: kernel.wgsl }));
  const [info, moduleRejected] = await Promise.all([module.getCompilationInfo(), moduleReport]);
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = kernel.wgsl.split('\n');
    const detail = errors.map((m) => `line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n  ');
    throw new KernelError(`${where}: WGSL does not compile:\n  ${detail}`);
  }
  if (moduleRejected) throw new KernelError(`${where}: the device rejected its shader module with ${describeReport(moduleRejected)}: ${moduleRejected.message.trim()}`);
  const { result: layout, report: layoutReport } = withErrorScopes(device, () => {
    const bindGroupLayout = device.createBindGroupLayout({
      label: kernel.name,
      entries: kernel.bindings.map(({ access }, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    return device.createPipelineLayout({ label: kernel.name, bindGroupLayouts: kernel.readsDims ? [bindGroupLayout, dimsBindGroupLayout(device)] : [bindGroupLayout] });
  });
  // Compiling starts at once; a rejected layout fails the pipeline too, and is the error to report.
  const pipeline = device.createComputePipelineAsync({ label: kernel.name, layout, compute: { module, entryPoint: 'main' } });
  const layoutRejected = await layoutReport;
  if (layoutRejected) {
    pipeline.catch(() => undefined);
    throw new KernelError(`${where}: the device rejected its bind group layout with ${describeReport(layoutRejected)}: ${layoutRejected.message.trim()}`);
  }
  try {
    return await pipeline;
  } catch (error) {
    throw new KernelError(`${where}: pipeline creation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
