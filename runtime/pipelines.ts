/**
 * Compiling a plan's kernels into compute pipelines: every distinct kernel once per device,
 * asynchronously. Kernels that differ only in their comments (the header names the graph
 * nodes a kernel implements, so two layers' identical kernels differ there) share one
 * pipeline. Each pipeline's bind group layout is made from the kernel's recorded bindings
 * (`read` → read-only storage, `read_write` → storage), which `validatePlan` has checked
 * against the WGSL, and is shared by every kernel with the same accesses, so bind groups
 * are made before (and without) the pipelines; a kernel that reads the plan's size block
 * (`readsDims`) has a second group, one uniform buffer. A kernel that does not compile is
 * reported by its name, the graph nodes it implements and the offending WGSL line.
 */

import { KernelError } from '../compiler/errors.js';
import type { PlanKernel } from '../compiler/plan-format.js';
import type { DeviceReport } from './device-errors.js';
import { describeKernel, describeReport, withErrorScopes } from './device-errors.js';

/**
 * Why a shared pipeline failed, worded for each kernel that uses it: a compile error's line
 * numbers are those of the kernel's own WGSL, whose comments may be longer or shorter.
 */
class PipelineFailure extends Error {
  constructor(readonly detail: (kernel: PlanKernel) => string) {
    super('pipeline failed');
  }
}

/**
 * Pipelines already made on a device, by `pipelineKey`: a second session of a plan (a rebuilt
 * session, another batch size sharing kernels, a test) reuses them instead of compiling
 * the same shaders again. Weakly keyed, so a lost or dropped device takes its cache along.
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/**
 * Bind group layouts (group 0) made on a device, by binding accesses, with what the device
 * said when it made each (a rejected one stays: the device rejects the same descriptor again).
 */
const layoutCache = new WeakMap<GPUDevice, Map<string, { layout: GPUBindGroupLayout; report: Promise<DeviceReport | undefined> }>>();

const dimsLayouts = new WeakMap<GPUDevice, GPUBindGroupLayout>();

const COMMENT_LINE = /^[ \t]*\/\/.*$/;

/** What decides a kernel's pipeline: its binding accesses, whether it reads the size block, and its WGSL without comment lines. */
export function pipelineKey(kernel: PlanKernel): string {
  const code = kernel.wgsl.split('\n').filter((line) => !COMMENT_LINE.test(line));
  return `${accessesOf(kernel)}${kernel.readsDims ? ',dims' : ''}\n${code.join('\n')}`;
}

const accessesOf = (kernel: PlanKernel): string => kernel.bindings.map(({ access }) => access).join(',');

/** The layout of group 1, the size block (one uniform buffer): one per device, so one bind group serves every kernel that reads it. */
export function dimsBindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  let layout = dimsLayouts.get(device);
  if (!layout) {
    layout = device.createBindGroupLayout({ label: 'kiln dims', entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }] });
    dimsLayouts.set(device, layout);
  }
  return layout;
}

