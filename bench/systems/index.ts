/**
 * The systems the benchmark knows, each loaded only when the harness asks (after the GPU
 * counters are in place; a library that fails to load fails alone).
 */

import type { SystemEntry } from '../system.js';

/** Where the WebAssembly peers find their .wasm files: URL folders in the browser; Node finds them itself. */
export interface SystemAssets {
  readonly tfjsWasm?: string;
  readonly ortWasm?: string;
}

/** URL folders bench/run.ts serves the WebAssembly peers' files at. */
export const BROWSER_ASSETS = { tfjsWasm: '/tfjs-wasm/', ortWasm: '/ort/' } as const satisfies SystemAssets;

const ENTRIES: readonly ((assets: SystemAssets) => SystemEntry)[] = [
  () => ({ id: 'kiln', label: 'kiln WebGPU', load: async () => (await import('./kiln.js')).kilnSystem('fused') }),
  () => ({ id: 'tfjs-webgpu', label: 'TF.js WebGPU', load: async () => (await import('./tfjs.js')).tfjsSystem('webgpu') }),
  () => ({ id: 'jax-webgpu', label: 'jax-js WebGPU jit', load: async () => (await import('./jax.js')).jaxSystem('webgpu') }),
  (assets) => ({ id: 'ort-webgpu', label: 'ORT Web WebGPU', load: async () => (await import('./ort.js')).ortSystem({ ...(assets.ortWasm ? { wasmPaths: assets.ortWasm } : {}) }) }),
  (assets) => ({ id: 'tfjs-wasm', label: 'TF.js wasm (CPU)', load: async () => (await import('./tfjs.js')).tfjsSystem('wasm', { ...(assets.tfjsWasm ? { wasmPaths: assets.tfjsWasm } : {}) }) }),
  () => ({ id: 'jax-wasm', label: 'jax-js wasm (CPU)', load: async () => (await import('./jax.js')).jaxSystem('wasm') }),
  () => ({ id: 'kiln-unfused', label: 'kiln WebGPU unfused', load: async () => (await import('./kiln.js')).kilnSystem('unfused') }),
];

/** Every system id, in table order. */
export const SYSTEM_IDS: readonly string[] = ENTRIES.map((entry) => entry(({})).id);

/** Run unless `--systems` says otherwise: kiln and the peers (kiln unfused is for kiln's own comparisons). */
export const DEFAULT_SYSTEMS: readonly string[] = SYSTEM_IDS.filter((id) => id !== 'kiln-unfused');

export function systemEntries(ids: readonly string[], assets: SystemAssets): SystemEntry[] {
  return ENTRIES.map((entry) => entry(assets)).filter((entry) => ids.includes(entry.id));
}
