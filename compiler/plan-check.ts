/**
 * Checks a plan before the runtime trusts it: a plan is JSON that may have been shipped,
 * stored or hand-edited, so every id, size and name it holds is verified first, and a bad
 * one is reported by where it is, not by a GPU validation error later. A plan compiled
 * for a larger device is caught here too, by the limit it exceeds.
 */

import { ArgumentError, DeviceLimitError, PlanError } from './errors.js';
import type { Plan, PlanBinding, PlanBuffer, PlanSize } from './plan-format.js';
import { evaluatePlanSize, PLAN_FORMAT, PLAN_VERSION, planSizeNames, requirePlan } from './plan-format.js';
import { checkMemoryPlan } from './liveness.js';
import type { KernelLimits } from './limits.js';
import { DEFAULT_LIMITS, kernelLimits } from './limits.js';
import { kernelLimitProblems, kernelResources, withoutComments } from './kernel-fit.js';

/**
 * The device limits a plan must fit (a `GPUSupportedLimits` has them all). Those about
 * workgroups may be left out: WebGPU's guaranteed minimums stand in for them.
 */
export type PlanLimits = Pick<
  GPUSupportedLimits,
  'maxComputeWorkgroupsPerDimension' | 'maxStorageBuffersPerShaderStage' | 'maxStorageBufferBindingSize' | 'maxBufferSize'
> &
  Partial<Pick<KernelLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupSizeY' | 'maxComputeWorkgroupSizeZ' | 'maxComputeWorkgroupStorageSize'>>;

const ROLES = new Set(['input', 'param', 'state', 'const', 'transient']);
const DTYPES = new Set(['f32', 'i32', 'bool']);
const KERNEL_KINDS = new Set(['loop', 'input', 'epilogue', 'sibling', 'row', 'single', 'init']);
const ACCESSES = new Set(['read', 'read_write']);
/**
 * A resource variable of a kernel's WGSL: its attributes (`@group(g) @binding(b)`, in
 * either order), address space and access (`<storage, read>`), and name. The plan check
 * is the one reader of generated WGSL: everything else reads a kernel's recorded fields.
 */
const RESOURCE_DECLARATION = /((?:@\s*(?:group|binding)\s*\([^)]*\)\s*)+)var\s*(?:<([^>]*)>)?\s*(\w+)/g;
const ATTRIBUTE = /@\s*(group|binding)\s*\(\s*([^)]*?)\s*\)/g;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Symbolic sizes are compared at sample dims, all 1 and distinct primes (a wrong product or coefficient shows at one). */
const SAMPLE_SIZES = [1, 7, 11, 13, 17, 19, 23, 29];
type Samples = readonly Readonly<Record<string, number>>[];
const elements = (shape: readonly PlanSize[], dims: Readonly<Record<string, number>> = {}): number => shape.reduce((a: number, d) => a * evaluatePlanSize(d, dims), 1);
const isStatic = (shape: readonly unknown[]): boolean => shape.every((d) => typeof d === 'number');

function fail(where: string, problem: string): never {
  throw new PlanError(`invalid plan: ${where}: ${problem}. The plan is corrupted or was hand-edited; recompile it with compile().`);
}

