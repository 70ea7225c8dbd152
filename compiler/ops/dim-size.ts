/**
 * `dimSize(g, size)`: a scalar whose value is a size, static or symbolic (`batch`,
 * `784*batch`). It is how a graph computes with the size of a dim it does not know until a
 * run: mean's gradient over a symbolic batch divides by it. Kernels read a symbolic size from
 * the plan's size block; once the dims are bound (`bindDims`) it folds to a constant.
 */

import type { DType } from '../dtype.js';
import { allocate } from '../dtype.js';
import { ArgumentError, GraphError } from '../errors.js';
import type { Dim } from '../dims.js';
import { SymDim, isSymbolic } from '../dims.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { wgslSize, wgslSizeF32 } from '../codegen/wgsl.js';
import { defineOp, noGradient } from './op.js';

export type DimSizeAttrs = { size: Dim; dtype: DType };

/** The element types a size may be read as: f32 to scale values, i32 to compute indices. */
const SIZE_DTYPES: readonly DType[] = ['f32', 'i32'];

export const dimSizeOp = defineOp<DimSizeAttrs>({
  name: 'dimSize',
  arity: 0,
  infer(_, attrs) {
    checkSize(attrs.size);
    if (!SIZE_DTYPES.includes(attrs.dtype)) {
      throw new ArgumentError(`dimSize: dtype must be f32 or i32, got '${String(attrs.dtype)}'.`);
    }
    return { shape: [], dtype: attrs.dtype };
  },
  evaluate(_, attrs, out, ctx) {
    if (isSymbolic(attrs.size)) {
      throw new GraphError(
        `dimSize: the size '${attrs.size}' is symbolic, so it has no value yet. Fix: bind the dims first (bindDims(graph, {${attrs.size.names.map((n) => `${n}: …`).join(', ')}}), or feed the inputs that have them).`,
      );
    }
    const data = allocate(out.dtype, 1, ctx.precision);
    data[0] = attrs.size;
    return { shape: [], dtype: out.dtype, data };
  },
  // A size does not depend on any value: no gradient flows (like a constant).
  vjp: noGradient,
  lower: {
    kind: 'elementwise',
    expr: (_, attrs) => (attrs.dtype === 'i32' ? `i32(${wgslSize(attrs.size)})` : wgslSizeF32(attrs.size)),
  },
});

function checkSize(size: unknown): asserts size is Dim {
  if (size instanceof SymDim) return;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw new ArgumentError(`dimSize: size must be a non-negative integer or a symbolic size (g.dim('batch')), got ${String(size)}.`);
  }
}

/** A scalar holding `size` (`g.dim('batch')`, or a product such as `784*batch`), as f32 (default) or i32. */
export function dimSize(graph: Graph, size: Dim, dtype: DType = 'f32'): Tensor {
  return requireGraph('dimSize', graph).addNode(dimSizeOp, [], { size, dtype });
}
