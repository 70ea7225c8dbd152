/**
 * Name scopes: layers built inside `scope(graph, 'block0', ...)` name their params
 * `block0.<layer>.<param>`, as PyTorch's module paths do (`block0.attn.q.kernel`). The
 * open scopes are per graph, so two graphs built side by side do not see each other's.
 */

import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import { checkName } from '../names.js';

const openScopes = new WeakMap<Graph, string[]>();

/**
 * Runs `build` with `name` appended to the graph's scope, and returns what it returns.
 * The scope closes when `build` returns or throws. Scopes nest:
 * `scope(g, 'block0', () => scope(g, 'attn', () => linear(g, 'q', 64, 64)))` names the
 * kernel `block0.attn.q.kernel`.
 */
export function scope<T>(graph: Graph, name: string, build: () => T): T {
  requireGraph('nn.scope', graph);
  checkScopeName('nn.scope', name);
  if (typeof build !== 'function') throw new ArgumentError(`nn.scope: build must be a function that creates the layers, got ${typeof build}.`);
  const stack = openScopes.get(graph) ?? [];
  openScopes.set(graph, stack);
  stack.push(name);
  try {
    return build();
  } finally {
    stack.pop();
  }
}

/** `name` under the graph's open scopes: `block0.attn.q`. */
export function scopedName(graph: Graph, name: string): string {
  return [...(openScopes.get(graph) ?? []), name].join('.');
}

/** Layer and scope names: non-empty, and without a dot (the dot joins scopes, so `a.b` would read as two). */
export function checkScopeName(where: string, name: unknown): asserts name is string {
  checkName(where, name);
  if (name.includes('.')) {
    throw new ArgumentError(`${where}: the name '${name}' contains a dot, which joins scope names; nest a scope instead (nn.scope(graph, '${name.split('.')[0]}', ...)).`);
  }
}