/** Throws a PlanError naming the first field of `plan` that is malformed. */
export function validatePlan(plan: unknown): asserts plan is Plan {
  if (!isRecord(plan)) fail('plan', `expected an object, got ${plan === null ? 'null' : Array.isArray(plan) ? 'an array' : typeof plan}`);
  if (plan['format'] !== PLAN_FORMAT) fail('format', `expected '${PLAN_FORMAT}', got ${JSON.stringify(plan['format'])}`);
  if (isCount(plan['version']) && plan['version'] < PLAN_VERSION) {
    throw new PlanError(
      `plan version ${plan['version']} was written by an older kiln (this one reads version ${PLAN_VERSION}: sizes may be symbolic in the plan's dims, and kernels record their bindings as {buffer, access} and their workgroupSize). ` +
        'Recompile it with compile().',
    );
  }
  if (plan['version'] !== PLAN_VERSION) fail('version', `expected ${PLAN_VERSION}, got ${JSON.stringify(plan['version'])}`);
  if (typeof plan['name'] !== 'string') fail('name', 'must be a string');
  if (!Array.isArray(plan['buffers'])) fail('buffers', 'must be an array');
  if (!Array.isArray(plan['kernels'])) fail('kernels', 'must be an array');
  if (!isRecord(plan['entries'])) fail('entries', 'must be an object');
  const dims = checkDims(plan['dims'], plan['maxDims']);
  const samples: Samples = [0, 1].map((s) => Object.fromEntries(dims.map((name, i) => [name, s === 0 ? 1 : SAMPLE_SIZES[(i % 7) + 1]! + 30 * Math.floor(i / 7)])));
  const buffers = plan['buffers'] as unknown[];
  buffers.forEach((b, i) => checkBuffer(b, i, dims, samples));
  checkNamesUnique(plan['buffers'] as PlanBuffer[]);
  const valid = plan as unknown as Plan;
  const bufferId = (where: string, id: unknown): PlanBuffer => {
    if (!isCount(id) || id >= buffers.length) fail(where, `buffer id ${JSON.stringify(id)} does not exist (the plan has ${buffers.length} buffers)`);
    return valid.buffers[id]!;
  };
  (plan['kernels'] as unknown[]).forEach((kernel, i) => checkKernel(kernel, i, bufferId, dims));
  for (const [name, entry] of Object.entries(plan['entries'])) checkEntry(name, entry, valid, bufferId, dims, samples);
  if (!('init' in plan['entries'])) fail('entries', "the 'init' entry is missing");
  if (Object.keys(valid.entries['init']!.inputs).length > 0) fail('entries.init.inputs', 'init takes no inputs');
  checkRecordedLimits(plan['limits']);
  const allocations = plan['allocations'];
  if (allocations !== undefined) {
    if (!Array.isArray(allocations)) fail('allocations', 'must be an array of {bytes}');
    allocations.forEach((a: unknown, i: number) => {
      const bytes = isRecord(a) ? a['bytes'] : undefined;
      if (!isCount(bytes) || bytes < 4 || bytes % 4 !== 0) fail(`allocations[${i}].bytes`, `must be a multiple of 4, at least 4, got ${JSON.stringify(bytes)}`);
    });
  }
  // Shared memory must never hold two live values: a wrong assignment would corrupt results silently.
  checkMemoryPlan(valid);
}

/** The limits a plan was compiled for: every one kiln uses, each a positive integer, and no other. */
function checkRecordedLimits(limits: unknown): void {
  const keys = Object.keys(DEFAULT_LIMITS);
  if (!isRecord(limits)) fail('limits', `must be the device limits the plan was compiled for ({${keys.join(', ')}}), got ${JSON.stringify(limits)}`);
  const unknown = Object.keys(limits).find((key) => !keys.includes(key));
  if (unknown !== undefined) fail(`limits.${unknown}`, `is not a limit kiln compiles for (${keys.join(', ')})`);
  for (const key of keys) {
    const value = limits[key];
    if (!isCount(value) || value === 0) fail(`limits.${key}`, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** The plan's dim names (unique identifiers, the size block's order) and maxDims (a positive integer per dim of those). */
function checkDims(dims: unknown, maxDims: unknown): string[] {
  if (dims === undefined && maxDims !== undefined) fail('maxDims', 'the plan has no dims to bound');
  if (dims === undefined) return [];
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d))) fail('dims', `must be an array of dim names, got ${JSON.stringify(dims)}`);
  const repeated = dims.find((d, i) => dims.indexOf(d) !== i);
  if (repeated !== undefined) fail('dims', `names '${repeated}' twice`);
  if (maxDims !== undefined) {
    if (!isRecord(maxDims)) fail('maxDims', `must be an object {dim: largest size}, got ${JSON.stringify(maxDims)}`);
    for (const [name, max] of Object.entries(maxDims)) {
      if (!dims.includes(name)) fail(`maxDims.${name}`, `is not one of the plan's dims (${dims.join(', ') || 'none'})`);
      if (!isCount(max) || max < 1) fail(`maxDims.${name}`, `must be a positive integer, got ${JSON.stringify(max)}`);
    }
  }
  return dims as string[];
}

/** Whether `size` is a number or a symbolic size in the plan's dims; a malformed one or an unknown name fails at `where`. */
function checkSize(where: string, size: unknown, dims: readonly string[]): size is PlanSize {
  if (isCount(size)) return true;
  if (typeof size !== 'string') fail(where, `must be a non-negative integer or a symbolic size such as "784*batch", got ${JSON.stringify(size)}`);
  let names: string[] = [];
  try {
    names = planSizeNames(size);
  } catch (error) {
    fail(where, (error as Error).message.replace(/\.$/, ''));
  }
  const unknown = names.find((name) => !dims.includes(name));
  if (unknown !== undefined) fail(where, `size '${size}' names dim '${unknown}', which is not one of the plan's dims (${dims.join(', ') || 'none'})`);
  return true;
}

