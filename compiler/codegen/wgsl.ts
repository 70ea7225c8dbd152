/**
 * WGSL building blocks shared by every kernel: storage types, literals, binding
 * declarations, the index arithmetic of shapes and strides, and dispatch sizing that
 * respects the adapter's limits. Static sizes are baked in as literals (`784u`); a
 * symbolic size (a dim such as `batch`) is read at run time from the plan's size block,
 * a uniform `kiln_dims` at `@group(1) @binding(0)` (`wgslSize`), so one pipeline serves
 * every size while the static inner loops keep their specialisation.
 */

import type { DType } from '../dtype.js';
import { DeviceLimitError, KernelError } from '../errors.js';
import type { Dim, Shape } from '../shape.js';
import { stridesOf } from '../shape.js';
import { evaluateDim, isSymbolic } from '../dims.js';
import type { KernelLimits } from '../limits.js';
import { workgroupVariableBytes } from '../kernel-fit.js';
import type { BindingAccess, KernelBinding, WorkgroupCount } from './kernel.js';

export type { WorkgroupCount } from './kernel.js';

/** The uniform holding a run's symbolic sizes (one u32 per dim of the plan). */
export const DIMS_VAR = 'kiln_dims';

// Words WGSL keeps for itself, which a struct member may not be named.
const WGSL_RESERVED = new Set(
  ('alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let loop override ' +
    'requires return struct switch true var while array atomic bool f16 f32 i32 mat2x2 mat3x3 mat4x4 ptr sampler u32 vec2 vec3 vec4 ' +
    'NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become cast catch class co_await co_return ' +
    'co_yield coherent column_major common compile compile_fragment concept const_cast consteval constexpr constinit crate debugger decltype ' +
    'delete demote demote_to_helper do dynamic_cast enum explicit export extends extern external fallthrough filter final finally friend from ' +
    'fxgroup get goto groupshared highp impl implements import inline instanceof interface layout lowp macro macro_rules match mediump meta mod ' +
    'module move mut mutable namespace new nil noexcept noinline nointerpolation non_coherent noncoherent noperspective null nullptr of operator ' +
    'package packoffset partition pass patch pixelfragment precise precision premerge priv protected pub public readonly ref regardless register ' +
    'reinterpret_cast require resource restrict self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target ' +
    'template this thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using varying virtual ' +
    'volatile wgsl where with writeonly yield').split(' '),
);

/** The member of `kiln_dims` holding dim `name` (its own name where WGSL allows it). */
export function dimField(name: string): string {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !name.includes('__') && !WGSL_RESERVED.has(name) ? name : `dim_${name.replace(/^_+/, '').replace(/__+/g, '_')}`;
}

/**
 * A size as a WGSL u32 expression: `784u` when static, else read from the size block
 * (`kiln_dims.batch`, `(kiln_dims.batch * 784u)`). A kernel using one must be generated
 * with the plan's dims (`workgroupKernelSource`'s `dims`), which declares the block.
 */
export function wgslSize(d: Dim): string {
  if (!isSymbolic(d)) return `${d}u`;
  const terms = d.terms.map((t) => {
    const factors = [...t.names.map((name) => `${DIMS_VAR}.${dimField(name)}`), ...(Math.abs(t.coefficient) === 1 ? [] : [`${Math.abs(t.coefficient)}u`])];
    return { negative: t.coefficient < 0, text: factors.length === 0 ? `${Math.abs(t.coefficient)}u` : factors.join(' * ') };
  });
  // Positive terms first, so no u32 intermediate goes below zero (sizes are never negative).
  const ordered = [...terms.filter((t) => !t.negative), ...terms.filter((t) => t.negative)];
  const text = ordered.map((t, i) => (i === 0 ? t.text : `${t.negative ? '-' : '+'} ${t.text}`)).join(' ');
  return ordered.length === 1 && d.terms[0]!.names.length === 1 && Math.abs(d.terms[0]!.coefficient) === 1 ? text : `(${text})`;
}

