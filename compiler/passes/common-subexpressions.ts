/**
 * Common-subexpression elimination: two nodes with the same op, the same (already
 * merged) inputs and the same attributes compute the same value, so the second becomes
 * the first; equal literals (dtype, shape and values) merge too. Autodiff and optimizers
 * build many such twins (a `0.0` per `where`, the same broadcast for several consumers).
 */

import type { ConstAttrs } from '../ops/source.js';
import type { Tensor } from '../tensor.js';
import { getOp } from '../ops/op.js';
import { canonicalJson } from './canonical.js';
import { constKey } from './constants.js';
import { isPure } from './effects.js';
import type { GraphProgram } from './program.js';
import { rebuild } from './program.js';

export function eliminateCommonSubexpressions(program: GraphProgram): GraphProgram {
  const seen = new Map<string, Tensor>();
  return rebuild(program, (node, inputs, graph) => {
    // An impure op's two nodes are two draws: never one.
    if (!isPure(node.op)) return undefined;
    const key =
      node.op === 'const'
        ? constKey(node.dtype, node.shape, (node.attrs as ConstAttrs).value)
        : `${node.op}(${inputs.map((t) => t.id).join(',')})${canonicalJson(node.attrs)}`;
    const existing = seen.get(key);
    if (existing) return existing;
    const built = graph.addNode(getOp(node.op), inputs, node.attrs, node.name);
    seen.set(key, built);
    return built;
  });
}
