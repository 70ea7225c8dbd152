/**
 * Counts compute dispatches and queue submits of every library on the page (or in the
 * Node process) by wrapping `GPUComputePassEncoder.prototype.dispatchWorkgroups(Indirect)`
 * and `GPUQueue.prototype.submit`. It must run before any library loads, so none holds
 * an unwrapped method: in the browser it is a classic script ahead of the module bundle,
 * in Node it runs before the systems are imported. The counts live on `globalThis`, so
 * the separately bundled harness reads the same counters.
 */

export interface GpuCounts {
  readonly dispatches: number;
  readonly submits: number;
}

/** The WebGPU classes whose prototypes are wrapped: `globalThis` in a browser, `webgpu`'s globals in Node. */
export interface WebGPUClasses {
  readonly GPUComputePassEncoder: { prototype: GPUComputePassEncoder };
  readonly GPUQueue: { prototype: GPUQueue };
}

const KEY = '__kilnBenchGpuCounts';
type Counter = { dispatches: number; submits: number };
const store = globalThis as typeof globalThis & { [KEY]?: Counter };

function wrap<T extends object>(prototype: T, method: keyof T & string, count: (counter: Counter) => void): void {
  const original = prototype[method] as unknown as (...args: unknown[]) => unknown;
  Object.defineProperty(prototype, method, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      count(store[KEY]!);
      return original.apply(this, args);
    },
  });
}

/** Wraps the prototypes once; later calls do nothing. */
export function installGpuCounters(classes: WebGPUClasses): void {
  if (store[KEY]) return;
  store[KEY] = { dispatches: 0, submits: 0 };
  wrap(classes.GPUComputePassEncoder.prototype, 'dispatchWorkgroups', (c) => c.dispatches++);
  wrap(classes.GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', (c) => c.dispatches++);
  wrap(classes.GPUQueue.prototype, 'submit', (c) => c.submits++);
}

/** The counts so far, or undefined when the counters were never installed. */
export function readGpuCounts(): GpuCounts | undefined {
  const counter = store[KEY];
  return counter && { ...counter };
}