/**
 * The size a symbolic dim is taken to have where a template chooses by size only for speed
 * (tree or loop, threads, tiles): 64, as the memory planner assumes. The kernel still loops
 * to the run's size, so the choice is right at 64 (the static plan's, bit for bit) and
 * correct at every size.
 */
export const SIZE_FOR_CHOICES = 64;

/** `d` for a size-based choice: itself when static, else its value with every dim at SIZE_FOR_CHOICES (at least 1). */
export function sizeForChoices(d: Dim): number {
  if (!isSymbolic(d)) return d;
  return Math.max(1, evaluateDim(d, Object.fromEntries(d.names.map((name) => [name, SIZE_FOR_CHOICES]))));
}

/** A size as a WGSL f32 expression (`f32(kiln_dims.batch)`, `784.0f`), e.g. to divide a sum by its count. */
export function wgslSizeF32(d: Dim): string {
  return isSymbolic(d) ? `f32(${wgslSize(d)})` : `${d}.0f`;
}

/** The declaration of the size block: one u32 member per dim of the plan, in the plan's order. */
export function dimsDeclaration(dims: readonly string[]): string[] {
  return [`struct KilnDims { ${dims.map((name) => `${dimField(name)}: u32`).join(', ')} }`, `@group(1) @binding(0) var<uniform> ${DIMS_VAR}: KilnDims;`];
}

/** The element type of a storage buffer holding `dtype` (bool is stored as u32 0/1). */
export function storageType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype === 'bool' ? 'u32' : dtype;
}

/** The WGSL type a value of `dtype` has inside expressions. */
export function valueType(dtype: DType): 'f32' | 'i32' | 'bool' {
  return dtype;
}

/** Reads element `index` of a buffer as a value of its dtype. */
export function load(buffer: string, index: string, dtype: DType): string {
  return dtype === 'bool' ? `(${buffer}[${index}] != 0u)` : `${buffer}[${index}]`;
}

/** Converts a value expression to what the buffer stores. */
export function store(value: string, dtype: DType): string {
  return dtype === 'bool' ? `u32(${value})` : value;
}

/** A WGSL literal of `dtype`. Floats keep every digit (and are never written as an integer). */
export function literal(value: number, dtype: DType): string {
  if (dtype === 'bool') return value !== 0 ? 'true' : 'false';
  if (dtype === 'i32') {
    // -2147483648 has no positive counterpart in i32, so it is spelled as an expression.
    return value === -2147483648 ? 'i32(-2147483647 - 1)' : `${value}i`;
  }
  if (Number.isNaN(value)) return 'kiln_nan()';
  if (value === Infinity) return 'kiln_inf()';
  if (value === -Infinity) return '(-kiln_inf())';
  const f = Math.fround(value);
  // Out of f32 range values would be a WGSL compile error; they round to ±inf as on the GPU.
  if (!Number.isFinite(f)) return f > 0 ? 'kiln_inf()' : '(-kiln_inf())';
  if (Object.is(f, -0)) return '-0.0f';
  // The shortest decimal that rounds to the same f32 (0.70710677f, not 0.7071067690849304f).
  let digits = 1;
  while (Math.fround(Number(f.toPrecision(digits))) !== f) digits++;
  const text = String(Number(f.toPrecision(digits)));
  return /[.eE]/.test(text) ? `${text}f` : `${text}.0f`;
}

/** Helper functions a literal may need; prepended to kernels that use them. */
export const SPECIAL_FLOAT_HELPERS = `
fn kiln_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn kiln_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }`;

/** `kiln_is_inf(x)`: tests the bits, so no compiler may assume infinities away. */
export const IS_INF_HELPER = `
fn kiln_is_inf(value: f32) -> bool { return (bitcast<u32>(value) & 0x7fffffffu) == 0x7f800000u; }`;

