/**
 * The contract every op fulfils, in one place per op: a shape/dtype rule and a CPU
 * reference implementation. Later stages add to the same definition (its VJP for
 * autodiff, its WGSL lowering), so an op is always read and changed in one file.
 */

import type { DType, Precision } from '../dtype.js';
import { allocate } from '../dtype.js';
import { GraphError } from '../errors.js';
import type { HostArray, StaticShape, TensorType } from '../shape.js';
import { sizeOf, staticShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { KernelSpec, LoweringContext } from '../codegen/kernel.js';
import type { FoldReducer, Reducer, RowNormalize } from '../codegen/reducer.js';

export type { AttrValue, Attrs } from '../attrs.js';
export type { HostArray } from '../shape.js';
import type { Attrs } from '../attrs.js';
export type { BindingAccess, KernelBinding, KernelSpec, LoweringContext, Prologue, Epilogue } from '../codegen/kernel.js';
export type { FoldReducer, IndexReducer, Reducer } from '../codegen/reducer.js';

/** What the reference interpreter gives an op's `evaluate`. */
export interface EvalContext {
  /** Float precision of this evaluation: f64 for gradient checks, f32 to mirror the GPU. */
  readonly precision: Precision;
  /** The entry point's mode (`modeSelect` picks its branch by it). Default 'infer'. */
  readonly mode?: 'train' | 'infer';
}

/** What an op's VJP rule is given: the node's inputs and output as tensors, and the output's cotangent. */
export interface VjpArgs<A extends Attrs = Attrs> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
  /** The cotangent of the output: same shape and dtype as the output. */
  readonly cotangent: Tensor;
}

/**
 * A VJP rule: for each input, its cotangent contribution built from graph ops, or null
 * when no gradient flows to it (a non-differentiable input, or a mask). A contribution
 * may have the output's broadcast shape: autodiff sums it down to the input's shape.
 */
export type VjpRule<A extends Attrs = Attrs> = (args: VjpArgs<A>) => readonly (Tensor | null)[];

/** The VJP of an op through which no gradient flows (floor, sign, comparisons, argmax, ...): zero. */
export const noGradient: VjpRule<Attrs> = ({ inputs }) => inputs.map(() => null);

/** The dtypes an elementwise expression works on. */
export interface ElementTypes {
  readonly inputs: readonly DType[];
  readonly output: DType;
}

/**
 * How an op becomes WGSL:
 * - `elementwise`: a WGSL expression over its operands' element values; one generic
 *   emitter handles indexing and broadcasting (and, later, fusion of chains);
 * - `alias`: the output is the input's buffer, reinterpreted (reshape, stopGradient);
 * - `kernel`: a template in `shaders/` emits one or more kernels.
 */
export type Lowering<A extends Attrs = Attrs> =
  | {
      readonly kind: 'elementwise';
      readonly expr: (args: readonly string[], attrs: A, types: ElementTypes) => string;
      /** WGSL helper functions the expression calls (deduplicated per kernel). */
      readonly helpers?: readonly string[];
    }
  | { readonly kind: 'alias' }
  | {
      readonly kind: 'kernel';
      readonly emit: (ctx: LoweringContext<A>) => readonly KernelSpec[];
      /** Whether `emit` honours `ctx.epilogue` (then elementwise consumers may fuse into it). */
      readonly acceptsEpilogue?: boolean;
      /** Whether `emit` honours `ctx.prologue` (then elementwise producers of input 0 may fuse into it). */
      readonly acceptsPrologue?: boolean;
      /**
       * Whether, for these attributes, `emit` can also compute input 1's column sums when
       * the epilogue asks (`columnSums`): a matmul xᵀ·g, whose g is summed over the same
       * axis as the product, so a bias gradient shares its weight gradient's kernel.
       */
      readonly acceptsColumnSums?: (attrs: A) => boolean;
    };

/** A reduction op's semantics and shape: what templates, row kernels and fusion ask instead of its name. */
export interface Reduction<A extends Attrs = Attrs> {
  readonly reducer: Reducer;
  /** The axes reduced, for these attributes and an input of rank `rank` (sorted). */
  axes(attrs: A, rank: number): readonly number[];
}

/**
 * How a row kernel (one invocation per row of a [rows, length] value, the row in
 * registers) computes an op along its rows, when `alongRows(attrs)`:
 * - `reduce`: one value per row, the row folded by `reducer` (sum, mean, max, ...);
 * - `normalize`: a full row, each element computed by `element` from the element `x`
 *   and the row's fold by `reducer` before finalizing (`total`, and its `shift`):
 *   softmax is exp(x − shift) / total with the logsumexp reducer.
 */
