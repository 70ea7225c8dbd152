/**
 * The device limits kiln generates kernels for and checks plans against. A module of its
 * own, with no imports, because the runtime checks a plan against its device's limits
 * without bringing in the code generator.
 */

/** Device limits the code generator respects. */
export interface KernelLimits {
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupSizeZ: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
}

/** WebGPU's guaranteed minimums: a plan compiled against these runs on every adapter. */
export const DEFAULT_LIMITS: KernelLimits = Object.freeze({
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
});

/**
 * The limits kernels are generated for: each one given (a `device.limits`, or a partial
 * record), WebGPU's guaranteed minimum for the rest.
 */
export function kernelLimits(given: Partial<KernelLimits> | GPUSupportedLimits | undefined): KernelLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof KernelLimits)[]) {
    const value = (given as Partial<KernelLimits> | undefined)?.[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits;
}

/** The most invocations a 1-D workgroup (`@workgroup_size(n)`) may have on a device with `limits`. */
export function maxWorkgroupWidth(limits: Pick<KernelLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'>): number {
  return Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}
