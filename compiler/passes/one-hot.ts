/**
 * oneHot(x, depth) → equal(x with a size-1 axis inserted, [0, 1, …, depth−1]): the same
 * values (an index outside [0, depth) matches nothing, so its row is all zeros), but as
 * an elementwise comparison with broadcasting, which fuses into the kernels around it
 * instead of needing one of its own.
 */

import { equal, where } from '../ops/binary.js';
import { reshape } from '../ops/shape.js';
import type { DType } from '../dtype.js';
import type { GraphProgram, Rewrite } from './program.js';
import { rebuild } from './program.js';

const expandOneHot: Rewrite = (node, [indices], graph) => {
  if (node.op !== 'oneHot') return undefined;
  const depth = node.attrs['depth'] as number;
  const axis = node.attrs['axis'] as number;
  const dtype = node.attrs['dtype'] as DType;
  const rank = node.shape.length;
  // The class values run along `axis`; trailing size-1 axes line them up with it.
  const classes = graph.constant(
    Array.from({ length: depth }, (_, i) => i),
    { dtype: 'i32', shape: [depth, ...new Array<number>(rank - axis - 1).fill(1)] },
  );
  const expanded = reshape(indices!, [...indices!.shape.slice(0, axis), 1, ...indices!.shape.slice(axis)]);
  const mask = equal(expanded, classes);
  return dtype === 'bool' ? mask : where(mask, graph.constant(1, { dtype }), graph.constant(0, { dtype }));
};

export function expandOneHots(program: GraphProgram): GraphProgram {
  return rebuild(program, expandOneHot);
}
