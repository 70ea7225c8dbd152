/**
 * `randomUniform`: one invocation per element i draws the Philox4x32-10 block at counter
 * (⌊i/4⌋, step, domain, 0) and keeps word i % 4, as the CPU reference does
 * (compiler/ops/random.ts), so the random bits are identical; the conversion to
 * [0, 1) multiplies a 24-bit integer by 2⁻²⁴, which is exact in f32. With an epilogue
 * (dropout's compare and scale) each value goes to `kiln_epilogue(i, value)` instead of
 * the output buffer.
 */

import { PHILOX_WGSL } from './init.js';
import { KernelBindings, literal, perElementKernel, sanitize } from '../compiler/codegen/wgsl.js';
import type { KernelSpec, LoweringContext } from '../compiler/codegen/kernel.js';
import { sizeOf } from '../compiler/shape.js';

/** The stream a draw comes from: its name (for the header comment), Philox key and domain word. */
export interface RandomStream {
  readonly name: string;
  readonly key: readonly [number, number];
  readonly domain: number;
}

export function randomUniformKernel(ctx: LoweringContext, stream: RandomStream): KernelSpec[] {
  const out = ctx.node;
  const counter = ctx.inputs[0]!;
  const size = sizeOf(out.shape);
  if (size === 0) return [];
  const { epilogue } = ctx;
  const { key, domain } = stream;
  const body = [
    `let block = kiln_philox(vec4u(i / 4u, bitcast<u32>(counter[0]), ${domain}u, 0u), vec2u(${key[0]}u, ${key[1]}u));`,
    `let value = f32(block[i % 4u] >> 8u) * ${literal(2 ** -24, 'f32')};`,
    epilogue ? 'kiln_epilogue(i, value);' : 'out[i] = value;',
  ];
  const bindings = new KernelBindings();
  const kernel = perElementKernel({
    name: ctx.name,
    header: [...ctx.header, `uniform [0, 1) from stream ${sanitize(stream.name)}: Philox key (${key[0]}, ${key[1]}), counter (i / 4, step, ${domain}, 0)`],
    limits: ctx.limits,
    decls: [bindings.storage(counter.id, 'counter', 'i32', 'read'), ...(epilogue ? bindings.fused(epilogue) : [bindings.storage(out.id, 'out', 'f32', 'read_write')])],
    invocations: size,
    body,
    helpers: [PHILOX_WGSL],
    dims: ctx.dims,
  });
  return [{ name: epilogue ? `${ctx.name}_epilogue` : ctx.name, ...kernel, bindings: bindings.list }];
}