/**
 * The helpers a kernel's code needs for special float literals. (They read the bits from
 * a variable: a constant expression that evaluates to inf or NaN is a WGSL compile error.)
 */
export function specialFloatHelpers(code: string): string[] {
  return /kiln_(inf|nan)\(/.test(code) ? [SPECIAL_FLOAT_HELPERS] : [];
}

/** Makes a user-given name safe inside a WGSL comment or identifier. */
export function sanitize(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `n${cleaned}`;
}

/**
 * A kernel's storage bindings as it declares them: each call writes one
 * `@group(0) @binding(i) var<storage, access> name: array<T>;` line and records the
 * binding `{node, access}` at index i, so a kernel's WGSL and its `KernelSpec.bindings`
 * come from the same call and cannot disagree. Declare in binding order; read `list`
 * after the last declaration.
 */
export class KernelBindings {
  private readonly declared: KernelBinding[] = [];

  constructor(private readonly first = 0) {}

  /** The binding index the next declaration gets. */
  get next(): number {
    return this.first + this.declared.length;
  }

  /** The bindings declared so far, in binding order. */
  get list(): readonly KernelBinding[] {
    return [...this.declared];
  }

  /** Declares node `node`'s buffer, of `dtype`, as the next binding. */
  storage(node: number, name: string, dtype: DType, access: BindingAccess): string {
    return this.array(node, name, storageType(dtype), access);
  }

  /** Declares the next binding with an explicit element type (`vec4<f32>` for a vectorized view). */
  array(node: number, name: string, elementType: string, access: BindingAccess): string {
    const line = `@group(0) @binding(${this.next}) var<storage, ${access}> ${name}: array<${elementType}>;`;
    this.declared.push({ node, access });
    return line;
  }

  /** Declares fused code's bindings (a prologue's or epilogue's) next; returns its code. */
  fused(part: { readonly bindings: readonly KernelBinding[]; code(firstBinding: number): string[] }): string[] {
    const code = part.code(this.next);
    this.declared.push(...part.bindings);
    return code;
  }
}

/** The header comment every kernel starts with (the ops and nodes it implements); every kind of line break is flattened, so no text ends the comment early. */
export function kernelHeader(name: string, lines: readonly string[]): string {
  return [`// kiln kernel ${name}`, ...lines.map((line) => `//   ${line.replace(/[\r\n\v\f\u0085\u2028\u2029]/g, ' ')}`)].join('\n');
}

/**
 * WGSL statements that split the flat row-major index `flat` of `shape` into coordinate
 * variables `${prefix}0 … ${prefix}{rank-1}` (u32).
 */
export function unravel(flat: string, shape: Shape, prefix: string): string {
  const strides = stridesOf(shape);
  const lines: string[] = [];
  let rest = flat;
  shape.forEach((_, axis) => {
    const stride = strides[axis]!;
    if (axis === shape.length - 1) {
      lines.push(`let ${prefix}${axis} = ${rest};`);
    } else {
      lines.push(`let ${prefix}${axis} = ${rest} / ${wgslSize(stride)};`);
      lines.push(`let ${prefix}${axis}_rest = ${rest} % ${wgslSize(stride)};`);
      rest = `${prefix}${axis}_rest`;
    }
  });
  return lines.join('\n  ');
}

/** `c0 * s0 + c1 * s1 + …` over the axes whose stride is not 0 (broadcast axes drop out). */
export function offsetExpr(coords: readonly string[], strides: readonly Dim[]): string {
  const terms = coords.flatMap((c, i) => (strides[i] === 0 ? [] : [strides[i] === 1 ? c : `${c} * ${wgslSize(strides[i]!)}`]));
  return terms.length === 0 ? '0u' : terms.join(' + ');
}

export type { KernelLimits } from '../limits.js';
export { maxWorkgroupWidth } from '../limits.js';
export { DEFAULT_LIMITS, kernelLimits } from '../limits.js';

export const WORKGROUP_SIZE = 64;


/** A 1-D iteration space folded into a 2-D grid when it needs more workgroups than one dimension allows. */
export interface Grid {
  readonly workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount];
  /** The runtime folds x into y (symbolic sizes): the kernel reads the grid's width from `num_workgroups`. */
  readonly foldX?: boolean;
  /** WGSL parameters of `main` and the statement defining `let ${index}: u32` (and returning past the end). */
  readonly params: string;
  readonly prologue: string;
}

