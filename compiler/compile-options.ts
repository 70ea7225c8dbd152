/**
 * The checks of `compile`'s and `compileStages`'s arguments: a graph or a training
 * program, and options with known keys and values. A misspelled key (`fusion: false`),
 * an option kiln does not have (`precision`) or a limit that is not a positive integer
 * would otherwise be ignored and the plan built for something the user did not ask for.
 */

import { checkTuningTable } from './codegen/tuning.js';
import { ArgumentError } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { checkKeys } from './ops/args.js';
import { Graph, graphDims } from './graph.js';
import { checkDimSizes } from './passes/bind-dims.js';
import { requireProgramSource } from './passes/program.js';

const OPTION_KEYS = ['fuse', 'simplify', 'memory', 'limits', 'tuning', 'check', 'dims', 'maxDims'];
const FLAGS = ['fuse', 'simplify', 'memory', 'check'];
const KERNEL_LIMIT_KEYS = Object.keys(DEFAULT_LIMITS);

/**
 * WebGPU's other limits (`GPUSupportedLimits`): a record copied from a device's limits
 * holds them too, so they are accepted in `limits` (and not used); any other key is a typo.
 */
const OTHER_WEBGPU_LIMITS = new Set([
  'maxTextureDimension1D', 'maxTextureDimension2D', 'maxTextureDimension3D', 'maxTextureArrayLayers', 'maxBindGroups',
  'maxBindGroupsPlusVertexBuffers', 'maxBindingsPerBindGroup', 'maxDynamicUniformBuffersPerPipelineLayout',
  'maxDynamicStorageBuffersPerPipelineLayout', 'maxSampledTexturesPerShaderStage', 'maxSamplersPerShaderStage',
  'maxStorageTexturesPerShaderStage', 'maxUniformBuffersPerShaderStage', 'maxUniformBufferBindingSize',
  'minUniformBufferOffsetAlignment', 'minStorageBufferOffsetAlignment', 'maxVertexBuffers', 'maxVertexAttributes',
  'maxVertexBufferArrayStride', 'maxInterStageShaderComponents', 'maxInterStageShaderVariables', 'maxColorAttachments',
  'maxColorAttachmentBytesPerSample', 'maxStorageBuffersInVertexStage', 'maxStorageBuffersInFragmentStage',
  'maxStorageTexturesInVertexStage', 'maxStorageTexturesInFragmentStage', 'maxImmediateSize', 'minSubgroupSize', 'maxSubgroupSize',
]);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string '${value}'` : typeof value === 'number' ? String(value) : typeof value;
}

function checkLimits(where: string, limits: unknown): void {
  if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) {
    throw new ArgumentError(`${where}: limits must be device.limits or a record such as {maxStorageBufferBindingSize: 134217728}, got ${describe(limits)}.`);
  }
  // A device's GPUSupportedLimits keeps its values on its prototype; a plain record is the user's own, so its keys are checked.
  if (Object.getPrototypeOf(limits) === Object.prototype) {
    const unknown = Object.keys(limits).find((key) => !KERNEL_LIMIT_KEYS.includes(key) && !OTHER_WEBGPU_LIMITS.has(key));
    if (unknown !== undefined) {
      throw new ArgumentError(`${where}: limits has an unknown key '${unknown}'. Limits kiln uses: ${KERNEL_LIMIT_KEYS.join(', ')}.`);
    }
  }
  for (const key of KERNEL_LIMIT_KEYS) {
    const value = (limits as Record<string, unknown>)[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) {
      throw new ArgumentError(`${where}: limits.${key} must be a positive integer, got ${describe(value)}. Pass device.limits, or leave it out for WebGPU's minimum.`);
    }
  }
}

/** Checks what `compile` (or `compileStages`, named by `where`) was given. */
export function checkCompileCall(where: string, source: unknown, options: unknown): void {
  requireProgramSource(where, source);
  if (options === undefined) return;
  checkKeys(where, options, OPTION_KEYS);
  const given = options as Record<string, unknown>;
  for (const flag of FLAGS) {
    if (given[flag] !== undefined && typeof given[flag] !== 'boolean') {
      throw new ArgumentError(`${where}: ${flag} must be true or false, got ${describe(given[flag])}.`);
    }
  }
  if (given['limits'] !== undefined) checkLimits(where, given['limits']);
  if (given['tuning'] !== undefined) checkTuningTable(given['tuning']);
  checkDimOptions(where, source instanceof Graph ? source : source.graph, given['dims'], given['maxDims']);
}

/** `dims` binds dims of the graph; `maxDims` bounds those left symbolic (a dim `dims` binds has no maximum to give). */
function checkDimOptions(where: string, graph: Graph, dims: unknown, maxDims: unknown): void {
  const all = graphDims(graph);
  const bound = dims === undefined ? {} : checkDimSizes(where, dims, all, 'dims');
  if (maxDims === undefined) return;
  const open = all.filter((name) => !(name in bound));
  const named = Object.keys(checkDimSizes(where, maxDims, all, 'maxDims')).find((name) => !open.includes(name));
  if (named !== undefined) {
    throw new ArgumentError(`${where}: maxDims names '${named}', which dims binds to ${bound[named]}; a bound dim is static. Fix: leave it out of one of them.`);
  }
}