export type RowRule<A extends Attrs = Attrs> =
  | { readonly kind: 'reduce'; readonly reducer: FoldReducer; alongRows(attrs: A): boolean }
  | {
      readonly kind: 'normalize';
      readonly reducer: FoldReducer;
      alongRows(attrs: A): boolean;
      readonly element: RowNormalize;
    };

export interface OpDef<A extends Attrs = Attrs> {
  /** The op's name as printed in graphs (`matmul`, `sum`, ...). */
  readonly name: string;
  /** Number of inputs, or 'variadic' (concat). */
  readonly arity: number | 'variadic';
  /**
   * Shape and dtype rule. Runs when a node is built and again in `verify`; throws a
   * ShapeError/DTypeError naming the op, the operand types and the fix.
   */
  infer(inputs: readonly TensorType[], attrs: A): TensorType;
  /** CPU reference implementation: plain, obviously correct code; the oracle for GPU tests. */
  evaluate(inputs: readonly HostArray[], attrs: A, out: TensorType, ctx: EvalContext): HostArray;
  /**
   * Reverse-mode rule, written in graph ops so gradients can be simplified, fused and
   * differentiated again. Absent only for ops whose outputs are never differentiated
   * (sources, integer/bool results); autodiff reports a missing rule by op name.
   */
  readonly vjp?: VjpRule<A>;
  /** How the op lowers to WGSL. Absent for sources (their buffers are filled by the runtime). */
  readonly lower?: Lowering<A>;
  /** Present on reductions: the reducer (its semantics) and the axes reduced. */
  readonly reduction?: Reduction<A>;
  /** Present on ops a row kernel can compute along its rows (codegen/fused.ts, row fusion). */
  readonly row?: RowRule<A>;
  /**
   * Arithmetic operations of one evaluation at these sizes, for the profiler's achieved
   * GFLOP/s (compiler/kernel-cost.ts): a matmul's 2·m·n·k, 0 for an op that only moves
   * data. Absent: a reduction does one per input element, an alias none, any other op one
   * per output element.
   */
  flops?(inputs: readonly StaticShape[], output: StaticShape, attrs: A): number;
}

const registry = new Map<string, OpDef>();

/** Registers an op definition under its name (once) and returns it, typed. */
export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new GraphError(`op '${def.name}' is defined twice`);
  // The registry is keyed by name and holds ops of different attribute types; callers
  // that look an op up by name (verify, the interpreter) pass that node's own attrs.
  registry.set(def.name, def as unknown as OpDef);
  return def;
}

/** Looks an op up by name; throws a GraphError listing what exists if it is unknown. */
export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) {
    throw new GraphError(`unknown op '${name}'. Known ops: ${[...registry.keys()].sort().join(', ')}.`);
  }
  return def;
}

/** The parts of a node the property queries read. */
type OpNode = { readonly op: string; readonly attrs: Attrs };

/** A reduction node's reducer and axes, or undefined for other ops. */
export function reductionOf(node: OpNode): Reduction | undefined {
  return getOp(node.op).reduction;
}

/** How a row kernel computes the node along its rows, or undefined when it cannot (whatever its attributes). */
export function rowRuleOf(node: OpNode): RowRule | undefined {
  return getOp(node.op).row;
}

/** Whether the node works along axis 1 of a 2-D value by its row rule (a reduction over axis 1; a softmax along axis 1). */
export function worksAlongRows(node: OpNode): boolean {
  return getOp(node.op).row?.alongRows(node.attrs) ?? false;
}

/** Whether the node's template can compute input 1's column sums beside its own output (a matmul xᵀ·g). */
export function acceptsColumnSums(node: OpNode): boolean {
  const lower = getOp(node.op).lower;
  return lower?.kind === 'kernel' && (lower.acceptsColumnSums?.(node.attrs) ?? false);
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

/** Why a reference implementation needs static sizes: the interpreter binds a graph's dims before it evaluates. */
const EVALUATE_NEEDS = 'the reference interpreter evaluates only bound graphs (bindDims first)';

/** `shape` as numbers for a reference implementation (`evaluate`), or a ShapeError naming `op` and the symbolic dim. */
export function evalShape(op: string, shape: TensorType['shape']): StaticShape {
  return staticShape(op, shape, EVALUATE_NEEDS);
}

/** Allocates a zeroed host array of the given type in the context's precision. */
export function emptyLike(type: TensorType, ctx: EvalContext): HostArray {
  const shape = evalShape('evaluate', type.shape);
  return { shape, dtype: type.dtype, data: allocate(type.dtype, sizeOf(shape), ctx.precision) };
}
