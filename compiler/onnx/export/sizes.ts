/**
 * Symbolic sizes in an exported model. A graph input's symbolic dim is a `dim_param`
 * (`batch`); where an op needs a size as a value (an Expand's or a splat's target shape),
 * it is read at run time from a graph input that has the dim (`Shape(x)[axis]`), and a
 * polynomial (`784*batch`) is computed from those with Mul and Add, in int64.
 */

import type { Dim } from '../../dims.js';
import { isSymbolic, symbol } from '../../dims.js';
import { OnnxExportError } from '../../errors.js';
import type { Graph, Node } from '../../graph.js';
import type { Shape } from '../../shape.js';
import type { OnnxGraphBuilder } from './builder.js';

export class SymbolSizes {
  /** The [1] int64 value of each name, once written. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly builder: OnnxGraphBuilder,
    private readonly graph: Graph,
    /** Makes a graph input part of the model (so its Shape can be read). */
    private readonly useInput: (node: Node) => string,
  ) {}

  /** The name of a 1-D int64 value holding `shape` (a constant when static). */
  shape(shape: Shape, node: string): string {
    if (shape.every((d) => !isSymbolic(d))) return this.builder.int64s(shape as readonly number[]);
    const parts = shape.map((d) => this.size(d, node));
    return this.builder.addNode('Concat', parts, { axis: { int: 0 } }, `${node}:shape`)[0]!;
  }

  /** The name of a [1] int64 value holding `d`. */
  size(d: Dim, node: string): string {
    if (!isSymbolic(d)) return this.builder.int64s([d]);
    let total: string | undefined;
    for (const term of d.terms) {
      let value: string = this.builder.int64s([term.coefficient]);
      for (const name of term.names) value = this.builder.addNode('Mul', [value, this.symbol(name, node)], {}, `${node}:size`)[0]!;
      total = total === undefined ? value : this.builder.addNode('Add', [total, value], {}, `${node}:size`)[0]!;
    }
    return total!;
  }

  private symbol(name: string, node: string): string {
    const prior = this.written.get(name);
    if (prior !== undefined) return prior;
    const dim = symbol(name);
    const input = this.graph.nodes.find((n) => n.op === 'input' && n.shape.includes(dim));
    if (!input) {
      throw new OnnxExportError(`exportOnnx: ${node} needs the size of dim '${name}' as a value, and no graph input has an axis of that size to read it from. Fix: bind it (bindDims) before exporting.`);
    }
    const axis = input.shape.indexOf(dim);
    const shape = this.builder.addNode('Shape', [this.useInput(input)], {}, `${name}:shape`)[0]!;
    const value = this.builder.addNode('Gather', [shape, this.builder.int64s([axis])], { axis: { int: 0 } }, name)[0]!;
    this.written.set(name, value);
    return value;
  }
}
