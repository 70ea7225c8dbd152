/**
 * The browser build's runtime/dawn.ts (scripts/build.mjs swaps it in): Dawn is Node's
 * WebGPU, so the browser build carries no `webgpu` or `node:` import for a bundler to
 * trip on. It is reached only where there is no `navigator.gpu` but a `process` (Node
 * loading the browser build, e.g. a test runner resolving the `browser` condition).
 */

import { DeviceError } from '../compiler/errors.js';
import type { DawnAdapter } from './dawn.js';

export async function requestDawnAdapter(_options: GPURequestAdapterOptions): Promise<DawnAdapter> {
  throw new DeviceError(
    "requestDevice: this is kiln-webgpu's browser build, which has no Dawn, and this JavaScript environment has no navigator.gpu. " +
      "Fix: in Node, import kiln-webgpu under the 'node' export condition (Node's default; a bundler targeting the browser picks " +
      "the browser build), and run 'npm install webgpu'; in a browser, use one with WebGPU.",
  );
}
