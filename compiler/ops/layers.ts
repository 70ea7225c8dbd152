/**
 * Transformer building blocks by composition: a token embedding lookup (gather, whose
 * gradient is scatterAdd) and the fixed sinusoidal position table of "Attention Is All
 * You Need". Attention itself is a primitive (attention.ts); GELU is in unary.ts.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { requireInteger } from './args.js';
import { gather } from './gather.js';
import { requireTensor } from './lift.js';

/**
 * Looks up rows of an embedding `table` [vocab, ...dims] at i32 token `ids` of any shape,
 * giving [...ids.shape, ...dims]. Its gradient adds each position's cotangent into the
 * row it read (repeated ids accumulate). An id outside [-vocab, vocab) reads zeros, as
 * gather (a session run with `checkFeeds: true` rejects such an id fed as an input).
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  requireTensor('embedding', table, 'table');
  requireTensor('embedding', ids, 'ids');
  const operands = [table.node, ids.node];
  if (table.rank < 1) {
    throw opError(ShapeError, 'embedding', operands, 'the table is a scalar', 'pass a table of shape [vocab, dim]');
  }
  if (ids.dtype !== 'i32') {
    const fix = "declare the ids input with dtype 'i32', or .cast('i32')";
    throw opError(DTypeError, 'embedding', operands, `ids must be i32 token indices, got ${ids.dtype}`, fix);
  }
  const vocab = table.shape[0]!;
  // The ids' declared range goes with the lookup if gather refuses it (tables of two graphs).
  // A symbolic vocabulary (a table fed as an input) has no range to declare until a run.
  return ids.graph.atomically(() => {
    if (typeof vocab === 'number' && vocab > 0) ids.graph.declareRange(ids, -vocab, vocab - 1, `token ids of embedding over a vocabulary of ${vocab}`);
    return gather(table, ids, 0);
  });
}

/**
 * The sinusoidal position encodings, an f32 [length, dim] constant: for position p and
 * i < dim/2, column 2i is sin(p / 10000^(2i/dim)) and column 2i+1 the cosine of the same
 * angle (with an odd dim the last column is a sine). Computed in double, rounded once.
 */
export function sinusoidalPositions(graph: Graph, length: number, dim: number): Tensor {
  requireGraph('sinusoidalPositions', graph);
  requireInteger('sinusoidalPositions', 'length', length);
  requireInteger('sinusoidalPositions', 'dim', dim);
  if (length < 0 || dim < 0) {
    throw new ArgumentError(`sinusoidalPositions: length and dim must be non-negative, got ${length} and ${dim}.`);
  }
  const values = new Array<number>(length * dim);
  for (let position = 0; position < length; position++) {
    for (let column = 0; column < dim; column++) {
      const pair = Math.floor(column / 2);
      const angle = position / 10000 ** ((2 * pair) / dim);
      values[position * dim + column] = column % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return graph.constant(values, { shape: [length, dim] });
}
