/**
 * Canonical text of attributes and constants: equal values give equal strings, so passes
 * can compare nodes by key (CSE) and whole graphs by fingerprint (simplify's fixed point).
 */

import { SymDim } from '../dims.js';
import type { AttrValue, Attrs } from '../ops/op.js';
import type { GraphProgram } from './program.js';

/** A number's spelling that keeps what JSON loses: NaN, ±Infinity and −0 stay distinct. */
function numberKey(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/**
 * JSON-like text of an attribute value with object keys sorted, so `{a, b}` and `{b, a}`
 * agree, and with numbers spelled by `numberKey` (JSON writes NaN and Infinity as null).
 */
export function canonicalJson(value: AttrValue | Attrs): string {
  if (typeof value === 'number') return numberKey(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value === 'boolean') return String(value);
  // Tagged as graph JSON tags it, so a symbolic size never equals the string that prints it.
  if (value instanceof SymDim) return `{"dim":${JSON.stringify(value.toString())}}`;
  if (Array.isArray(value)) return `[${value.map((v: AttrValue) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A whole program as text: two programs with equal fingerprints are the same. */
export function fingerprint({ graph, entries }: GraphProgram): string {
  const nodes = graph.nodes.map((n) => `${n.op}(${n.inputs.join(',')})${canonicalJson(n.attrs)}${n.name ?? ''}`);
  const declared = `out ${canonicalJson(Object.fromEntries(graph.outputs))} assign ${canonicalJson([...graph.assignments])}`;
  const points = Object.entries(entries).map(
    ([name, e]) => `entry ${name} ${canonicalJson(e.outputs)} ${canonicalJson(e.assignments.map(([t, v]) => [t, v]))}`,
  );
  return [...nodes, declared, ...points].join('\n');
}
