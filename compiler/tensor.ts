/**
 * A Tensor is a handle to one node of a graph: it has a shape and a dtype, but no
 * values (values exist only when a graph is run). Methods build new nodes, so models
 * read as chains: `x.matmul(w).add(b).relu()`.
 */

import type { DType } from './dtype.js';
import type { Graph, Node } from './graph.js';
import type { Shape } from './shape.js';
import { formatType, sizeOf } from './shape.js';

/** Anything an op accepts as an operand: a tensor, or a number lifted to a constant. */
export type TensorLike = Tensor | number;

export class Tensor {
  /** @internal Tensors are created by their graph; use graph.input/param/... and ops. */
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}

  get node(): Node {
    return this.graph.node(this.id);
  }

  get shape(): Shape {
    return this.node.shape;
  }

  get dtype(): DType {
    return this.node.dtype;
  }

  get rank(): number {
    return this.node.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.node.shape);
  }

  /** The user's name for inputs, params and state. */
  get name(): string | undefined {
    return this.node.name;
  }

  toString(): string {
    return `${this.node.name ?? `%${this.id}`}:${formatType(this.node)}`;
  }
}
