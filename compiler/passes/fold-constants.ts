/**
 * Constant folding: a node whose inputs are all consts is evaluated now, with the
 * reference interpreter in f32 (the GPU's precision), and becomes a const. Results that
 * are one value repeated stay splats, which elementwise kernels inline as literals.
 */

import { allocate } from '../dtype.js';
import type { Graph, Node } from '../graph.js';
import { getOp } from '../ops/op.js';
import { attrDims } from '../attrs.js';
import { isStaticShape, sizeOf, staticShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { constHost, isConst, makeConst, splatValue } from './constants.js';
import { isPure } from './effects.js';
import type { GraphProgram } from './program.js';
import { rebuild } from './program.js';

/** The largest folded result stored element by element: a folded const lives in the plan's JSON. */
export const MAX_FOLDED_ELEMENTS = 4096;
/** The most elements a fold may read, so folding a reduction of a huge constant stays cheap at compile time. */
const MAX_READ_ELEMENTS = 1 << 16;
/** Ops that only move or re-index elements: over a splat they give the same splat, whatever the size. */
const MOVEMENT_OPS: ReadonlySet<string> = new Set(['reshape', 'broadcastTo', 'transpose', 'slice', 'stopGradient']);

const F32 = { precision: 'f32' } as const;

/**
 * The splat a node gives when every input is a splat and the node is elementwise or a
 * movement op: one value, at any size. Undefined when that is not the case.
 */
export function foldSplat(node: Node, inputs: readonly Tensor[], graph: Graph): Tensor | undefined {
  const splats = inputs.map(splatValue);
  // Constants are static: a value of a symbolic shape stays a broadcast (a run gives its size).
  if (!isStaticShape(node.shape)) return undefined;
  if (inputs.length === 0 || splats.some((v) => v === undefined)) return undefined;
  const def = getOp(node.op);
  if (MOVEMENT_OPS.has(node.op)) return makeConst(graph, node, [splats[0]!]);
  if (def.lower?.kind !== 'elementwise') return undefined;
  // An elementwise op's value on splats is its value on one element of each.
  const scalars = inputs.map((t, i) => {
    const data = allocate(t.dtype, 1, 'f32');
    data[0] = splats[i]!;
    return { shape: [], dtype: t.dtype, data };
  });
  const value = def.evaluate(scalars, node.attrs, { shape: [], dtype: node.dtype }, F32);
  return makeConst(graph, node, value.data);
}

function foldNode(node: Node, inputs: readonly Tensor[], graph: Graph): Tensor | undefined {
  // Sources are already values; impure ops must run every time.
  if (node.op === 'const' || !isPure(node.op) || !inputs.every(isConst)) return undefined;
  // A symbolic size (a dimSize of `batch`, a symbolic shape) has no value until a run: bindDims first.
  if (!isStaticShape(node.shape) || attrDims(node.attrs).length > 0) return undefined;
  const splat = foldSplat(node, inputs, graph);
  if (splat) return splat;
  const read = inputs.reduce((n, t) => n + sizeOf(staticShape(t.node.op, t.shape, 'a constant is static')), 0);
  if (sizeOf(node.shape) > MAX_FOLDED_ELEMENTS || read > MAX_READ_ELEMENTS) return undefined;
  const value = getOp(node.op).evaluate(inputs.map(constHost), node.attrs, node, F32);
  return makeConst(graph, node, value.data);
}

export function foldConstants(program: GraphProgram): GraphProgram {
  return rebuild(program, foldNode);
}
