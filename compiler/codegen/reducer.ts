/**
 * What a reduction computes, said once per reduction op: the `Reducer`. Every emitter of
 * reductions (the one-invocation-per-output kernel of shaders/reduce.ts, the tree kernel of
 * shaders/reduce-tree.ts, the row kernel of codegen/fused.ts) and the reference
 * interpreter build their code from it, so a change of semantics (how NaN goes through
 * max, say) is a change to one reducer. The reducer values live beside their ops
 * (compiler/ops/reduce.ts) and reach the templates through the op's lowering; this module
 * is the type and the WGSL pieces every emitter shares, and templates may import it.
 */

import type { DType } from '../dtype.js';
import type { Dim } from '../dims.js';
import { literal } from './wgsl.js';

/**
 * How two partial results combine in WGSL: a binary operator (`acc += v`) or an
 * expression of both (`acc = kiln_maximum(acc, v)`), which may depend on the dtype.
 */
export type Combine = { readonly operator: '+' | '*' } | { readonly expr: (acc: string, value: string, dtype: DType) => string };

/**
 * What a finalize sees besides the folded value: the group's size (in WGSL a Dim, which
 * a symbolic group reads from the size block) and, for a shifted reducer, the shift.
 */
export interface Group<T, Count extends Dim = number> {
  readonly count: Count;
  readonly shift?: T;
}

/**
 * A reduction that folds its group with an associative combine (sum, mean, prod, max,
 * min, logsumexp). Each piece has a WGSL form (over WGSL expressions) and a host form
 * (over JS numbers, in double), side by side, so they cannot drift apart.
 */
export interface FoldReducer {
  readonly kind: 'fold';
  /** The op's name, for kernel headers and messages. */
  readonly op: string;
  /** The combine's identity: where a host fold starts and what an empty group folds to. */
  readonly identity: number;
  /**
   * Whether WGSL folds start from the group's first element instead of the identity
   * (max, min: their identity ±∞ would need a helper, and their groups are never empty).
   */
  readonly startsAtFirst: boolean;
  /** Whether the op refuses groups of no elements when its node is built (max, min: an empty set has no max). */
  readonly refusesEmpty: boolean;
  readonly combine: {
    readonly wgsl: Combine;
    /** WGSL helper functions the combine calls on values of `dtype`. */
    helpers?(dtype: DType): readonly string[];
    /** i32 callers wrap each step, as WGSL integer arithmetic does. */
    host(acc: number, v: number, dtype: DType): number;
  };
  /**
   * A fold run over the group first, whose result shifts every value before this fold
   * (logsumexp: the group's max, so exp cannot overflow).
   */
  readonly shift?: {
    readonly reducer: FoldReducer;
    wgsl(v: string, shift: string): string;
    /** WGSL helper functions the shifted value calls. */
    readonly helpers?: readonly string[];
    host(v: number, shift: number): number;
  };
  /** The result from the folded value (mean divides by the count); absent: the folded value itself. */
  readonly finalize?: {
    wgsl(acc: string, group: Group<string, Dim>): string;
    /** WGSL helper functions the finalized expression calls. */
    readonly helpers?: readonly string[];
    host(acc: number, group: Group<number>): number;
  };
}

/** A reduction to the position of the best element (argmax, argmin): an i32 index within the group. */
export interface IndexReducer {
  readonly kind: 'index';
  readonly op: string;
  /**
   * Whether value `v` replaces the best so far: only when strictly better, so the first
   * of tied values wins (and a NaN beats every number: compiler/ops/extremum.ts).
   */
  readonly better: {
    wgsl(v: string, best: string, dtype: DType): string;
    /** WGSL helper functions the comparison calls on values of `dtype`. */
    helpers(dtype: DType): readonly string[];
    host(v: number, best: number): boolean;
  };
}

export type Reducer = FoldReducer | IndexReducer;

/** The WGSL statement combining `value` into the variable `acc` (values of `dtype`). */
export function combineStatement(combine: Combine, acc: string, value: string, dtype: DType): string {
  return 'operator' in combine ? `${acc} ${combine.operator}= ${value};` : `${acc} = ${combine.expr(acc, value, dtype)};`;
}