function checkBuffer(b: unknown, i: number, dims: readonly string[], samples: Samples): void {
  const where = `buffers[${i}]`;
  if (!isRecord(b)) fail(where, 'must be an object');
  if (b['id'] !== i) fail(`${where}.id`, `${JSON.stringify(b['id'])} does not match its position ${i}`);
  if (typeof b['name'] !== 'string') fail(`${where}.name`, 'must be a string');
  if (!ROLES.has(b['role'] as string)) fail(`${where}.role`, `unknown role ${JSON.stringify(b['role'])} (input, param, state, const or transient)`);
  if (!DTYPES.has(b['dtype'] as string)) fail(`${where}.dtype`, `unknown dtype ${JSON.stringify(b['dtype'])} (f32, i32 or bool)`);
  const shape = b['shape'];
  if (!Array.isArray(shape)) fail(`${where}.shape`, `must be an array of sizes, got ${JSON.stringify(shape)}`);
  shape.forEach((d: unknown, axis: number) => checkSize(`${where}.shape[${axis}]`, d, dims));
  const bytes = b['bytes'];
  if (!isStatic(shape)) {
    // Params, state and consts keep their memory for the session's life: their sizes are static.
    if (b['role'] !== 'input' && b['role'] !== 'transient') fail(`${where}.shape`, `a ${String(b['role'])} buffer's shape must be static, got [${shape.join(',')}]`);
    checkSize(`${where}.bytes`, bytes, dims);
    for (const at of samples) {
      const [count, held] = [elements(shape, at), evaluatePlanSize(bytes as PlanSize, at)];
      if (held < count * 4 || held % 4 !== 0) fail(`${where}.bytes`, `'${String(bytes)}' cannot hold the ${count} elements of [${shape.join(',')}] at ${JSON.stringify(at)} (needs a multiple of 4, at least ${count * 4})`);
    }
  }
  const count = elements(isStatic(shape) ? shape : []);
  if (isStatic(shape) && (!isCount(bytes) || bytes < Math.max(4, count * 4) || bytes % 4 !== 0)) {
    fail(`${where}.bytes`, `${JSON.stringify(bytes)} cannot hold ${count} elements (needs a multiple of 4, at least ${Math.max(4, count * 4)})`);
  }
  const data = b['data'];
  if (data !== undefined) {
    if (b['role'] !== 'const') fail(`${where}.data`, 'only const buffers carry data');
    const isPlanNumber = (v: unknown): boolean => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
    if (!Array.isArray(data) || (data.length !== 1 && data.length !== count) || !data.every(isPlanNumber)) {
      fail(`${where}.data`, `must be 1 or ${count} numbers ('NaN', 'Infinity' and '-Infinity' as strings)`);
    }
    const fits = (v: unknown): boolean =>
      b['dtype'] === 'i32' ? Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 : b['dtype'] === 'bool' ? v === 0 || v === 1 : true;
    const bad = data.findIndex((v: unknown) => !fits(v));
    if (bad >= 0) fail(`${where}.data[${bad}]`, `${JSON.stringify(data[bad])} is not ${b['dtype'] === 'i32' ? 'an i32 integer' : 'a bool (0 or 1)'}`);
  } else if (b['role'] === 'const') {
    fail(`${where}.data`, 'a const buffer needs data');
  }
  const range = b['valueRange'];
  if (range !== undefined) {
    if (b['role'] !== 'input') fail(`${where}.valueRange`, 'only input buffers carry a value range');
    const isBound = (v: unknown): boolean => typeof v === 'number' && !Number.isNaN(v);
    if (!isRecord(range) || !isBound(range['min']) || !isBound(range['max']) || (range['min'] as number) > (range['max'] as number) || typeof range['reason'] !== 'string') {
      fail(`${where}.valueRange`, `must be {min, max, reason} with numbers min <= max and a string reason, got ${JSON.stringify(range)}`);
    }
  }
}

