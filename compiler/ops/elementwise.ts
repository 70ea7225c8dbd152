/**
 * Shared machinery of elementwise ops: dtype checks, broadcasting shape rules and the
 * reference loop. The individual ops (unary.ts, binary.ts) are table entries that
 * give only what differs: a name, a scalar function and the dtypes they accept.
 */

import type { DType } from '../dtype.js';
import { isFloat, isNumeric } from '../dtype.js';
import { DTypeError, opError } from '../errors.js';
import type { TensorType } from '../shape.js';
import { broadcastShapes, broadcastStrides, forEachOffset } from '../shape.js';
import type { EvalContext, HostArray } from './op.js';
import { emptyLike, evalShape } from './op.js';

/** Which operand dtypes an elementwise op takes. */
export type DTypeClass = 'float' | 'numeric' | 'bool' | 'any';

const CLASS_CHECK: Record<DTypeClass, (d: DType) => boolean> = {
  float: isFloat,
  numeric: isNumeric,
  bool: (d) => d === 'bool',
  any: () => true,
};

const CLASS_FIX: Record<DTypeClass, string> = {
  float: "cast the operand to f32 with .cast('f32')",
  numeric: "cast bool masks to f32 or i32 with .cast('f32')",
  bool: "compare first (e.g. x.greater(0)) or cast with .cast('bool')",
  any: '',
};

export function checkDTypes(op: string, inputs: readonly TensorType[], accepts: DTypeClass): DType {
  const dtype = inputs[0]!.dtype;
  if (inputs.some((t) => t.dtype !== dtype)) {
    throw opError(
      DTypeError,
      op,
      inputs,
      'operands have different dtypes; kiln does not promote implicitly',
      "cast one operand, e.g. labels.cast('f32')",
    );
  }
  if (!CLASS_CHECK[accepts](dtype)) {
    const wanted = accepts === 'float' ? 'a float dtype' : accepts === 'numeric' ? 'a numeric dtype (f32 or i32)' : 'bool';
    throw opError(DTypeError, op, inputs, `needs ${wanted}, got ${dtype}`, CLASS_FIX[accepts]);
  }
  return dtype;
}

/** Broadcasting shape rule for same-dtype operands; `result` overrides the output dtype. */
export function inferElementwise(
  op: string,
  inputs: readonly TensorType[],
  accepts: DTypeClass,
  result?: DType,
): TensorType {
  const dtype = checkDTypes(op, inputs, accepts);
  return { shape: broadcastShapes(op, inputs), dtype: result ?? dtype };
}

/** Applies `fn` elementwise over broadcast operands. */
export function evaluateElementwise(
  inputs: readonly HostArray[],
  out: TensorType,
  ctx: EvalContext,
  fn: (values: readonly number[]) => number,
): HostArray {
  const result = emptyLike(out, ctx);
  const shape = evalShape('evaluate', out.shape);
  const strides = inputs.map((x) => broadcastStrides(x.shape, shape));
  const args = new Array<number>(inputs.length);
  forEachOffset(shape, strides, (i, offsets) => {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k]!.data[offsets[k]!]!;
    result.data[i] = fn(args);
  });
  return result;
}
