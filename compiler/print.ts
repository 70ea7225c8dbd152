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
import { SymDim } from './dims.js';
import { formatType } from './shape.js';
import { requireGraph } from './graph.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.\/-]*$/;
/** Characters that would break a printed line or drive a terminal: controls (newline, ESC), format characters (bidi overrides), line and paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const escapeUnprintable = (c: string): string => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;

/** `"a\u000ab"`: the name as a JSON string, with every unprintable character escaped (JSON leaves U+2028 and bidi overrides raw). */
function quoted(name: string): string {
  return JSON.stringify(name).replace(UNPRINTABLE, escapeUnprintable);
}

function quoteName(name: string): string {
  return IDENTIFIER.test(name) ? name : quoted(name);
}

/**
 * A user's name as printed text (plans, reports, the `kiln inspect` CLI): unchanged unless
 * it holds unprintable characters, which could forge lines or send terminal escapes; then
 * quoted, with them escaped.
 */
export function printableName(name: string): string {
  return name.search(UNPRINTABLE) < 0 ? name : quoted(name);
}

/** Free text that may hold users' names (a fusion rule's reason), with unprintable characters escaped as `\\uXXXX`. */
export function printableText(text: string): string {
  return text.replace(UNPRINTABLE, escapeUnprintable);
}

function formatNumber(value: number, dtype: string): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (dtype === 'f32' && Number.isInteger(value)) return `${value}.0`;
  return String(value);
}

function formatAttr(value: AttrValue): string {
  if (value instanceof SymDim) return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatAttr).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${formatAttr(v as AttrValue)}`)
      .join(', ')}}`;
  }
  // Strings may be user-given (a dropout stream's name).
  return typeof value === 'string' ? printableName(value) : String(value);
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
  requireGraph('printGraph', graph);
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
