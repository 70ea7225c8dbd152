/**
 * The contract between code generation and the kernel templates in `shaders/`: what a
 * template is given to lower a node (`LoweringContext`, with fused prologue/epilogue
 * code) and what it returns (`KernelSpec`). Templates import these types from here and
 * never from passes/ or ops/, so the templates sit below the compiler's stages.
 */

import type { Attrs } from '../attrs.js';
import type { DType } from '../dtype.js';
import type { KernelLimits } from '../limits.js';
import type { Dim, Shape } from '../shape.js';
import type { TuningTable } from './tuning.js';

/** A workgroup count: a number, or ceil(size / per) for a symbolic size, computed by the runtime per run. */
export type WorkgroupCount = number | { readonly size: Dim; readonly per: number };

/** What a kernel template is given to lower one node. */
export interface LoweringContext<A extends Attrs = Attrs> {
  /** The node's id, output shape and dtype. */
  readonly node: { readonly id: number; readonly shape: Shape; readonly dtype: DType };
  readonly inputs: readonly { readonly id: number; readonly shape: Shape; readonly dtype: DType }[];
  readonly attrs: A;
  /** The kernel's WGSL-safe name (`k12_matmul`); templates suffix it when they emit several. */
  readonly name: string;
  readonly limits: KernelLimits;
  /** Lines for the kernel's header comment: the node(s) it implements, names sanitized. */
  readonly header: readonly string[];
  /**
   * Elementwise work fused after this node (epilogue fusion). A template that takes one
   * declares the epilogue's code and, instead of storing each output element, calls
   * `kiln_epilogue(i, value)` with the element's flat index; templates that cannot are
   * never given one (see `acceptsEpilogue`).
   */
  readonly epilogue?: Epilogue;
  /**
   * Elementwise producers of input 0 fused into this kernel's reads (input fusion): the
   * template calls `kiln_prologue(j)` for input element j instead of reading a buffer.
   */
  readonly prologue?: Prologue;
  /** The adapter's measured kernel choices (`compile`'s `tuning` option); templates use their default without it. */
  readonly tuning?: TuningTable;
  /**
   * The plan's symbolic dims, in the size block's order: a template whose sizes may be
   * symbolic (`wgslSize`) passes them to `workgroupKernelSource`/`perElementKernel`.
   */
  readonly dims: readonly string[];
}

/** Elementwise producers fused into a kernel's reads of its first input. */
export interface Prologue {
  /** The prologue's buffers (all read), bound first. */
  readonly bindings: readonly KernelBinding[];
  /** Binding declarations (numbered from `firstBinding`), helpers and `fn kiln_prologue(j: u32) -> T`. */
  code(firstBinding: number): string[];
}

/** Elementwise consumers fused into a kernel's store: extra bindings and the function that runs them. */
export interface Epilogue {
  /** The epilogue's buffers (its outputs read_write), bound after the template's own inputs. */
  readonly bindings: readonly KernelBinding[];
  /** Binding declarations (numbered from `firstBinding`), helpers and `fn kiln_epilogue(i: u32, value: T)`. */
  code(firstBinding: number): string[];
  /**
   * For a matmul xᵀ·b: also compute b's column sums, as an extra output row after the m·n
   * elements (flat indices m·n …), so a bias gradient fuses with its weight gradient.
   */
  readonly columnSums?: boolean;
}

/**
 * A kernel a template emits: its WGSL, dispatch and workgroup size, and the nodes bound,
 * in binding order. Bindings, workgroup size and workgroup storage are written by the same
 * code that writes the WGSL's declarations (`KernelBindings`, `workgroupKernelSource` in wgsl.ts), so
 * nothing after code generation reads them back out of the WGSL.
 */
export interface KernelSpec {
  readonly name: string;
  readonly wgsl: string;
  /** Workgroups dispatched; a count may be ceil(size / per) of a symbolic size, evaluated per run. */
  readonly workgroups: readonly [WorkgroupCount, WorkgroupCount, WorkgroupCount];
  /** The runtime folds an x count past the limit into y (see `PlanKernel.foldX`). */
  readonly foldX?: boolean;
  /** Reads the size block `kiln_dims` at `@group(1) @binding(0)`. */
  readonly readsDims?: boolean;
  /** `@workgroup_size(x, y, z)` of the WGSL's entry point. */
  readonly workgroupSize: readonly [number, number, number];
  /** Bytes of workgroup memory its `var<workgroup>` arrays take, as WebGPU counts them (0: none). */
  readonly workgroupStorageBytes: number;
  /** The buffers bound at bindings 0, 1, …, the lowered node's own (read_write) among them. */
  readonly bindings: readonly KernelBinding[];
  /**
   * True when every output element is computed from the same-index elements of its
   * same-shaped inputs only (elementwise and loop-fused kernels). Informational: fusion
   * decides in-place writes before any kernel exists (compiler/passes/fusion/in-place.ts).
   */
  readonly elementwise?: boolean;
}

/** How a kernel uses a storage buffer: `read` (`var<storage, read>`) or `read_write`. */
export type BindingAccess = 'read' | 'read_write';

/** One storage binding of a kernel: the node whose buffer is bound, and how the kernel uses it. */
export interface KernelBinding {
  readonly node: number;
  readonly access: BindingAccess;
}