/** Inputs, params and state are fed, set and saved by name: two by one name would be ambiguous. */
function checkNamesUnique(buffers: readonly PlanBuffer[]): void {
  const seen = new Map<string, PlanBuffer>();
  for (const b of buffers) {
    if (b.role === 'transient' || b.role === 'const') continue;
    const earlier = seen.get(b.name);
    if (earlier) fail(`buffers[${b.id}].name`, `'${b.name}' is also the name of buffer #${earlier.id} (${earlier.role}); inputs, params and state need unique names`);
    seen.set(b.name, b);
  }
}

function checkKernel(k: unknown, i: number, bufferId: (where: string, id: unknown) => PlanBuffer, dims: readonly string[]): void {
  if (!isRecord(k)) fail(`kernels[${i}]`, 'must be an object');
  const where = `kernels[${i}] (${String(k['name'])})`;
  if (typeof k['name'] !== 'string') fail(`${where}.name`, 'must be a string');
  if (typeof k['wgsl'] !== 'string') fail(`${where}.wgsl`, 'must be a string');
  const bindings = k['bindings'];
  if (!Array.isArray(bindings)) fail(`${where}.bindings`, 'must be an array of {buffer, access}');
  const buffers = bindings.map((binding: unknown, b: number) => {
    const at = `${where}.bindings[${b}]`;
    if (!isRecord(binding)) fail(at, `must be an object {buffer, access}, got ${JSON.stringify(binding)}`);
    const buffer = bufferId(`${at}.buffer`, binding['buffer']);
    if (!ACCESSES.has(binding['access'] as string)) fail(`${at}.access`, `unknown access ${JSON.stringify(binding['access'])} (read or read_write)`);
    return buffer;
  });
  checkNoWritableAlias(where, bindings as PlanBinding[], buffers);
  const workgroups = k['workgroups'];
  if (!Array.isArray(workgroups) || workgroups.length !== 3) fail(`${where}.workgroups`, `must be three workgroup counts, got ${JSON.stringify(workgroups)}`);
  workgroups.forEach((count: unknown, axis: number) => {
    const at = `${where}.workgroups[${axis}]`;
    if (isCount(count)) return;
    if (!isRecord(count) || typeof count['size'] !== 'string' || !isCount(count['per']) || count['per'] === 0) {
      fail(at, `must be a non-negative integer or {size, per} (ceil(size / per) workgroups, per a positive integer), got ${JSON.stringify(count)}`);
    }
    checkSize(`${at}.size`, count['size'], dims);
  });
  for (const flag of ['foldX', 'readsDims', 'elementwise']) if (k[flag] !== undefined && typeof k[flag] !== 'boolean') fail(`${where}.${flag}`, 'must be a boolean');
  if (k['foldX'] === true && workgroups[1] !== 1) fail(`${where}.foldX`, `folds x into y, so y must be 1, got ${JSON.stringify(workgroups[1])}`);
  if (k['readsDims'] === true && dims.length === 0) fail(`${where}.readsDims`, 'the kernel reads the size block, but the plan has no dims');
  const workgroupSize = k['workgroupSize'];
  if (!Array.isArray(workgroupSize) || workgroupSize.length !== 3 || !workgroupSize.every((n) => isCount(n) && n > 0)) {
    fail(`${where}.workgroupSize`, `must be three positive integers, got ${JSON.stringify(workgroupSize)}`);
  }
  const storageBytes = k['workgroupStorageBytes'];
  if (!isCount(storageBytes)) fail(`${where}.workgroupStorageBytes`, `must be a non-negative integer, got ${JSON.stringify(storageBytes)}`);
  checkDeclarations(where, k['wgsl'], bindings as PlanBinding[], buffers, k['readsDims'] === true, dims);
  const declared = kernelResources(k['wgsl']);
  if (declared.workgroupSize && declared.workgroupSize.some((n, axis) => n !== workgroupSize[axis])) {
    fail(`${where}.workgroupSize`, `is [${workgroupSize.join(', ')}] but the WGSL declares @workgroup_size(${declared.workgroupSize.join(', ')})`);
  }
  // The device-limit check trusts the recorded bytes, so WGSL whose storage cannot be sized here (a struct) is refused.
  if (declared.workgroupStorageBytes !== storageBytes) {
    const spelled = declared.workgroupStorageBytes === undefined ? 'workgroup variables of a type the plan checker cannot size (declare arrays of scalars or vectors)' : `${declared.workgroupStorageBytes} bytes of workgroup storage`;
    fail(`${where}.workgroupStorageBytes`, `is ${storageBytes} but the WGSL declares ${spelled}`);
  }
  const nodes = k['nodes'];
  const ops = k['ops'];
  if (!Array.isArray(nodes) || !nodes.every(isCount)) fail(`${where}.nodes`, 'must be an array of node ids');
  if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string')) fail(`${where}.ops`, 'must be an array of op names');
  if (nodes.length !== ops.length) fail(where, `has ${nodes.length} nodes but ${ops.length} ops`);
  if (k['kind'] !== undefined && !KERNEL_KINDS.has(k['kind'] as string)) fail(`${where}.kind`, `unknown kind ${JSON.stringify(k['kind'])} (${[...KERNEL_KINDS].join(', ')})`);
  if (k['reason'] !== undefined && typeof k['reason'] !== 'string') fail(`${where}.reason`, 'must be a string');
}

