/** The page's first script (classic, not a module): counters in place before any library loads. */

import { installGpuCounters } from './gpu-counters.js';

if ('GPUQueue' in globalThis) installGpuCounters(globalThis as unknown as Parameters<typeof installGpuCounters>[0]);
