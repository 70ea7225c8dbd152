/**
 * The checks of the reference interpreter's arguments (`interpret`, `evaluate`,
 * `evaluateNodes`, `runEntry`): a graph where a graph belongs, options with known keys
 * and values, and feeds and params that each name a node of the graph. A value given
 * under a misspelled name would otherwise be ignored and the initializer used instead.
 */

import { ArgumentError, FeedError } from './errors.js';
import type { Graph } from './graph.js';
import { requireGraph } from './graph.js';
import { checkKeys } from './ops/args.js';

const OPTION_KEYS = ['feeds', 'params', 'precision', 'mode'];
const PRECISIONS = ['f32', 'f64'];
const MODES = ['infer', 'train'];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `'${value}'` : typeof value;
}

function checkChoice(where: string, key: string, value: unknown, choices: readonly string[]): void {
  if (value !== undefined && !choices.includes(value as string)) {
    throw new ArgumentError(`${where}: ${key} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${describe(value)}.`);
  }
}

/** Throws an ArgumentError naming `where` unless `precision` is a float precision kiln computes in (or undefined: the default). */
export function checkPrecision(where: string, precision: unknown): void {
  checkChoice(where, 'precision', precision, PRECISIONS);
}

/** A name in `values` that no input (feeds) or param/state (params) has is an error listing the names there are. */
function checkNames(where: string, graph: Graph, values: unknown, key: 'feeds' | 'params'): void {
  if (values === undefined) return;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ArgumentError(`${where}: ${key} must be an object of name → values, got ${describe(values)}.`);
  }
  const roles = key === 'feeds' ? ['input'] : ['param', 'state'];
  const known = graph.nodes.filter((node) => roles.includes(node.op)).map((node) => node.name!);
  const knownSet = new Set(known);
  const unknown = Object.keys(values).find((name) => !knownSet.has(name));
  if (unknown === undefined) return;
  const listed = known.join(', ') || 'none';
  if (key === 'feeds') throw new FeedError(`${where}: feed '${unknown}' matches no input of graph '${graph.name}'. Inputs: ${listed}.`);
  throw new FeedError(
    `${where}: params names '${unknown}', but graph '${graph.name}' has no param or state by that name (it would have kept its initial value). Params and state: ${listed}.`,
  );
}

/** Checks the graph and the options (`InterpretOptions`) of a reference run. */
export function checkInterpretCall(where: string, graph: unknown, options: unknown): void {
  requireGraph(where, graph);
  if (options === undefined) return;
  checkKeys(where, options, OPTION_KEYS);
  const { feeds, params, precision, mode } = options as Record<string, unknown>;
  checkChoice(where, 'precision', precision, PRECISIONS);
  checkChoice(where, 'mode', mode, MODES);
  checkNames(where, graph as Graph, feeds, 'feeds');
  checkNames(where, graph as Graph, params, 'params');
}

/** The value given under `name`, if `values` has it as its own key (an input named `constructor` is not fed by Object's). */
export function ownValue<T>(values: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(values, name) ? values[name] : undefined;
}
