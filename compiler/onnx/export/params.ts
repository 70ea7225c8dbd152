/**
 * The values an export writes as initializers: the params and state the forward entry
 * reads, from the caller (`session.getParams()`, a checkpoint) or, when none are given,
 * the graph's initializers. Each is checked against its node: a missing one, one of the
 * wrong shape or dtype, or a name the graph does not have is an OnnxExportError naming it.
 */

import { OnnxExportError } from '../../errors.js';
import type { Graph, Node } from '../../graph.js';
import { initialParams } from '../../reference.js';
import { formatType, sameShape, sizeOf } from '../../shape.js';

/** A param's value: a host tensor `{shape, dtype, data}` (as sessions return them), or flat row-major numbers. */
export type ExportParamValue = { readonly shape: readonly number[]; readonly dtype: string; readonly data: ArrayLike<number> } | ArrayLike<number>;

export type ExportParams = Readonly<Record<string, ExportParamValue>>;

function isHostTensor(value: ExportParamValue): value is Exclude<ExportParamValue, ArrayLike<number>> {
  return 'shape' in value && 'dtype' in value && 'data' in value;
}

/** Checks every given name against the graph's params and state. */
export function checkParamNames(graph: Graph, params: ExportParams): void {
  if (params === null || typeof params !== 'object') {
    throw new OnnxExportError(`exportOnnx: params must be an object of values by name (e.g. await session.getParams()), got ${params === null ? 'null' : typeof params}.`);
  }
  const known = new Set([...graph.nodesOfRole('param'), ...graph.nodesOfRole('state')].map((n) => n.name!));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) {
      throw new OnnxExportError(`exportOnnx: params has a value for '${name}', but graph '${graph.name}' has no param or state of that name. Known: ${[...known].join(', ') || 'none'}.`);
    }
  }
}

/** The values of a param or state node, checked; from `params` when given, else its initializer. */
export function paramValues(node: Node, params: ExportParams | undefined, initial: () => ReturnType<typeof initialParams>): ArrayLike<number> {
  const name = node.name!;
  const what = `${node.op} '${name}' (${formatType(node)})`;
  if (params === undefined) return initial()[name]!.data;
  const value = params[name];
  if (value === undefined || value === null || typeof value !== 'object') {
    throw new OnnxExportError(`exportOnnx: no value for ${what}, which the forward entry reads; give every param and state in params (session.getParams() returns them all).`);
  }
  if (isHostTensor(value)) {
    if (value.dtype !== node.dtype || !sameShape(value.shape, node.shape)) {
      throw new OnnxExportError(`exportOnnx: the value for ${what} is ${value.dtype}[${value.shape.join(',')}]; it must be ${formatType(node)}.`);
    }
    return value.data;
  }
  if (typeof value.length !== 'number' || value.length !== sizeOf(node.shape)) {
    throw new OnnxExportError(`exportOnnx: the value for ${what} has ${String(value.length)} numbers; it needs ${sizeOf(node.shape)} (flat, row-major).`);
  }
  return value;
}
