/**
 * Compiling a plan's kernels into compute pipelines: every distinct WGSL once, all in
 * parallel and asynchronously (no first-run stall). A kernel that does not compile is
 * reported by its name, the graph nodes it implements and the offending WGSL line.
 */

import { KernelError } from '../compiler/errors.js';
import type { PlanKernel } from '../compiler/plan-format.js';

/** Pipelines in kernel order; kernels with the same WGSL share one. */
export function createPipelines(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<GPUComputePipeline[]> {
  const byWgsl = new Map<string, Promise<GPUComputePipeline>>();
  return Promise.all(
    kernels.map((kernel) => {
      let pipeline = byWgsl.get(kernel.wgsl);
      if (!pipeline) {
        pipeline = compileKernel(device, kernel);
        byWgsl.set(kernel.wgsl, pipeline);
      }
      return pipeline;
    }),
  );
}

/** `kernel k5_matmul (matmul %5)`: how errors name a kernel. */
export function describeKernel(kernel: PlanKernel): string {
  return `kernel ${kernel.name} (${kernel.ops.map((op, i) => `${op} %${kernel.nodes[i]}`).join(', ')})`;
}

async function compileKernel(device: GPUDevice, kernel: PlanKernel): Promise<GPUComputePipeline> {
  const where = describeKernel(kernel);
  // The scope keeps a bad shader from also surfacing as an uncaptured device error.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
  const scoped = device.popErrorScope();
  const [info, validation] = await Promise.all([module.getCompilationInfo(), scoped]);
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = kernel.wgsl.split('\n');
    const detail = errors.map((m) => `line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n  ');
    throw new KernelError(`${where}: WGSL does not compile:\n  ${detail}`);
  }
  if (validation) throw new KernelError(`${where}: shader module rejected: ${validation.message}`);
  try {
    return await device.createComputePipelineAsync({ label: kernel.name, layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (error) {
    throw new KernelError(`${where}: pipeline creation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