/** The kernel's group-0 layout, shared on the device by every kernel with the same binding accesses. */
function cachedLayout(device: GPUDevice, kernel: PlanKernel): { layout: GPUBindGroupLayout; report: Promise<DeviceReport | undefined> } {
  let byAccesses = layoutCache.get(device);
  if (!byAccesses) {
    byAccesses = new Map();
    layoutCache.set(device, byAccesses);
  }
  const key = accessesOf(kernel);
  let made = byAccesses.get(key);
  if (!made) {
    const { result: layout, report } = withErrorScopes(device, () =>
      device.createBindGroupLayout({
        label: key,
        entries: kernel.bindings.map(({ access }, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' } })),
      }),
    );
    made = { layout, report };
    byAccesses.set(key, made);
  }
  return made;
}

/**
 * The group-0 layout of each kernel, for its bind groups and pipeline; rejects with a
 * KernelError naming the first kernel whose layout the device rejected.
 */
export async function bindGroupLayouts(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<GPUBindGroupLayout[]> {
  const made = kernels.map((kernel) => cachedLayout(device, kernel));
  const reports = await Promise.all(made.map(({ report }) => report));
  const k = reports.findIndex((report) => report !== undefined);
  if (k >= 0) throw new KernelError(`${describeKernel(kernels[k]!)}: ${layoutRejected(reports[k]!)}`);
  return made.map(({ layout }) => layout);
}

const layoutRejected = (report: DeviceReport): string => `the device rejected its bind group layout with ${describeReport(report)}: ${report.message.trim()}`;

/**
 * The kernel's pipeline, made once per device for every kernel with its `pipelineKey`.
 * Compiling starts at once (in call order), so calling this in the order pipelines are
 * needed makes the first needed the first done. Rejects with a KernelError naming `kernel`.
 */
export function pipelineFor(device: GPUDevice, kernel: PlanKernel): Promise<GPUComputePipeline> {
  let byKey = pipelineCache.get(device);
  if (!byKey) {
    byKey = new Map();
    pipelineCache.set(device, byKey);
  }
  const cache = byKey;
  const key = pipelineKey(kernel);
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = compileKernel(device, kernel);
    cache.set(key, pipeline);
    // A shader that failed is not kept: the error is reported to each caller that makes it.
    pipeline.catch(() => cache.delete(key));
  }
  return pipeline.catch((error: unknown) => {
    throw error instanceof PipelineFailure ? new KernelError(`${describeKernel(kernel)}: ${error.detail(kernel)}`) : error;
  });
}

/** Pipelines in kernel order (kernels differing only in comments share one, per device). */
export function createPipelines(device: GPUDevice, kernels: readonly PlanKernel[]): Promise<GPUComputePipeline[]> {
  return Promise.all(kernels.map((kernel) => pipelineFor(device, kernel)));
}

async function compileKernel(device: GPUDevice, kernel: PlanKernel): Promise<GPUComputePipeline> {
  const group0 = cachedLayout(device, kernel).layout;
  // The scopes keep a bad shader or layout from also surfacing as an uncaptured device error.
  const { result: module, report: moduleReport } = withErrorScopes(device, () => device.createShaderModule({ label: kernel.name, code: kernel.wgsl }));
  const { result: layout, report: pipelineLayoutReport } = withErrorScopes(device, () =>
    device.createPipelineLayout({ label: kernel.name, bindGroupLayouts: kernel.readsDims ? [group0, dimsBindGroupLayout(device)] : [group0] }),
  );
  // Compiling starts now, in call order; a bad module or layout (a rejected group 0 makes it one) fails it too, and is the error to report.
  const pipeline = device.createComputePipelineAsync({ label: kernel.name, layout, compute: { module, entryPoint: 'main' } });
  pipeline.catch(() => undefined);
  const [info, moduleRejected, layoutReport] = await Promise.all([module.getCompilationInfo(), moduleReport, pipelineLayoutReport]);
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) throw new PipelineFailure((user) => `WGSL does not compile:\n  ${compileErrors(kernel.wgsl, user.wgsl, errors)}`);
  if (moduleRejected) throw new PipelineFailure(() => `the device rejected its shader module with ${describeReport(moduleRejected)}: ${moduleRejected.message.trim()}`);
  if (layoutReport) throw new PipelineFailure(() => layoutRejected(layoutReport));
  try {
    return await pipeline;
  } catch (error) {
    throw new PipelineFailure(() => `pipeline creation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Compile errors in `compiled` as lines of `own` (the same code, perhaps with other comment lines), each with its line's text. */
function compileErrors(compiled: string, own: string, errors: readonly GPUCompilationMessage[]): string {
  // The n-th code line of one is the n-th of the other: only whole comment lines differ.
  const codeLines = (wgsl: string): number[] => wgsl.split('\n').flatMap((line, i) => (COMMENT_LINE.test(line) ? [] : [i + 1]));
  const [compiledCode, ownCode, ownLines] = [codeLines(compiled), codeLines(own), own.split('\n')];
  return errors
    .map((m) => {
      const lineNum = ownCode[compiledCode.indexOf(m.lineNum)] ?? m.lineNum;
      return `line ${lineNum}: ${m.message}\n    ${ownLines[lineNum - 1]?.trim() ?? ''}`;
    })
    .join('\n  ');
}
