/**
 * WebGPU device acquisition, the same call in a browser (`navigator.gpu`) and in Node
 * (Dawn, through the npm package `webgpu`, with a SwiftShader fallback on machines
 * without a GPU driver). By default the device gets every limit the adapter offers, so
 * kernels are sized from the hardware's real capability rather than WebGPU's defaults.
 */

import { ArgumentError, DeviceError } from '../compiler/errors.js';
import { checkKeys } from '../compiler/ops/args.js';
import { requestDawnAdapter } from './dawn.js';

export interface DeviceOptions {
  /** A hint to pick the integrated ('low-power') or discrete ('high-performance') GPU. */
  powerPreference?: GPUPowerPreference;
  /**
   * `'adapter'` (default): every limit at the adapter's maximum. A record asks for
   * those limits only (others keep WebGPU's defaults); each must be within the adapter's.
   */
  requiredLimits?: 'adapter' | Readonly<Record<string, number>>;
  /** Optional features to enable (`'timestamp-query'`, `'shader-f16'`, ...); each must be supported. */
  requiredFeatures?: readonly GPUFeatureName[];
}

export interface DeviceInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** Where WebGPU came from: the page's `navigator.gpu`, or Dawn in Node. */
  readonly backend: 'browser' | 'node-dawn';
  /** A CPU implementation (SwiftShader, lavapipe, WARP, ...): correct but slow. */
  readonly software: boolean;
}

export interface KilnDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: DeviceInfo;
  /** The limits the device was created with (`device.limits`). */
  readonly limits: GPUSupportedLimits;
  /** Resolves when the device is lost (driver reset, `destroy()`, ...): `device.lost`. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** Destroys the device and frees its GPU memory; pending work is abandoned. */
  destroy(): void;
}

/**
 * dawn.node crashes the process (segfault or abort) if a GPU instance is garbage-collected
 * while one of its devices is still used. Tie each instance's life to its device's, so a
 * caller that keeps only `device` is safe. (Keeping only a buffer of a dropped device still
 * crashes: the device must stay reachable while its objects are used.)
 */
const instanceOfDevice = new WeakMap<GPUDevice, GPU>();

/**
 * Acquires a WebGPU adapter and device. Throws DeviceError with what was tried and how to
 * fix it when none is available. In Node, keep `device` reachable while any of its
 * buffers or pipelines are used (Dawn crashes otherwise); a live device does not keep the
 * process from exiting, and `destroy()` frees its memory early.
 */
const DEVICE_OPTION_KEYS = ['powerPreference', 'requiredLimits', 'requiredFeatures'];

export async function requestDevice(options: DeviceOptions = {}): Promise<KilnDevice> {
  checkKeys('requestDevice', options, DEVICE_OPTION_KEYS);
  if (options.powerPreference !== undefined && options.powerPreference !== 'low-power' && options.powerPreference !== 'high-performance') {
    throw new ArgumentError(`requestDevice: powerPreference must be 'low-power' or 'high-performance', got ${String(options.powerPreference)}.`);
  }
  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference !== undefined) adapterOptions.powerPreference = options.powerPreference;

  const browserGpu = navigatorGpu();
  let gpu: GPU;
  let adapter: GPUAdapter;
  let backend: DeviceInfo['backend'];
  if (browserGpu) {
    gpu = browserGpu;
    adapter = await requestBrowserAdapter(browserGpu, adapterOptions);
    backend = 'browser';
  } else if (isNode()) {
    ({ gpu, adapter } = await requestDawnAdapter(adapterOptions));
    backend = 'node-dawn';
  } else {
    throw new DeviceError(missingWebGPUMessage(globalThis.isSecureContext !== false));
  }

  const requiredLimits = resolveRequiredLimits(limitsRecord(adapter.limits), options.requiredLimits ?? 'adapter');
  const requiredFeatures = [...(options.requiredFeatures ?? [])];
  const unsupported = requiredFeatures.filter((feature) => !adapter.features.has(feature));
  if (unsupported.length > 0) {
    throw new DeviceError(
      `requestDevice: the adapter does not support the feature(s) ${unsupported.join(', ')}. ` +
        `Fix: leave them out; this adapter supports: ${[...adapter.features].sort().join(', ') || 'none'}.`,
    );
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'kiln', requiredLimits, requiredFeatures });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeviceError(`requestDevice: the adapter refused to create a device: ${message}`);
  }
  instanceOfDevice.set(device, gpu);

  const { vendor, architecture, description } = adapter.info;
  return {
    adapter,
    device,
    info: { vendor, architecture, description, backend, software: isSoftwareAdapter(adapter.info) },
    limits: device.limits,
    lost: device.lost,
    destroy: () => device.destroy(),
  };
}

