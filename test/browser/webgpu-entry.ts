/**
 * The page side of the browser WebGPU test, bundled by esbuild: acquires a device with
 * kiln's requestDevice and runs the shared affine kernel. Results (or the error) are
 * returned as plain data, since only data crosses from the page to puppeteer.
 */

import type { DeviceInfo } from '../../runtime/device.js';
import { requestDevice } from '../../runtime/device.js';
import { affineInput, runAffineKernel } from '../runtime/affine-kernel.js';

export type SmokeResult =
  | { readonly ok: true; readonly info: DeviceInfo; readonly x: number[]; readonly y: number[]; readonly maxWorkgroups: number }
  | { readonly ok: false; readonly name: string; readonly message: string };

declare global {
  interface Window {
    kilnSmoke(length: number): Promise<SmokeResult>;
  }
}

window.kilnSmoke = async (length) => {
  try {
    const gpu = await requestDevice();
    const x = affineInput(length);
    const y = await runAffineKernel(gpu.device, x);
    const maxWorkgroups = gpu.limits.maxComputeWorkgroupsPerDimension;
    gpu.destroy();
    return { ok: true, info: gpu.info, x: Array.from(x), y: Array.from(y), maxWorkgroups };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return { ok: false, name, message };
  }
};
