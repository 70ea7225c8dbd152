/**
 * `verify(graph)` checks every invariant of the IR. Passes must keep them; tests run it
 * after every pass, as XLA runs its verifier, so a broken pass is caught where it breaks.
 */

import type { Graph } from './graph.js';
import { requireGraph, roleOf } from './graph.js';
import { isDType } from './dtype.js';
import { GraphError, KilnError } from './errors.js';
import { getOp } from './ops/op.js';
import { isStaticShape, sameShape } from './shape.js';
import { requireListedOutputs } from './graph-options.js';

export function verify(graph: Graph): void {
  requireGraph('verify', graph);
  requireListedOutputs('verify', graph);
  const fail = (message: string): never => {
    throw new GraphError(`verify(${graph.name}): ${message}`);
  };
  const names = new Map<string, number>();
  graph.nodes.forEach((node, index) => {
    const where = `node %${index} (${node.op})`;
    if (node.id !== index) fail(`${where} has id ${node.id}; ids must equal positions`);
    let def;
    try {
      def = getOp(node.op);
    } catch (e) {
      return fail(`${where}: ${(e as Error).message}`);
    }
    if (def.arity !== 'variadic' && node.inputs.length !== def.arity) {
      fail(`${where} has ${node.inputs.length} inputs; ${node.op} takes ${def.arity}`);
    }
    for (const input of node.inputs) {
      if (!Number.isInteger(input) || input < 0 || input >= index) {
        fail(`${where} reads %${input}, which is not an earlier node (the graph must be topologically ordered)`);
      }
    }
    if (!isDType(node.dtype)) fail(`${where} has unknown dtype '${String(node.dtype)}'`);
    try {
      JSON.stringify(node.attrs, (_, v: unknown) => {
        if (typeof v === 'function' || typeof v === 'bigint') throw new Error('not JSON');
        return v;
      });
    } catch {
      fail(`${where} has attributes that are not plain JSON`);
    }
    let inferred;
    try {
      inferred = def.infer(
        node.inputs.map((id) => graph.node(id)),
        node.attrs,
      );
    } catch (e) {
      if (e instanceof KilnError) return fail(`${where} no longer type-checks: ${e.message}`);
      throw e;
    }
    if (!sameShape(inferred.shape, node.shape) || inferred.dtype !== node.dtype) {
      fail(
        `${where} records ${node.dtype}[${node.shape.join(',')}] but its inputs give ${inferred.dtype}[${inferred.shape.join(',')}]`,
      );
    }
    const role = roleOf(node);
    if ((role === 'param' || role === 'state' || role === 'const') && !isStaticShape(node.shape)) fail(`${where} has the symbolic shape [${node.shape.join(',')}]; a ${role} is always static`);
    if (role === 'input' || role === 'param' || role === 'state') {
      if (typeof node.name !== 'string' || node.name === '') fail(`${where} has no name`);
      const other = names.get(node.name!);
      if (other !== undefined) fail(`${where} reuses the name '${node.name}' of %${other}`);
      names.set(node.name!, index);
    }
  });
  const exists = (id: number): boolean => Number.isInteger(id) && id >= 0 && id < graph.nodes.length;
  for (const [name, id] of graph.outputs) {
    if (!exists(id)) fail(`output '${name}' points at missing node %${id}`);
  }
  for (const [target, value] of graph.assignments) {
    if (!exists(target) || !exists(value)) fail(`assignment %${target} <- %${value} names a missing node`);
    const t = graph.node(target);
    const v = graph.node(value);
    if (t.op !== 'param' && t.op !== 'state') fail(`assignment target %${target} is a ${t.op}, not a param or state`);
    if (!sameShape(t.shape, v.shape) || t.dtype !== v.dtype) {
      fail(`assignment %${target} <- %${value}: ${t.dtype}[${t.shape.join(',')}] vs ${v.dtype}[${v.shape.join(',')}]`);
    }
  }
}
