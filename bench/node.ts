/**
 * `npm run bench -- --node`: the same harness and workloads in this Node process, on Dawn
 * (npm `webgpu`, SwiftShader when there is no GPU driver). The GPU counters wrap Dawn's
 * classes before any system loads; peers that look for `navigator.gpu` find Dawn's
 * instance there, as the `webgpu` package suggests. A peer that still cannot run in Node
 * is reported as not measured, with the reason.
 */

import { requestDawnAdapter } from '../runtime/dawn.js';
import type { BenchData } from './data-format.js';
import { installGpuCounters } from './gpu-counters.js';
import type { WebGPUClasses } from './gpu-counters.js';
import type { BenchSettings, HarnessOutput, Log } from './harness.js';
import { runHarness } from './harness.js';
import type { BenchSystem } from './system.js';
import { systemEntries } from './systems/index.js';
import type { WorkloadId } from './workloads.js';

/** Systems that cannot run here, and why (both seen with onnxruntime-web 1.30 and webgpu 0.6.2). */
const NOT_IN_NODE: Readonly<Record<string, string>> = {
  'ort-webgpu':
    "not measured in Node: ONNX Runtime Web's WebGPU provider fails at session creation on Dawn ('Invalid argument' from its " +
    "WebAssembly), and its runtime, once loaded, keeps jax-js's wasm device from linking its modules in the same process",
};

/**
 * jax-js 0.1.25's einsum, inside `nn.dotProductAttention`, calls `Iterator.prototype.map`,
 * which Node 22 added (Chromium has it): on an older Node the transformer block cannot run.
 */
function workloadsNotInNode(): Partial<Record<WorkloadId, string>> {
  const iteratorHelpers = typeof (globalThis as { Iterator?: { prototype?: { map?: unknown } } }).Iterator?.prototype?.map === 'function';
  if (iteratorHelpers) return {};
  const reason = `Node ${process.version}: jax-js 0.1.25's einsum (in nn.dotProductAttention) needs Iterator.prototype.map (Node 22+)`;
  return { 'transformer-block': reason };
}

/** The system without the workloads it cannot run here, each marked with why. */
function withoutWorkloads(system: BenchSystem, reasons: Partial<Record<WorkloadId, string>>): BenchSystem {
  if (!Object.keys(reasons).length) return system;
  const workloads = Object.fromEntries(Object.entries(system.workloads).filter(([id]) => !(id in reasons)));
  return { ...system, workloads, unsupported: { ...(typeof system.unsupported === 'object' ? system.unsupported : {}), ...reasons } };
}

export async function runInNode(systems: readonly string[], data: BenchData, settings: BenchSettings, log: Log): Promise<{ output: HarnessOutput; runtime: string }> {
  const { globals } = (await import('webgpu')) as unknown as { globals: WebGPUClasses };
  installGpuCounters(globals);
  const { gpu } = await requestDawnAdapter({});
  // Node 21+ has a `navigator` with this userAgent (jax-js reads it); Node 20 has none.
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true, writable: true });
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
  const entries = systemEntries(systems, {}).map((entry) => {
    const reason = NOT_IN_NODE[entry.id];
    if (reason) return { ...entry, load: () => Promise.reject(new Error(reason)) };
    return entry.id.startsWith('jax-') ? { ...entry, load: async () => withoutWorkloads(await entry.load(), workloadsNotInNode()) } : entry;
  });
  const output = await runHarness(entries, data, settings, log);
  return { output, runtime: `Node ${process.version} + Dawn (npm webgpu)` };
}