/**
 * Sizes a dispatch of `invocations` threads (workgroup size WORKGROUP_SIZE) within the
 * limits. A symbolic count is sized by the runtime per run (folded into 2-D past the
 * limit), the kernel reading the grid's width from `@builtin(num_workgroups) nwg`.
 */
export function grid(invocations: Dim, limits: KernelLimits, index = 'i'): Grid {
  if (isSymbolic(invocations)) {
    return {
      workgroups: [{ size: invocations, per: WORKGROUP_SIZE }, 1, 1],
      foldX: true,
      params: '@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u',
      prologue: `let ${index} = (wid.y * nwg.x + wid.x) * ${WORKGROUP_SIZE}u + lid;\n  if (${index} >= ${wgslSize(invocations)}) { return; }`,
    };
  }
  const groups = Math.max(1, Math.ceil(invocations / WORKGROUP_SIZE));
  const max = limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(groups, max);
  const y = Math.ceil(groups / x);
  if (y > max) {
    throw new DeviceLimitError(
      `${invocations} invocations need ${groups} workgroups of ${WORKGROUP_SIZE}, more than the ${max} × ${max} a 2-D dispatch reaches ` +
        `under this device's maxComputeWorkgroupsPerDimension of ${max}. Fix: use smaller tensors (a smaller batch), or compile for the device's own limits (compile(graph, {limits: device.limits})).`,
    );
  }
  return {
    workgroups: [x, y, 1],
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32',
    prologue: `let ${index} = (wid.y * ${x}u + wid.x) * ${WORKGROUP_SIZE}u + lid;\n  if (${index} >= ${invocations}u) { return; }`,
  };
}


/** One array in workgroup memory, shared by a workgroup's invocations: `var<workgroup> name: array<elementType, length>;`. */
export interface WorkgroupArray {
  readonly name: string;
  readonly elementType: 'f32' | 'i32' | 'u32';
  readonly length: number;
}

/** Bytes `arrays` take of maxComputeWorkgroupStorageSize, as WebGPU counts them (each rounded up to 16). */
export function workgroupStorageBytes(arrays: readonly WorkgroupArray[]): number {
  // Every element type is a 4-byte scalar, whose stride in an array is 4.
  return arrays.reduce((bytes, array) => bytes + workgroupVariableBytes(4 * array.length), 0);
}

/**
 * A kernel's WGSL: its header comment, declarations, workgroup memory and helpers, and
 * `main` over workgroups of `workgroupSize` invocations (builtins `wid`, `lid`, and `nwg`
 * (num_workgroups) when the body reads it) running `body`; with the workgroup size,
 * workgroup storage and whether it reads the size block as `KernelSpec` records them, so
 * they come from the call that declares them. Code using symbolic sizes (`wgslSize`)
 * must pass the plan's `dims`: the size block is declared when the code reads it.
 */
