/**
 * WebGPU in Node through Dawn (the npm package `webgpu`). Node-only: the package's browser
 * build replaces this module with runtime/dawn-browser.ts (scripts/build.mjs), so no
 * browser bundle contains `webgpu` or `node:fs`.
 *
 * On a machine without a GPU driver, Dawn finds no Vulkan adapter. Debian's `chromium`
 * ships SwiftShader, a CPU Vulkan driver; pointing the Vulkan loader at it with
 * `VK_ICD_FILENAMES` gives a working (slow) adapter. kiln does that itself, but never
 * overrides a driver the user chose. When no driver is installed at all it starts with
 * SwiftShader, because asking the system first only makes Dawn print a warning.
 */

import { DeviceError } from '../compiler/errors.js';

/** SwiftShader's Vulkan driver manifest as shipped by Debian's `chromium` package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * The Vulkan loader's variables that name drivers explicitly. `VK_DRIVER_FILES` replaces
 * `VK_ICD_FILENAMES` in newer loaders; if either is set the user chose a driver.
 */
const DRIVER_VARIABLES = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES'] as const;

export type SwiftShaderDecision = { readonly retry: true; readonly icdFile: string } | { readonly retry: false; readonly reason: string };

/**
 * Whether to retry adapter discovery with SwiftShader after Dawn found no adapter: only
 * when the user named no Vulkan driver and SwiftShader is installed. Pure, so it is
 * tested without a GPU.
 */
export function decideSwiftShaderRetry(
  env: Readonly<Record<string, string | undefined>>,
  fileExists: (path: string) => boolean,
): SwiftShaderDecision {
  for (const name of DRIVER_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      return { retry: false, reason: `${name}=${value} is set, so kiln did not override it with SwiftShader` };
    }
  }
  if (!fileExists(SWIFTSHADER_ICD)) {
    return { retry: false, reason: `SwiftShader is not installed (no ${SWIFTSHADER_ICD})` };
  }
  return { retry: true, icdFile: SWIFTSHADER_ICD };
}

/**
 * Where the Linux Vulkan loader looks for driver manifests: $XDG_CONFIG_DIRS, /etc (and
 * /usr/local/etc), $XDG_DATA_HOME and $XDG_DATA_DIRS, each with `vulkan/icd.d`.
 */
export function vulkanDriverDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const listed = (value: string | undefined, fallback: string) => (value || fallback).split(':').filter((dir) => dir !== '');
  const dataHome = env['XDG_DATA_HOME'] || (env['HOME'] ? `${env['HOME']}/.local/share` : '');
  const roots = [...listed(env['XDG_CONFIG_DIRS'], '/etc/xdg'), '/usr/local/etc', '/etc', ...(dataHome ? [dataHome] : []), ...listed(env['XDG_DATA_DIRS'], '/usr/local/share:/usr/share')];
  return roots.map((root) => `${root}/vulkan/icd.d`);
}

/**
 * The SwiftShader manifest to use from the start, or undefined to ask the system's drivers
 * first. Only on Linux, only when the user named no driver (`VK_ADD_DRIVER_FILES` counts)
 * and no manifest is in any of the loader's directories: Dawn would find nothing there and
 * print `vkCreateInstance: Found no drivers!`. A real driver is never skipped. Pure, so it
 * is tested without a GPU.
 */
export function swiftShaderFirst(
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
  fileExists: (path: string) => boolean,
  manifestsIn: (dir: string) => readonly string[],
): string | undefined {
  if (platform !== 'linux' || env['VK_ADD_DRIVER_FILES']) return undefined;
  const decision = decideSwiftShaderRetry(env, fileExists);
  if (!decision.retry) return undefined;
  return vulkanDriverDirs(env).some((dir) => manifestsIn(dir).length > 0) ? undefined : decision.icdFile;
}

/** The parts of the `webgpu` package kiln uses. */
interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

async function loadDawn(): Promise<DawnModule> {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ 'webgpu')) as DawnModule;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeviceError(
      `requestDevice: could not load Dawn, the npm package 'webgpu' that gives Node WebGPU (${message}). ` +
        `Fix: run 'npm install webgpu' (prebuilt for Linux, macOS and Windows on x64 and arm64).`,
    );
  }
}

/**
 * Dawn's WebGPU constants and classes (`GPUBufferUsage`, `GPUMapMode`, ...) are not
 * globals in Node; kernels written for the browser use them as globals, so install
 * the ones that are missing (never replacing what is there).
 */
function installWebGPUGlobals(globals: object): void {
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
    }
  }
}

export interface DawnAdapter {
  /** The Dawn instance. It must stay reachable while its devices are used: see `requestDevice`. */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
}

/**
 * Finds a WebGPU adapter in Node: with the system's drivers, then (see
 * `decideSwiftShaderRetry`) with SwiftShader; with SwiftShader alone when no driver is
 * installed (`swiftShaderFirst`). Throws a DeviceError naming what was tried.
 */
export async function requestDawnAdapter(options: GPURequestAdapterOptions): Promise<DawnAdapter> {
  const dawn = await loadDawn();
  installWebGPUGlobals(dawn.globals);
  const { existsSync, readdirSync } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
  const manifestsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.json')) : []);
  const tried: string[] = [];
  if (swiftShaderFirst(process.env, process.platform, existsSync, manifestsIn) === undefined) {
    const system = await adapterOf(dawn, options);
    if (system) return system;
    tried.push("Dawn (npm 'webgpu') with the system's Vulkan drivers: no adapter");
  } else {
    tried.push(`no Vulkan driver installed (no manifest in ${vulkanDriverDirs(process.env).join(', ')})`);
  }
  const decision = decideSwiftShaderRetry(process.env, existsSync);
  if (decision.retry) {
    // The Vulkan loader reads the variable when Dawn creates an instance, so a fresh
    // instance in this process sees it. It stays set so child processes agree.
    process.env['VK_ICD_FILENAMES'] = decision.icdFile;
    const fallback = await adapterOf(dawn, options);
    if (fallback) return fallback;
    delete process.env['VK_ICD_FILENAMES'];
    tried.push(`SwiftShader (VK_ICD_FILENAMES=${decision.icdFile}): no adapter`);
  } else {
    tried.push(decision.reason);
  }
  throw new DeviceError(
    `requestDevice: no WebGPU adapter found in Node. Tried: ${tried.join('; ')}. ` +
      `Fix: install a GPU driver with Vulkan support, or for the SwiftShader CPU adapter on Debian/Ubuntu run ` +
      `'apt-get install chromium libvulkan1' (Dawn needs the Vulkan loader libvulkan1; chromium ships SwiftShader).`,
  );
}

/** A fresh Dawn instance (it reads the Vulkan variables as they are now) and its adapter, if any. */
async function adapterOf(dawn: DawnModule, options: GPURequestAdapterOptions): Promise<DawnAdapter | undefined> {
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter(options);
  return adapter ? { gpu, adapter } : undefined;
}
