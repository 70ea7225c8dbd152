/**
 * Source ops: the leaves of a graph. `input` is fed each step, `param` is persistent and
 * trainable, `state` is persistent and not trained (momentum, step counters), `const`
 * is a literal. Their type is carried in their attributes.
 */

import type { DType } from '../dtype.js';
import { GraphError } from '../errors.js';
import type { InitSpec } from '../init.js';
import type { Shape, TensorType } from '../shape.js';
import { sizeOf, staticShape } from '../shape.js';
import { defineOp } from './op.js';
import type { HostArray } from './op.js';
import { allocate } from '../dtype.js';

export type SourceAttrs = { shape: Shape; dtype: DType };
export type PersistentAttrs = SourceAttrs & { init: InitSpec };
export type ConstAttrs = SourceAttrs & { value: readonly number[] };

const typeFromAttrs = (_: readonly TensorType[], attrs: SourceAttrs): TensorType => ({
  shape: attrs.shape,
  dtype: attrs.dtype,
});

/** Params and state live across runs in buffers allocated once: their sizes never depend on a run's dims. */
const persistentType = (op: string) => (_: readonly TensorType[], attrs: SourceAttrs): TensorType => ({
  shape: staticShape(op, attrs.shape, `${op}s keep their buffers across runs, so their sizes are fixed when the graph is built`),
  dtype: attrs.dtype,
});

const fedByInterpreter = (op: string) => (): HostArray => {
  throw new GraphError(`${op} nodes take their values from feeds or parameters, not from evaluation`);
};

export const input = defineOp<SourceAttrs>({
  name: 'input',
  arity: 0,
  infer: typeFromAttrs,
  evaluate: fedByInterpreter('input'),
});

export const param = defineOp<PersistentAttrs>({
  name: 'param',
  arity: 0,
  infer: persistentType('param'),
  evaluate: fedByInterpreter('param'),
});

export const state = defineOp<PersistentAttrs>({
  name: 'state',
  arity: 0,
  infer: persistentType('state'),
  evaluate: fedByInterpreter('state'),
});

export const constant = defineOp<ConstAttrs>({
  name: 'const',
  arity: 0,
  infer(_, attrs) {
    const shape = staticShape('const', attrs.shape, 'a constant holds its values, one per element');
    const size = sizeOf(shape);
    if (attrs.value.length !== size && attrs.value.length !== 1) {
      throw new GraphError(
        `const: ${attrs.value.length} values do not fill shape [${attrs.shape.join(',')}] (${size} elements)`,
      );
    }
    return { shape, dtype: attrs.dtype };
  },
  evaluate(_, attrs, out, ctx) {
    const shape = staticShape('const', out.shape);
    const data = allocate(out.dtype, sizeOf(shape), ctx.precision);
    // A single value fills the whole shape (a splat), so large constant fills stay small.
    if (attrs.value.length === 1) data.fill(attrs.value[0]!);
    else data.set(attrs.value);
    return { shape, dtype: out.dtype, data };
  },
});

/** Ops whose nodes are leaves the user names and feeds or keeps. */
export const SOURCE_OPS: ReadonlySet<string> = new Set(['input', 'param', 'state', 'const']);