/** WebGPU forbids a buffer bound writable in one binding and bound again in another of the same dispatch. */
function checkNoWritableAlias(where: string, bindings: readonly PlanBinding[], buffers: readonly PlanBuffer[]): void {
  bindings.forEach((binding, b) => {
    const earlier = bindings.findIndex((other, o) => o < b && other.buffer === binding.buffer);
    if (earlier >= 0 && (binding.access === 'read_write' || bindings[earlier]!.access === 'read_write')) {
      fail(
        `${where}.bindings[${b}]`,
        `binds buffer #${binding.buffer} (${buffers[b]!.name}) again (also @binding(${earlier})), and one of the two is read_write: WebGPU forbids a writable binding that aliases another`,
      );
    }
  });
}

/**
 * The WGSL must declare exactly the bindings the plan binds, 0 … count − 1 in group 0,
 * each a storage buffer with the plan's access: a bind group that does not match its
 * pipeline is a validation error the GPU reports only asynchronously, and the dispatch
 * would then not run, leaving stale values.
 */
function checkDeclarations(where: string, wgsl: string, bindings: readonly PlanBinding[], buffers: readonly PlanBuffer[], readsDims: boolean, dims: readonly string[]): void {
  const declared = new Map<number, { name: string; space: string; access: string | undefined }>();
  const code = withoutComments(wgsl);
  let sizeBlock = false;
  for (const [, attributes, template, name] of code.matchAll(RESOURCE_DECLARATION)) {
    const values = new Map([...attributes!.matchAll(ATTRIBUTE)].map(([, attribute, value]) => [attribute!, value!]));
    const [group, binding] = [values.get('group'), values.get('binding')];
    const spelled = `${group === undefined ? '' : `@group(${group}) `}${binding === undefined ? '' : `@binding(${binding}) `}var ${name}`;
    if (group === undefined || binding === undefined || ![group, binding].every((v) => /^\d+[ui]?$/.test(v))) {
      fail(`${where}.wgsl`, `declares ${spelled}; every binding needs a literal @group(0) and @binding(i)`);
    }
    if (parseInt(group, 10) === 1 && parseInt(binding, 10) === 0 && template?.trim() === 'uniform' && name === 'kiln_dims') {
      sizeBlock = true;
      continue;
    }
    if (parseInt(group, 10) !== 0) fail(`${where}.wgsl`, `declares ${spelled}; kernels use group 0, and group 1 only for the size block (@group(1) @binding(0) var<uniform> kiln_dims)`);
    const index = parseInt(binding, 10);
    const earlier = declared.get(index);
    if (earlier) fail(`${where}.wgsl`, `declares @binding(${index}) twice (${earlier.name} and ${name})`);
    if (index >= bindings.length) {
      fail(`${where}.wgsl`, `declares @binding(${index}) (${name}), which the plan does not bind (it binds ${bindings.length} buffers${bindings.length > 0 ? `, @binding(0) to @binding(${bindings.length - 1})` : ''})`);
    }
    const [space = '', access] = (template ?? '').split(',').map((part) => part.trim());
    declared.set(index, { name: name!, space, access: access ?? (space === 'storage' ? 'read' : undefined) });
  }
  if (sizeBlock !== readsDims) {
    fail(`${where}.readsDims`, `is ${readsDims} but the WGSL ${sizeBlock ? 'declares' : 'does not declare'} the size block @group(1) @binding(0) var<uniform> kiln_dims`);
  }
  if (sizeBlock) {
    // The runtime writes one u32 per plan dim in the plan's order: the struct must read them there.
    const members = /struct\s+KilnDims\s*\{([^}]*)\}/.exec(code)?.[1]?.split(',').map((m) => m.trim()).filter((m) => m !== '');
    const matches = members?.length === dims.length && members.every((m, i) => new RegExp(`^(?:${dims[i]}|dim_\\w+)\\s*:\\s*u32$`).test(m));
    if (!matches) fail(`${where}.wgsl`, `its struct KilnDims must hold one u32 per plan dim in order (${dims.join(', ')}), got {${members?.join(', ') ?? 'no struct KilnDims'}}`);
  }
  bindings.forEach(({ buffer, access }, b) => {
    const declaration = declared.get(b);
    const at = `${where}.bindings[${b}]`;
    if (!declaration) fail(at, `buffer #${buffer} (${buffers[b]!.name}) is bound at @binding(${b}), which the WGSL does not declare`);
    if (declaration.space !== 'storage' || declaration.access !== access) {
      const spelled = declaration.space === '' ? `var ${declaration.name}` : `var<${declaration.space}${declaration.access === undefined ? '' : `, ${declaration.access}`}> ${declaration.name}`;
      fail(at, `is var<storage, ${access}> in the plan but the WGSL declares @binding(${b}) as ${spelled}`);
    }
  });
}

