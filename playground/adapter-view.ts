/**
 * The WebGPU adapter the page runs on: its name, whether it is a CPU implementation,
 * its features and limits; or, without WebGPU, why and how to enable it (compiling and
 * inspecting still work: only running needs a device). Also acquires that device.
 */

import type { KilnDevice } from '../runtime.js';
import { requestDevice } from '../runtime.js';
import { limitsRecord } from '../runtime/device.js';
import { el } from './dom.js';

/** The page's device, if it has one, and whether it can time kernels. */
export interface Device {
  readonly gpu?: KilnDevice;
  readonly problem?: string;
  readonly timestamps: boolean;
}

/** The device, with timestamp queries when the adapter has them; or why there is none. */
export async function acquireDevice(): Promise<Device> {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    const timestamps = adapter?.features.has('timestamp-query') ?? false;
    const gpu = await requestDevice(timestamps ? { requiredFeatures: ['timestamp-query'] } : {});
    return { gpu, timestamps };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error), timestamps: false };
  }
}

/** A one-line description for the header, e.g. `SwiftShader (CPU) · browser`. */
export function adapterSummary(gpu: KilnDevice | undefined): string {
  if (!gpu) return 'no WebGPU';
  const { vendor, architecture, description, software } = gpu.info;
  const name = description || [vendor, architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  return `${name}${software ? ' (CPU)' : ''}`;
}

export function renderAdapter(root: HTMLElement, gpu: KilnDevice | undefined, problem: string | undefined): void {
  if (!gpu) {
    root.replaceChildren(
      el('div', { class: 'notice error', id: 'webgpu-missing' }, el('b', {}, 'WebGPU is not available here. '), problem ?? ''),
      el('p', {}, 'The graph, kernels, WGSL and memory plan are still shown: compiling needs no GPU. Forward and training need WebGPU.'),
      el(
        'ul',
        {},
        el('li', {}, 'Chrome or Edge 113+ on Windows, macOS and ChromeOS have it on by default; Safari 26+ and Firefox 141+ too.'),
        el('li', {}, 'On Linux: open chrome://flags, enable "Unsafe WebGPU Support" (#enable-unsafe-webgpu) and "Vulkan" (#enable-vulkan), and relaunch; or start Chromium with --enable-unsafe-webgpu --enable-features=Vulkan.'),
        el('li', {}, 'Serve the page from http://localhost or http://127.0.0.1 (npm run playground does): WebGPU needs a secure context.'),
        el('li', {}, 'chrome://gpu says why a GPU is blocklisted.'),
      ),
    );
    return;
  }
  const { vendor, architecture, description, software, backend } = gpu.info;
  const features = [...gpu.adapter.features].sort();
  const limits = Object.entries(limitsRecord(gpu.limits)).sort(([a], [b]) => a.localeCompare(b));
  root.replaceChildren(
    el(
      'table',
      { class: 'facts', id: 'adapter-facts' },
      ...[
        ['adapter', description || '(no description)'],
        ['vendor', vendor || '(not reported)'],
        ['architecture', architecture || '(not reported)'],
        ['backend', backend],
        ['kind', software ? 'CPU implementation: correct, but slow; compare speeds only within one run' : 'hardware GPU'],
      ].map(([key, value]) => el('tr', {}, el('th', {}, key!), el('td', {}, value!))),
    ),
    el('h4', {}, `features (${features.length})`),
    el('p', { class: 'chips' }, ...(features.length > 0 ? features.map((f) => el('span', { class: 'chip' }, f)) : ['none'])),
    el('h4', {}, `limits (${limits.length}, as the device was created)`),
    el('table', { class: 'facts limits' }, ...limits.map(([name, value]) => el('tr', {}, el('th', {}, name), el('td', { class: 'num' }, value.toLocaleString('en-US'))))),
  );
}
