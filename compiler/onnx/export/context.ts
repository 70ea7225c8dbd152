/**
 * What an op exporter sees, and the table of exporters. An exporter writes one kiln node
 * as ONNX nodes and returns the name of the value holding the node's result; each family
 * of ops registers its exporters from its own file (ops-*.ts here), as the importer's do.
 * A pattern (patterns.ts) may claim a node first and write a group of kiln nodes as one
 * ONNX op (layer norm → LayerNormalization): its exporter reads the group's inputs.
 */

import type { Dim } from '../../dims.js';
import type { DType } from '../../dtype.js';
import { OnnxExportError } from '../../errors.js';
import type { Graph, Node } from '../../graph.js';
import type { Shape, TensorType } from '../../shape.js';
import { isStaticShape } from '../../shape.js';
import type { OnnxAttributes, OnnxGraphBuilder } from './builder.js';
import type { SymbolSizes } from './sizes.js';

export class ExportContext {
  constructor(
    private readonly builder: OnnxGraphBuilder,
    /** The default-domain opset the model imports. */
    readonly opset: number,
    /** The kiln graph being exported. */
    readonly graph: Graph,
    /** The node being written (a pattern's root). */
    readonly node: Node,
    /** The kiln values this exporter reads: the node's inputs, or a pattern's operands. */
    readonly reads: readonly number[],
    private readonly nameOf: (id: number) => string,
    private readonly sizes: SymbolSizes,
  ) {}

  /** The ONNX value holding read `i`. */
  input(i: number): string {
    return this.nameOf(this.reads[i]!);
  }

  /** The kiln type of read `i`. */
  type(i: number): TensorType {
    return this.graph.node(this.reads[i]!);
  }

  /** Appends an ONNX node and returns its output. */
  op(opType: string, inputs: readonly string[], attributes: OnnxAttributes = {}): string {
    return this.builder.addNode(opType, inputs, attributes, `%${this.node.id}`)[0]!;
  }

  /** A 1-D int64 constant (shapes, axes, pads, starts). */
  int64s(values: readonly number[]): string {
    return this.builder.int64s(values);
  }

  /** A 1-D int64 value holding `shape`: a constant, or computed from the graph inputs' sizes where it is symbolic (sizes.ts). */
  shape(shape: Shape): string {
    return isStaticShape(shape) ? this.builder.int64s(shape) : this.sizes.shape(shape, `%${this.node.id}`);
  }

  /** A [1] int64 value holding the size `d`, read from the graph inputs' sizes where it is symbolic. */
  size(d: Dim): string {
    return this.sizes.size(d, `%${this.node.id}`);
  }

  /** `shape` as numbers, or a refusal saying `why` this export needs them. */
  staticShape(shape: Shape, why: string): number[] {
    if (isStaticShape(shape)) return [...shape];
    throw this.refuse(`its shape [${shape.join(',')}] is symbolic, but ${why}; bind the dims (bindDims) before exporting`);
  }

  /** An int64 scalar (CumSum's axis). */
  int64(value: number): string {
    return this.builder.int64s([value], true);
  }

  /** A constant of `shape` (default a scalar) filled with `value`. */
  constant(value: number, dtype: DType, shape: readonly number[] = []): string {
    return this.builder.addInitializer(`%${this.node.id}:${dtype}(${value})`, dtype, shape, [value]);
  }

  /** A constant with these values. */
  values(values: readonly number[], dtype: DType, shape: readonly number[]): string {
    return this.builder.addInitializer(`%${this.node.id}:values`, dtype, shape, values);
  }

  /** The error for a node this exporter cannot write, naming the op, the node and why. */
  refuse(reason: string): OnnxExportError {
    return refusal(this.node, reason);
  }
}

/** `exportOnnx: gelu %12 (f32[2,3]) has no ONNX form: reason.` */
export function refusal(node: Node, reason: string): OnnxExportError {
  const label = node.name ? ` '${node.name}'` : '';
  return new OnnxExportError(`exportOnnx: ${node.op} node %${node.id}${label} (${node.dtype}[${node.shape.join(',')}]) cannot be exported: ${reason}.`);
}

export type OpExporter = (ctx: ExportContext) => string;

const exporters = new Map<string, OpExporter>();

/** Registers the exporters of a family of kiln ops, by op name (once each). */
export function registerExporters(table: Readonly<Record<string, OpExporter>>): void {
  for (const [op, exporter] of Object.entries(table)) {
    if (exporters.has(op)) throw new OnnxExportError(`exportOnnx: two exporters for kiln op '${op}'.`);
    exporters.set(op, exporter);
  }
}

export function exporterFor(op: string): OpExporter | undefined {
  return exporters.get(op);
}

/** The kiln ops exportOnnx writes, sorted. */
export function exportedOps(): string[] {
  return [...exporters.keys()].sort();
}