/**
 * The WGSL helper functions a reducer's code calls on values of `dtype`, each once: its
 * passes' combines (the shift's first) and, when the result is finalized in the same
 * kernel, the finalize's.
 */
export function reducerHelpers(reducer: Reducer, dtype: DType, finalized = true): string[] {
  if (reducer.kind === 'index') return [...reducer.better.helpers(dtype)];
  const helpers = [
    ...(reducer.shift?.reducer.combine.helpers?.(dtype) ?? []),
    ...(reducer.shift?.helpers ?? []),
    ...(reducer.combine.helpers?.(dtype) ?? []),
    ...(finalized ? (reducer.finalize?.helpers ?? []) : []),
  ];
  return [...new Set(helpers)];
}

/** Where a WGSL fold's accumulator starts: the identity, or `first` (the group's first element). */
export function foldStart(reducer: FoldReducer, first: string, dtype: DType): string {
  return reducer.startsAtFirst ? first : literal(reducer.identity, dtype);
}

/** The WGSL result of a fold from its accumulated value. */
export function finalizeWgsl(reducer: FoldReducer, acc: string, group: Group<string, Dim>): string {
  return reducer.finalize ? reducer.finalize.wgsl(acc, group) : acc;
}

/**
 * WGSL statements folding a group, for emitters that loop over it in one invocation:
 * a shifted reducer's shift pass into `names.shift`, then its own pass into `names.acc`.
 * `loop(visit)` wraps the statements `visit(v)` on one value `v` in a loop over the
 * group; `first` reads the group's first element; `dtype` is the values'.
 */
export function foldPasses(
  reducer: FoldReducer,
  names: { readonly acc: string; readonly shift: string },
  first: string,
  dtype: DType,
  loop: (visit: (v: string) => string[]) => string[],
): string[] {
  const pass = (r: FoldReducer, acc: string, value: (v: string) => string): string[] => [
    `var ${acc} = ${foldStart(r, first, dtype)};`,
    ...loop((v) => [combineStatement(r.combine.wgsl, acc, value(v), dtype)]),
  ];
  const { shift } = reducer;
  if (!shift) return pass(reducer, names.acc, (v) => v);
  return [...pass(shift.reducer, names.shift, (v) => v), ...pass(reducer, names.acc, (v) => shift.wgsl(v, names.shift))];
}

/**
 * What an empty group reduces to: the finalized identity (sum 0, prod 1, mean 0/0 = NaN,
 * logsumexp −∞), or undefined where the op refuses empty groups.
 */
export function emptyValue(reducer: Reducer): number | undefined {
  if (reducer.kind === 'index' || reducer.refusesEmpty) return undefined;
  const shift = reducer.shift?.reducer.identity;
  const group = shift === undefined ? { count: 0 } : { count: 0, shift };
  return reducer.finalize ? reducer.finalize.host(reducer.identity, group) : reducer.identity;
}

/**
 * How each element of a row follows from the row's fold (softmax, logSoftmax): given the
 * element `x`, the shifted sum `total` and the `shift`, in WGSL and on the host alike.
 */
export interface RowNormalize {
  wgsl(x: string, fold: { readonly total: string; readonly shift: string }): string;
  /** WGSL helper functions the element's expression calls. */
  readonly helpers: readonly string[];
  host(x: number, fold: { readonly total: number; readonly shift: number }): number;
}

/** The host fold of one group of values, as the WGSL passes run it: `shift` (if any), then the accumulated `total`, unfinalized. */
export function foldGroup(reducer: FoldReducer, values: ArrayLike<number>, dtype: DType): { total: number; shift: number } {
  const pass = (r: FoldReducer, value: (v: number) => number): number => {
    let acc = r.identity;
    for (let k = 0; k < values.length; k++) acc = r.combine.host(acc, value(values[k]!), dtype);
    return acc;
  };
  const { shift } = reducer;
  const by = shift ? pass(shift.reducer, (v) => v) : 0;
  return { shift: by, total: shift ? pass(reducer, (v) => shift.host(v, by)) : pass(reducer, (v) => v) };
}
