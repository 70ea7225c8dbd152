/**
 * The fusion group: fusion's complete decision about one kernel, as plain data (it prints
 * as JSON). The emitter (codegen/fused.ts) builds the kernel from it and nothing else.
 */

import type { KernelKind } from '../../plan-format.js';
import type { Shape } from '../../shape.js';

export type { KernelKind } from '../../plan-format.js';

/** An update value the kernel writes straight into the param/state it updates (no buffer, no copy). */
export interface InPlaceWrite {
  readonly value: number;
  readonly target: number;
}

export interface FusionGroup {
  /**
   * The rule that formed the kernel, in the plan's words: loop, input (a prologue), epilogue,
   * sibling (column sums), row; `single` is one op alone (never `init`: fusion makes no init kernels).
   */
  readonly kind: KernelKind;
  /** The rule's one-line reason (also the first line of a fused kernel's header comment). */
  readonly reason: string;
  /** The kernel node an epilogue is built around (a matmul, a reduction). */
  readonly anchor?: number;
  /** Members in topological order (the anchor first). */
  readonly nodes: readonly number[];
  /** Members whose values are needed outside the group. */
  readonly outputs: readonly number[];
  /** The iteration space of element code (loop and epilogue groups); a row group's [rows, length]. */
  readonly shape: Shape;
  /**
   * Input fusion: elementwise nodes computing the anchor's first input, evaluated as the
   * anchor reads each element (over `shape`, the input's shape), ending in `result`.
   */
  readonly prologue?: { readonly nodes: readonly number[]; readonly shape: Shape; readonly result: number };
  /**
   * Sibling fusion of a bias gradient with its weight gradient: for an anchor xᵀ·g, the
   * column sums of g (a sum over axis 0, with its own epilogue) come from the same kernel
   * as an extra row. These nodes are also listed in `nodes` and `outputs`.
   */
  readonly columnSums?: { readonly anchor: number; readonly nodes: readonly number[]; readonly outputs: readonly number[] };
  /** Outputs written over the param/state they update, which the kernel binds read_write instead. */
  readonly inPlace: readonly InPlaceWrite[];
  /**
   * The storage buffers the kernel binds, exactly (the emitter checks it). Absent for an op
   * lowered alone by its own template, which decides its bindings (a concat binds per part).
   */
  readonly storageBuffers?: number;
}