export function workgroupKernelSource(spec: {
  readonly name: string;
  readonly header: readonly string[];
  readonly decls: readonly string[];
  readonly workgroupMemory?: readonly WorkgroupArray[];
  readonly helpers?: readonly string[];
  readonly workgroupSize: number;
  readonly body: readonly string[];
  /** The plan's symbolic dims (`LoweringContext.dims`). */
  readonly dims?: readonly string[];
}): { wgsl: string; workgroupSize: readonly [number, number, number]; workgroupStorageBytes: number; readsDims: boolean } {
  const workgroupMemory = spec.workgroupMemory ?? [];
  const code = [...spec.decls, ...(spec.helpers ?? []), ...spec.body].join('\n');
  const readsDims = code.includes(`${DIMS_VAR}.`);
  if (readsDims && (spec.dims === undefined || spec.dims.length === 0)) {
    throw new KernelError(`kernel ${spec.name} reads symbolic sizes (${DIMS_VAR}) but was generated without the plan's dims; pass LoweringContext.dims to workgroupKernelSource.`);
  }
  const params = ['@builtin(workgroup_id) wid: vec3u', '@builtin(local_invocation_index) lid: u32', ...(/\bnwg\./.test(code) ? ['@builtin(num_workgroups) nwg: vec3u'] : [])];
  // Each helper once: WGSL refuses a function declared twice, and a fused prologue (in
  // decls), the op's reducer and the kernel's literals may each bring kiln_isnan or kiln_inf.
  const helpers = [...new Set(spec.helpers ?? [])].filter((helper) => !spec.decls.includes(helper));
  const wgsl = [
    kernelHeader(spec.name, spec.header),
    ...(readsDims ? dimsDeclaration(spec.dims!) : []),
    ...spec.decls,
    ...workgroupMemory.map((array) => `var<workgroup> ${array.name}: array<${array.elementType}, ${array.length}>;`),
    ...helpers,
    '',
    `@compute @workgroup_size(${spec.workgroupSize})`,
    `fn main(${params.join(', ')}) {`,
    ...spec.body.map((line) => `  ${line}`),
    '}',
    '',
  ].join('\n');
  return { wgsl, workgroupSize: [spec.workgroupSize, 1, 1], workgroupStorageBytes: workgroupStorageBytes(workgroupMemory), readsDims };
}

/** A kernel with one invocation per element of `invocations` (flat index `i`), around `body`. */
export function perElementKernel(spec: {
  readonly name: string;
  readonly header: readonly string[];
  readonly limits: KernelLimits;
  readonly decls: readonly string[];
  readonly invocations: Dim;
  readonly body: readonly string[];
  readonly helpers?: readonly string[];
  readonly dims?: readonly string[];
}): {
  wgsl: string;
  workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount];
  foldX?: boolean;
  workgroupSize: readonly [number, number, number];
  workgroupStorageBytes: number;
  readsDims: boolean;
} {
  const g = grid(spec.invocations, spec.limits);
  const helpers = [...(spec.helpers ?? []), ...specialFloatHelpers(spec.body.join('\n'))];
  const source = workgroupKernelSource({
    name: spec.name,
    header: spec.header,
    decls: spec.decls,
    helpers,
    workgroupSize: WORKGROUP_SIZE,
    body: [...g.prologue.split('\n').map((line) => line.trim()), ...spec.body.filter((line) => line !== '')],
    ...(spec.dims ? { dims: spec.dims } : {}),
  });
  return { ...source, workgroups: g.workgroups, ...(g.foldX ? { foldX: true } : {}) };
}

/**
 * The helpers `code` calls, directly or through other helpers, in their given order: an op
 * lists every helper any of its dtype variants may need, and a kernel keeps only its own.
 */
export function calledHelpers(code: string, helpers: readonly string[]): string[] {
  const declared = (helper: string): string[] => [...helper.matchAll(/\bfn (\w+)\(/g)].map((m) => m[1]!);
  const kept = new Set<string>();
  let reachable = code;
  for (let grew = true; grew; ) {
    grew = false;
    for (const helper of helpers) {
      if (!kept.has(helper) && declared(helper).some((name) => new RegExp(`\\b${name}\\(`).test(reachable))) {
        kept.add(helper);
        reachable += helper;
        grew = true;
      }
    }
  }
  return helpers.filter((helper) => kept.has(helper));
}
