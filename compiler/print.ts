/**
 * Prints a graph as readable SSA text, in the spirit of a jaxpr:
 *
 *   graph mlp {
 *     in    x:f32[128,784]  labels:i32[128]
 *     param w1:f32[784,128] ~ glorotUniform
 *     let %4:f32[128,128] = matmul x w1
 *         %5:f32[128,128] = add %4 b1
 *     out   loss = %12
 *   }
 *
 * Scalar constants are printed inline where they are used (`mul %5 0.5`).
 */

import type { Graph, Node } from './graph.js';
import type { AttrValue, Attrs } from './ops/op.js';
import { formatType } from './shape.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.\/-]*$/;

function quoteName(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function formatNumber(value: number, dtype: string): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (dtype === 'f32' && Number.isInteger(value)) return `${value}.0`;
  return String(value);
}

function formatAttr(value: AttrValue): string {
  if (Array.isArray(value)) return `[${value.map(formatAttr).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${formatAttr(v as AttrValue)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** `[axes=[1], keepdims]`: boolean attributes print as flags when true and not at all when false. */
function formatAttrs(attrs: Attrs): string {
  const entries = Object.entries(attrs).filter(([, v]) => v !== undefined && v !== false);
  if (entries.length === 0) return '';
  return `[${entries.map(([k, v]) => (v === true ? k : `${k}=${formatAttr(v)}`)).join(', ')}]`;
}

function isInlineConst(node: Node): boolean {
  return node.op === 'const' && node.shape.length === 0;
}

function formatConstValues(node: Node): string {
  const values = node.attrs['value'] as readonly number[];
  const shown = values.slice(0, 8).map((v) => formatNumber(v, node.dtype));
  if (values.length === 1) return shown[0]!;
  return `[${shown.join(', ')}${values.length > 8 ? `, … ${values.length} values` : ''}]`;
}

export function printGraph(graph: Graph): string {
  const refName = (id: number): string => {
    const node = graph.node(id);
    if (isInlineConst(node)) return formatConstValues(node);
    return node.name !== undefined && node.op !== 'const' ? quoteName(node.name) : `%${id}`;
  };
  const declare = (node: Node): string => `${refName(node.id)}:${formatType(node)}`;
  const lines: string[] = [`graph ${quoteName(graph.name)} {`];
  const section = (label: string, items: string[]): void => {
    if (items.length > 0) lines.push(`  ${label.padEnd(5)} ${items.join('  ')}`);
  };
  section('in', graph.nodesOfRole('input').map(declare));
  for (const role of ['param', 'state'] as const) {
    for (const node of graph.nodesOfRole(role)) {
      const init = node.attrs['init'] as { kind: string };
      const { kind, ...rest } = init;
      section(role, [`${declare(node)} ~ ${kind}${formatAttrs(rest as Attrs)}`]);
    }
  }
  let first = true;
  for (const node of graph.nodes) {
    const isSource = node.op === 'input' || node.op === 'param' || node.op === 'state';
    if (isSource || isInlineConst(node)) continue;
    const rhs =
      node.op === 'const'
        ? `const ${formatConstValues(node)}`
        : [`${node.op}${formatAttrs(node.attrs)}`, ...node.inputs.map(refName)].join(' ');
    lines.push(`  ${first ? 'let  ' : '     '} ${declare(node)} = ${rhs}`);
    first = false;
  }
  section('out', [...graph.outputs].map(([name, id]) => `${quoteName(name)} = ${refName(id)}`));
  for (const [target, value] of graph.assignments) lines.push(`  assign ${refName(target)} <- ${refName(value)}`);
  lines.push('}');
  return lines.join('\n');
}