function checkEntry(name: string, entry: unknown, plan: Plan, bufferId: (where: string, id: unknown) => PlanBuffer, dims: readonly string[], samples: Samples): void {
  const where = `entries.${name}`;
  if (!isRecord(entry)) fail(where, 'must be an object');
  if (!isRecord(entry['inputs'])) fail(`${where}.inputs`, 'must be an object of buffer ids');
  for (const [input, id] of Object.entries(entry['inputs'])) {
    const buffer = bufferId(`${where}.inputs.${input}`, id);
    if (buffer.role !== 'input') fail(`${where}.inputs.${input}`, `buffer #${buffer.id} (${buffer.name}) has role ${buffer.role}, not input`);
  }
  if (!isRecord(entry['outputs'])) fail(`${where}.outputs`, 'must be an object of buffer ids');
  for (const [output, id] of Object.entries(entry['outputs'])) bufferId(`${where}.outputs.${output}`, id);
  const outputShapes = entry['outputShapes'];
  if (outputShapes !== undefined) {
    if (!isRecord(outputShapes)) fail(`${where}.outputShapes`, 'must be an object of shapes');
    for (const [output, shape] of Object.entries(outputShapes)) {
      const at = `${where}.outputShapes.${output}`;
      if (!Object.hasOwn(entry['outputs'], output)) fail(at, 'is not an output of this entry');
      if (!Array.isArray(shape)) fail(at, `must be an array of sizes, got ${JSON.stringify(shape)}`);
      shape.forEach((d: unknown, axis: number) => checkSize(`${at}[${axis}]`, d, dims));
      const buffer = plan.buffers[entry['outputs'][output] as number]!;
      for (const sizes of samples) {
        if (elements(shape, sizes) !== elements(buffer.shape, sizes)) fail(at, `[${shape.join(',')}] does not have the elements of buffer #${buffer.id} (${buffer.name}, [${buffer.shape.join(',')}])`);
      }
    }
  }
  const dispatches = entry['dispatches'];
  if (!Array.isArray(dispatches)) fail(`${where}.dispatches`, 'must be an array of kernel indices');
  dispatches.forEach((k: unknown, d: number) => {
    if (!isCount(k) || k >= plan.kernels.length) fail(`${where}.dispatches[${d}]`, `kernel ${JSON.stringify(k)} does not exist (the plan has ${plan.kernels.length} kernels)`);
  });
  const copies = entry['copies'];
  if (!Array.isArray(copies)) fail(`${where}.copies`, 'must be an array of {from, to}');
  const written = new Set<number>();
  copies.forEach((copy: unknown, c: number) => {
    const at = `${where}.copies[${c}]`;
    if (!isRecord(copy)) fail(at, 'must be an object {from, to}');
    const from = bufferId(`${at}.from`, copy['from']);
    const to = bufferId(`${at}.to`, copy['to']);
    if (to.role !== 'param' && to.role !== 'state') fail(`${at}.to`, `buffer #${to.id} (${to.name}) has role ${to.role}, not param or state`);
    if (from.bytes !== to.bytes) fail(at, `#${from.id} (${from.name}, ${from.bytes} bytes) and #${to.id} (${to.name}, ${to.bytes} bytes) differ in size`);
    written.add(to.id);
  });
  copies.forEach((copy: { from: number }, c: number) => {
    // Copies run in order, so reading a slot another copy writes would depend on that order.
    if (written.has(copy.from)) fail(`${where}.copies[${c}].from`, `buffer #${copy.from} is also written by a copy of this entry`);
  });
  const inPlace = entry['inPlace'];
  if (inPlace === undefined) return;
  if (!Array.isArray(inPlace)) fail(`${where}.inPlace`, 'must be an array of {from, to}');
  inPlace.forEach((update: unknown, u: number) => {
    const at = `${where}.inPlace[${u}]`;
    if (!isRecord(update)) fail(at, 'must be an object {from, to}');
    const from = bufferId(`${at}.from`, update['from']);
    const to = bufferId(`${at}.to`, update['to']);
    if (from.bytes !== to.bytes) fail(at, `#${from.id} (${from.name}, ${from.bytes} bytes) and #${to.id} (${to.name}, ${to.bytes} bytes) differ in size`);
  });
}

