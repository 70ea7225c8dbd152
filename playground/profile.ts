/**
 * Per-kernel GPU time from timestamp queries: each dispatch of an entry runs in its own
 * compute pass that records its start and end on the GPU. The kernels run on scratch
 * buffers of their bindings' sizes (zeros): time depends on sizes, not values, and the
 * session's own buffers stay untouched. Needs the `timestamp-query` feature.
 */

import type { Plan } from '../index.js';
import { createPipelines } from '../runtime/pipelines.js';

const NANOSECONDS_PER_MICROSECOND = 1000;

/** Microseconds per dispatch of each kernel of `entryName`, the best of `repeats` runs. */
export async function timeEntryKernels(device: GPUDevice, plan: Plan, entryName: string, repeats = 5): Promise<number[]> {
  const entry = plan.entries[entryName];
  if (!entry) throw new Error(`timeEntryKernels: the plan has no entry '${entryName}'.`);
  if ((plan.dims ?? []).length > 0) {
    throw new Error(`timeEntryKernels: the plan has symbolic dims (${plan.dims!.join(', ')}); time a plan compiled with them bound (compile(graph, {dims: {...}})).`);
  }
  const kernels = entry.dispatches.map((k) => plan.kernels[k]!);
  if (kernels.length === 0) return [];
  const pipelines = await createPipelines(device, kernels);
  const scratch = new Map<number, GPUBuffer>();
  const bufferOf = (id: number): GPUBuffer => {
    let buffer = scratch.get(id);
    if (!buffer) {
      buffer = device.createBuffer({ label: `scratch #${id}`, size: Number(plan.buffers[id]!.bytes), usage: GPUBufferUsage.STORAGE });
      scratch.set(id, buffer);
    }
    return buffer;
  };
  const count = 2 * kernels.length;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolved = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const bindGroups = kernels.map((kernel, i) =>
      device.createBindGroup({ layout: pipelines[i]!.getBindGroupLayout(0), entries: kernel.bindings.map(({ buffer }, binding) => ({ binding, resource: { buffer: bufferOf(buffer) } })) }),
    );
    const best = kernels.map(() => Infinity);
    for (let run = 0; run < repeats; run++) {
      const encoder = device.createCommandEncoder({ label: `time ${entryName}` });
      kernels.forEach((kernel, i) => {
        const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        pass.setPipeline(pipelines[i]!);
        pass.setBindGroup(0, bindGroups[i]!);
        pass.dispatchWorkgroups(...(kernel.workgroups as readonly [number, number, number]));
        pass.end();
      });
      encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, 8 * count);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      kernels.forEach((_, i) => {
        const nanoseconds = Number(stamps[2 * i + 1]! - stamps[2 * i]!);
        // A pass can read as zero (or wrap) where the implementation quantizes timestamps; keep the runs that measured something.
        if (nanoseconds > 0) best[i] = Math.min(best[i]!, nanoseconds / NANOSECONDS_PER_MICROSECOND);
      });
    }
    return best.map((us) => (Number.isFinite(us) ? us : 0));
  } finally {
    for (const buffer of scratch.values()) buffer.destroy();
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}