function navigatorGpu(): GPU | undefined {
  // Node 21+ has a `navigator` without `gpu`; older Node has none.
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.gpu ?? undefined;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function requestBrowserAdapter(gpu: GPU, options: GPURequestAdapterOptions): Promise<GPUAdapter> {
  const adapter = await gpu.requestAdapter(options);
  if (adapter) return adapter;
  throw new DeviceError(
    'requestDevice: this browser has WebGPU but found no usable GPU adapter (blocklisted GPU or driver). ' +
      'Fix: see chrome://gpu for the reason; on Linux, enable chrome://flags/#enable-unsafe-webgpu and ' +
      'chrome://flags/#enable-vulkan, or launch Chrome/Chromium with --enable-unsafe-webgpu --enable-features=Vulkan.',
  );
}

/** The DeviceError message for a page without `navigator.gpu`. */
export function missingWebGPUMessage(secureContext: boolean): string {
  if (!secureContext) {
    return (
      'requestDevice: WebGPU is only available in secure contexts, and this page is not one. ' +
      'Fix: serve the page over https, or from http://localhost or http://127.0.0.1 (not file:// or a plain-http LAN address).'
    );
  }
  return (
    'requestDevice: this browser does not expose WebGPU (navigator.gpu is missing). ' +
    'Fix: use Chrome or Edge 113+, Safari 26+ or Firefox 141+; on Linux, enable chrome://flags/#enable-unsafe-webgpu ' +
    '(or launch Chromium with --enable-unsafe-webgpu).'
  );
}

/** Every numeric limit of a GPUSupportedLimits (its members are prototype getters, so `for…in`). */
export function limitsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const record: Record<string, number> = {};
  for (const name in limits) {
    const value: unknown = limits[name as keyof GPUSupportedLimits];
    if (typeof value === 'number') record[name] = value;
  }
  return record;
}

/**
 * The `requiredLimits` to ask the adapter for. `min*` limits are alignments, where smaller
 * is better; every other limit is a maximum. Asking beyond the adapter throws a
 * DeviceError here, naming the limit, instead of the browser's generic OperationError.
 */
export function resolveRequiredLimits(
  adapterLimits: Readonly<Record<string, number>>,
  requested: 'adapter' | Readonly<Record<string, number>>,
): Record<string, number> {
  if (requested === 'adapter') return { ...adapterLimits };
  const resolved: Record<string, number> = {};
  for (const [name, value] of Object.entries(requested)) {
    const available = adapterLimits[name];
    if (available === undefined) {
      throw new ArgumentError(
        `requestDevice: unknown limit '${name}'. Fix: use one of ${Object.keys(adapterLimits).sort().join(', ')}.`,
      );
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ArgumentError(`requestDevice: limit ${name} must be a non-negative integer, got ${value}.`);
    }
    const alignment = name.startsWith('min');
    if (alignment ? value < available : value > available) {
      throw new DeviceError(
        `requestDevice: limit ${name}=${value} is beyond this adapter's ${alignment ? 'minimum' : 'maximum'} of ${available}. ` +
          `Fix: ask for ${alignment ? 'at least' : 'at most'} ${available}, or use requiredLimits: 'adapter'.`,
      );
    }
    resolved[name] = value;
  }
  return resolved;
}

/** CPU implementations of WebGPU, by the names their drivers report. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i;

/** Whether an adapter runs on the CPU: flagged as a fallback adapter, or a known CPU driver. */
export function isSoftwareAdapter(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'> & { isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter === true) return true;
  return SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.description}`);
}
