/**
 * Init kernels: parameters and state are filled on the GPU, from the same Philox4x32-10
 * stream the CPU reference draws from (compiler/random.ts), so weights never cross the
 * bus and a plan needs no initial values. The random bits are identical to the CPU's;
 * the float transforms run in f32, so values agree to f32 rounding.
 */

import type { DType } from '../compiler/dtype.js';
import type { ResolvedInit } from '../compiler/init.js';
import type { KernelSpec } from '../compiler/codegen/kernel.js';
import { sizeOf, staticShape } from '../compiler/shape.js';
import type { Shape } from '../compiler/shape.js';
import type { KernelLimits } from '../compiler/codegen/wgsl.js';
import { COS, LOG, SIN } from './elementwise.js';
import { KernelBindings, WORKGROUP_SIZE, grid, literal, sanitize, store, workgroupKernelSource } from '../compiler/codegen/wgsl.js';

/** WGSL Philox4x32-10; `kiln_mulhi` builds the high half of a 32×32 product from 16-bit halves (WGSL has no mulhi). */
export const PHILOX_WGSL = `
fn kiln_mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo = a_lo * b_lo;
  let mid1 = a_hi * b_lo;
  let mid2 = a_lo * b_hi;
  let carry = ((lo >> 16u) + (mid1 & 0xffffu) + (mid2 & 0xffffu)) >> 16u;
  return a_hi * b_hi + (mid1 >> 16u) + (mid2 >> 16u) + carry;
}

fn kiln_philox(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = kiln_mulhi(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = kiln_mulhi(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2u(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

/** Word j of the stream with this key: word j % 4 of block j / 4. */
fn kiln_random_word(j: u32, key: vec2u) -> u32 {
  let block = kiln_philox(vec4u(j / 4u, 0u, 0u, 0u), key);
  return block[j % 4u];
}
`;

function valueExpression(init: ResolvedInit, dtype: DType): string {
  if (init.kind === 'fill') return literal(init.value, dtype);
  const key = `vec2u(${init.key[0]}u, ${init.key[1]}u)`;
  if (init.kind === 'uniform') {
    const u = `f32(kiln_random_word(i, ${key}) >> 8u) * ${literal(2 ** -24, 'f32')}`;
    return `${literal(init.low, 'f32')} + ${literal(init.high - init.low, 'f32')} * (${u})`;
  }
  // Box–Muller over the pair (2p, 2p+1) of words: both lie in block p / 2, as on the CPU.
  return `${literal(init.mean, 'f32')} + ${literal(init.std, 'f32')} * kiln_box_muller(i, ${key})`;
}

const BOX_MULLER_WGSL = `
fn kiln_box_muller(i: u32, key: vec2u) -> f32 {
  let pair = i / 2u;
  let block = kiln_philox(vec4u(pair / 2u, 0u, 0u, 0u), key);
  let first = (pair % 2u) * 2u;
  let u1 = f32((block[first] >> 8u) + 1u) * ${literal(2 ** -24, 'f32')};
  let u2 = f32(block[first + 1u] >> 8u) * ${literal(2 ** -24, 'f32')};
  let radius = sqrt(-2.0 * kiln_log(u1));
  let angle = 6.283185307179586 * u2;
  return select(radius * kiln_sin(angle), radius * kiln_cos(angle), i % 2u == 0u);
}
`;

/** A param or state buffer to fill, and its resolved initializer. */
export interface InitTarget {
  readonly node: { readonly id: number; readonly name: string; readonly shape: Shape; readonly dtype: DType };
  readonly init: ResolvedInit;
}

function describeInit(init: ResolvedInit): string {
  if (init.kind === 'fill') return `fill ${init.value}`;
  return init.kind === 'uniform' ? `uniform(${init.low}, ${init.high})` : `normal(${init.mean}, ${init.std})`;
}

/**
 * One kernel that writes the initial values of several param/state buffers (at most the
 * device's storage-buffer limit): invocation i fills element i of every buffer that long.
 * A model's dozens of initializers thus cost a few pipelines to create, not one each —
 * pipeline creation dominates the time to a first result on a software adapter.
 */
export function initKernel(targets: readonly InitTarget[], limits: KernelLimits): KernelSpec {
  const first = targets[0]!.node;
  const name = targets.length === 1 ? `init_${first.id}_${sanitize(first.name)}` : `init_${first.id}_and_${targets.length - 1}_more`;
  // Params and state are static (a symbolic dim there is refused when the node is made).
  const sizes = targets.map((t) => sizeOf(staticShape(`init of ${t.node.name}`, t.node.shape, 'params and state have static shapes')));
  const invocations = Math.max(...sizes);
  const g = grid(invocations, limits);
  const kinds = new Set(targets.map((t) => t.init.kind));
  // The builtins log/sin/cos may be off by 100+ ulps (SwiftShader): the accurate versions keep normal draws within f32 rounding of the CPU's.
  const normal = kinds.has('normal') ? [...LOG, ...SIN, ...COS, BOX_MULLER_WGSL] : [];
  const helpers = [...new Set([...(kinds.has('uniform') || kinds.has('normal') ? [PHILOX_WGSL] : []), ...normal])];
  const bindings = new KernelBindings();
  const source = workgroupKernelSource({
    name,
    header: targets.map(({ node, init }) => `initial value of ${sanitize(node.name)}: ${describeInit(init)}`),
    decls: [...targets.map(({ node }, b) => bindings.storage(node.id, `out${b}`, node.dtype, 'read_write')), ...helpers],
    workgroupSize: WORKGROUP_SIZE,
    body: [
      ...g.prologue.split('\n').map((line) => line.trim()),
      ...targets.map(({ node, init }, b) => {
        const size = sizes[b]!;
        const assignment = `out${b}[i] = ${store(valueExpression(init, node.dtype), node.dtype)};`;
        // The grid already stops at the longest buffer; shorter ones need their own bound.
        return size === invocations ? assignment : `if (i < ${size}u) { ${assignment} }`;
      }),
    ],
  });
  return { name, ...source, workgroups: g.workgroups, bindings: bindings.list };
}
