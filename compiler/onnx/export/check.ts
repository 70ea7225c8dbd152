/**
 * The structural rules of the ONNX checker that an exported model must keep, written out
 * (the checker itself is Python): an IR version and a default-domain opset import; each
 * value defined once (graph inputs, initializers, node outputs); nodes in topological
 * order, every input defined before the node that reads it; the graph's inputs and
 * outputs declared with a tensor type and a shape; initializers whose bytes fill their
 * dims; unique node names. Returns the problems found, each naming the value or node.
 */

import type { onnx as onnxTypes } from 'onnx-proto';
import { onnx, rawElementBytes, typedField } from '../tensor-proto.js';

const count = (dims: readonly (number | { toNumber(): number })[]): number => dims.reduce<number>((n, d) => n * Number(d), 1);

function checkDeclared(problems: string[], what: string, info: onnxTypes.IValueInfoProto): void {
  const tensor = info.type?.tensorType;
  if (!info.name) problems.push(`a graph ${what} has no name`);
  else if (!tensor || !tensor.elemType) problems.push(`graph ${what} '${info.name}' has no tensor element type`);
  else if (!tensor.shape) problems.push(`graph ${what} '${info.name}' has no shape`);
}

function checkInitializer(problems: string[], tensor: onnxTypes.ITensorProto): void {
  const type = tensor.dataType ?? 0;
  const bytes = rawElementBytes(type);
  const elements = count(tensor.dims ?? []);
  if (bytes === undefined) {
    problems.push(`initializer '${tensor.name}' has element type ${tensor.dataType}, which kiln does not read`);
    return;
  }
  const raw = tensor.rawData?.length ?? 0;
  const held = raw > 0 ? raw / bytes : typedField(tensor, type).length;
  if (held !== elements) problems.push(`initializer '${tensor.name}' holds ${held} values; its dims [${(tensor.dims ?? []).join(',')}] need ${elements}`);
}

/** The problems `model` (decoded, or its bytes) has against ONNX's structural rules; empty when it keeps them all. */
export function checkOnnxModel(model: onnxTypes.IModelProto | Uint8Array): string[] {
  const decoded = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const problems: string[] = [];
  if (!decoded.irVersion) problems.push('the model has no IR version');
  const defaultOpset = (decoded.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (!defaultOpset || !defaultOpset.version) problems.push('the model imports no default-domain opset');
  const graph = decoded.graph;
  if (!graph) return [...problems, 'the model has no graph'];
  if (!graph.name) problems.push('the graph has no name');
  const defined = new Set<string>();
  const define = (name: string | null | undefined, what: string): void => {
    if (!name) problems.push(`${what} has an empty name`);
    else if (defined.has(name)) problems.push(`${what} '${name}' defines a value that is already defined; ONNX values are defined once`);
    else defined.add(name);
  };
  for (const input of graph.input ?? []) {
    checkDeclared(problems, 'input', input);
    define(input.name, 'graph input');
  }
  for (const tensor of graph.initializer ?? []) {
    checkInitializer(problems, tensor);
    define(tensor.name, 'initializer');
  }
  const nodeNames = new Set<string>();
  (graph.node ?? []).forEach((node, index) => {
    const label = `node ${index} (${node.opType} '${node.name ?? ''}')`;
    if (!node.opType) problems.push(`node ${index} has no op type`);
    if (node.domain && node.domain !== 'ai.onnx') problems.push(`${label} is in domain '${node.domain}', which the model does not import`);
    if (node.name) {
      if (nodeNames.has(node.name)) problems.push(`${label} has the name of an earlier node`);
      nodeNames.add(node.name);
    }
    for (const input of node.input ?? []) {
      // An empty name is an omitted optional input.
      if (input !== '' && !defined.has(input)) problems.push(`${label} reads '${input}' before any graph input, initializer or earlier node defines it`);
    }
    for (const output of node.output ?? []) define(output, `output of ${label}`);
  });
  for (const output of graph.output ?? []) {
    checkDeclared(problems, 'output', output);
    if (output.name && !defined.has(output.name)) problems.push(`graph output '${output.name}' is not defined by any node, input or initializer`);
  }
  const declared = new Set<string>();
  for (const info of graph.valueInfo ?? []) {
    if (!info.name || !defined.has(info.name)) problems.push(`value info names '${info.name ?? ''}', which no node defines`);
    else if (declared.has(info.name)) problems.push(`value info declares '${info.name}' twice`);
    else declared.add(info.name);
  }
  return problems;
}