/**
 * Throws a DeviceLimitError if a kernel or buffer of the plan exceeds the device's limits,
 * e.g. a plan compiled for a desktop GPU's limits opened on a phone: allocation and
 * binding sizes, and per kernel its storage buffers, dispatch size, workgroup size and
 * workgroup storage. The error names the limits the plan was compiled for that this
 * device lacks, and the two ways out: a portable plan, or one for this device.
 */
export function checkPlanFitsDevice(plan: Plan, limits: PlanLimits): void {
  requirePlan('checkPlanFitsDevice', plan);
  if (limits === null || typeof limits !== 'object') {
    throw new ArgumentError(`checkPlanFitsDevice: limits must be the device's limits (device.limits), got ${limits === null ? 'null' : typeof limits}.`);
  }
  const device = kernelLimits(limits);
  const refuse = (problem: string): never => {
    throw new DeviceLimitError(`plan '${plan.name}': ${problem}. ${compiledFor(plan, device)}`);
  };
  const bindingLimit = Math.min(device.maxStorageBufferBindingSize, device.maxBufferSize);
  for (const [a, { bytes }] of (plan.allocations ?? []).entries()) {
    if (bytes > device.maxBufferSize) refuse(`allocation @${a} needs ${bytes} bytes, over this device's maxBufferSize of ${device.maxBufferSize}`);
  }
  // Symbolic sizes are checked per run, at the run's dims (runtime/run-dims.ts).
  for (const b of plan.buffers) {
    if (typeof b.bytes === 'number' && b.bytes > bindingLimit) refuse(`buffer #${b.id} (${b.name}) needs ${b.bytes} bytes, over this device's storage-buffer limit of ${bindingLimit}`);
  }
  for (const k of plan.kernels) {
    const [problem] = kernelLimitProblems({ ...k, workgroups: k.workgroups.map((count) => (typeof count === 'number' ? count : 1)) }, device);
    if (problem) refuse(`kernel ${k.name} ${problem.problem}`);
  }
}

/**
 * What the plan assumed of its device and what to do: the limits it was compiled for
 * that this device does not have. A plan meant to ship is compiled without `limits`
 * (WebGPU's defaults, which every adapter offers); one for this device, with its limits.
 */
function compiledFor(plan: Plan, device: KernelLimits): string {
  const forDevice = "with this device's limits: compile(graph, {limits: device.limits})";
  const fix = `compile without \`limits\` for a portable plan that runs on any adapter, or ${forDevice}`;
  const assumed = (plan as Partial<Plan>).limits;
  if (!assumed) return `The plan does not record the limits it was compiled for; ${fix}.`;
  const keys = Object.keys(DEFAULT_LIMITS) as (keyof KernelLimits)[];
  const over = keys.filter((key) => assumed[key] > device[key]);
  // Compiled within this device's limits, yet over them: the plan was changed after compile().
  if (over.length === 0) return `The plan was compiled for limits this device meets, so it was edited after compile(); ${fix}.`;
  const spelled = (values: KernelLimits): string => over.map((key) => `${key} ${values[key]}`).join(', ');
  if (keys.every((key) => assumed[key] === DEFAULT_LIMITS[key])) {
    return `The plan was compiled for WebGPU's default limits, and this device is below them (${spelled(device)}): compile ${forDevice}.`;
  }
  return `This plan was compiled for limits ${spelled(assumed)}, and this device has ${spelled(device)}: ${fix}.`;
}
