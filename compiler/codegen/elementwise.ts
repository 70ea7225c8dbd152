/**
 * The generic elementwise emitter: one invocation per output element; each operand is
 * read at the element's broadcast position (or inlined as a literal when it is a splat
 * constant), and the op's WGSL expression combines them.
 */

import type { DType } from '../dtype.js';
import type { Attrs, KernelSpec, Lowering, LoweringContext } from '../ops/op.js';
import { broadcastStrides, sameShape, sizeOf } from '../shape.js';
import { WORKGROUP_SIZE, specialFloatHelpers, bindingDecl, grid, kernelHeader, literal, load, offsetExpr, store, unravel } from './wgsl.js';

/** An operand as the emitter sees it: a bound buffer, or a literal splat value. */
export type Operand =
  | { readonly kind: 'buffer'; readonly id: number; readonly shape: readonly number[]; readonly dtype: DType }
  | { readonly kind: 'splat'; readonly value: number; readonly dtype: DType };

export function emitElementwise<A extends Attrs>(
  ctx: LoweringContext<A>,
  lowering: Extract<Lowering<A>, { kind: 'elementwise' }>,
  operands: readonly Operand[],
): KernelSpec {
  const out = ctx.node;
  const size = sizeOf(out.shape);
  const buffers = operands.filter((o): o is Extract<Operand, { kind: 'buffer' }> => o.kind === 'buffer');
  const decls = buffers.map((b, k) => bindingDecl(k, `in${k}`, b.dtype, 'read'));
  decls.push(bindingDecl(buffers.length, 'out', out.dtype, 'read_write'));

  const needsCoords = buffers.some((b) => !sameShape(b.shape, out.shape));
  const coords = out.shape.map((_, axis) => `c${axis}`);
  let bufferIndex = 0;
  const args = operands.map((operand) => {
    if (operand.kind === 'splat') return literal(operand.value, operand.dtype);
    const name = `in${bufferIndex++}`;
    const index = sameShape(operand.shape, out.shape) ? 'i' : offsetExpr(coords, broadcastStrides(operand.shape, out.shape));
    return load(name, index, operand.dtype);
  });
  const expr = lowering.expr(args, ctx.attrs, { inputs: ctx.inputs.map((t) => t.dtype), output: out.dtype });
  const g = grid(size, ctx.limits);
  const helpers = calledHelpers(expr, [...new Set([...(lowering.helpers ?? []), ...specialFloatHelpers(expr)])]);
  const wgsl = [
    kernelHeader(ctx.name, ctx.header),
    ...decls,
    ...helpers,
    '',
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn main(${g.params}) {`,
    `  ${g.prologue}`,
    ...(needsCoords && out.shape.length > 0 ? [`  ${unravel('i', out.shape, 'c')}`] : []),
    `  out[i] = ${store(expr, out.dtype)};`,
    '}',
    '',
  ].join('\n');
    // In-place safe only when no operand is broadcast: then element i reads only elements i.
  return { name: ctx.name, wgsl, workgroups: g.workgroups, bindings: [...buffers.map((b) => b.id), out.id], elementwise: !needsCoords };
}

/**
 * The helpers `code` calls, directly or through other helpers, in their given order: an op
 * lists every helper any of its dtype variants may need, and a kernel keeps only its own.
 */
function calledHelpers(code: string, helpers: readonly string[]): string[] {
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
