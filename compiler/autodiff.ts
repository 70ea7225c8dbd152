/**
 * Reverse-mode differentiation as a graph transform. `grad` walks the graph backwards
 * from an output, calls each op's VJP rule (written in graph ops) and accumulates the
 * cotangents of nodes with several consumers. The gradient is new nodes in the same
 * graph, so it prints, simplifies, fuses and lowers like any other part of the graph,
 * and can itself be differentiated again.
 */

import { isFloat } from './dtype.js';
import { ArgumentError, GraphError } from './errors.js';
import type { Graph } from './graph.js';
import { requireArray } from './ops/args.js';
import { add } from './ops/binary.js';
import { requireTensor } from './ops/lift.js';
import { getOp } from './ops/op.js';
import { withOrigin } from './origin.js';
import { sumToShape } from './ops/reduce.js';
import { isStaticShape, sameShape, formatType } from './shape.js';
import { SOURCE_OPS } from './ops/source.js';
import { Tensor } from './tensor.js';

/** For each node, whether its value depends on any of `roots` (a forward sweep). */
function dependsOn(graph: Graph, roots: ReadonlySet<number>): boolean[] {
  const depends = new Array<boolean>(graph.nodes.length).fill(false);
  for (const node of graph.nodes) {
    depends[node.id] = roots.has(node.id) || node.inputs.some((id) => depends[id]);
  }
  return depends;
}

/**
 * Vector-Jacobian product: the cotangents of `wrt` given cotangents of `outputs`.
 * Tensors in `wrt` that the outputs do not depend on get zeros, as in JAX.
 */
export function vjp(outputs: readonly Tensor[], cotangents: readonly Tensor[], wrt: readonly Tensor[]): Tensor[] {
  requireArray('vjp', 'outputs', outputs, 'an array of Tensors');
  requireArray('vjp', 'cotangents', cotangents, 'an array of Tensors (one per output)');
  requireArray('vjp', 'wrt', wrt, 'an array of Tensors (e.g. [w1, b1])');
  if (outputs.length === 0) throw new ArgumentError('vjp: give at least one output.');
  if (outputs.length !== cotangents.length) {
    throw new ArgumentError(`vjp: ${outputs.length} outputs but ${cotangents.length} cotangents; give one per output.`);
  }
  const graph = requireTensor('vjp', outputs[0]).graph;
  for (const t of [...outputs, ...cotangents, ...wrt]) {
    requireTensor('vjp', t);
    if (t.graph !== graph) throw new GraphError('vjp: outputs, cotangents and wrt must come from one graph.');
  }
  outputs.forEach((out, i) => {
    const ct = cotangents[i]!;
    if (!sameShape(out.shape, ct.shape) || out.dtype !== ct.dtype) {
      throw new ArgumentError(`vjp: output ${out.toString()} got a cotangent ${formatType(ct.node)}; they must match.`);
    }
    if (!isFloat(out.dtype)) {
      throw new ArgumentError(`vjp: output ${out.toString()} is ${out.dtype}; only float outputs have gradients.`);
    }
  });
  for (const w of wrt) {
    if (!isFloat(w.dtype)) {
      const fix = w.node.op === 'param' ? `declare ${w.toString()} as an f32 param and cast where an integer is needed` : 'differentiate with respect to a float tensor';
      throw new ArgumentError(
        `grad: ${w.toString()} is ${w.dtype} and cannot be differentiated; only float tensors have gradients (integer and bool values are constant to autodiff). Fix: ${fix}, or leave it out of wrt.`,
      );
    }
  }
  // Gradient nodes are built in one go: a VJP rule that throws halfway leaves none behind.
  return graph.atomically(() => backward(graph, outputs, cotangents, wrt));
}

function backward(graph: Graph, outputs: readonly Tensor[], cotangents: readonly Tensor[], wrt: readonly Tensor[]): Tensor[] {
  const depends = dependsOn(graph, new Set(wrt.map((w) => w.id)));
  const accumulated = new Map<number, Tensor>();
  const accumulate = (id: number, contribution: Tensor): void => {
    const previous = accumulated.get(id);
    accumulated.set(id, previous ? add(previous, contribution) : contribution);
  };
  outputs.forEach((out, i) => {
    if (depends[out.id]) accumulate(out.id, cotangents[i]!);
  });

  const last = Math.max(...outputs.map((o) => o.id));
  for (let id = last; id >= 0; id--) {
    const cotangent = accumulated.get(id);
    const node = graph.node(id);
    if (!cotangent || SOURCE_OPS.has(node.op)) continue;
    const wanted = node.inputs.map((input) => depends[input]! && isFloat(graph.node(input).dtype));
    if (!wanted.some(Boolean)) continue;
    const def = getOp(node.op);
    if (!def.vjp) {
      throw new GraphError(`grad: op '${node.op}' (node %${id}, ${formatType(node)}) has no gradient rule.`);
    }
    // The nodes of a node's gradient point where the node does (its scope, its line), as the forward node.
    withOrigin(graph, node.origin, () => {
      const contributions = def.vjp!({
        inputs: node.inputs.map((input) => graph.tensor(input)),
        output: graph.tensor(id),
        attrs: node.attrs,
        cotangent,
      });
      node.inputs.forEach((input, k) => {
        const contribution = contributions[k];
        if (!wanted[k] || !contribution) return;
        accumulate(input, sumToShape(contribution, graph.node(input).shape));
      });
    });
  }
  return wrt.map((w) => accumulated.get(w.id) ?? withOrigin(graph, w.node.origin, () => zerosLike(w)));
}

/** Zeros of `t`'s shape: a constant, broadcast when the shape is symbolic (constants are static). */
function zerosLike(t: Tensor): Tensor {
  return isStaticShape(t.shape) ? t.graph.constant(0, { shape: t.shape }) : t.graph.constant(0).broadcastTo(t.shape);
}

/**
 * Gradients of a scalar f32 `output` with respect to each tensor in `wrt`: parameters,
 * inputs (saliency) or any intermediate value. Returns new graph nodes.
 */
export function grad(output: Tensor, wrt: readonly Tensor[]): Tensor[] {
  requireTensor('grad', output, 'output');
  if (!(Array.isArray(wrt) && wrt.every((w) => w instanceof Tensor))) {
    throw new ArgumentError('grad: wrt must be an array of Tensors (e.g. [w1, b1]).');
  }
  if (output.rank !== 0 || output.dtype !== 'f32') {
    throw new ArgumentError(
      `grad: the output must be a scalar f32 (a loss), got ${output.toString()}. Reduce it first (e.g. .sum() or .mean()), or use vjp with a cotangent.`,
    );
  }
  const graph = output.graph;
  return graph.atomically(() => vjp([output], [withOrigin(graph, output.node.origin, () => graph.constant(1))], wrt));
}
