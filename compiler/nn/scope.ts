/**
 * Name scopes for layers: layers built inside `graph.scope('block0', ...)` (or its alias
 * `nn.scope(graph, 'block0', ...)`) name their params `block0.<layer>.<param>`, as PyTorch's
 * module paths do (`block0.attn.q.kernel`), and the nodes a layer builds record its path
 * (`block0/attn/q`) as their origin's scope, wherever the layer is applied. The open scopes
 * are per graph (compiler/origin.ts), so two graphs built side by side do not see each other's.
 */

import type { Graph } from '../graph.js';
import { requireGraph } from '../graph.js';
import { openScope, openScopes, withScopes } from '../origin.js';

export { checkScopeName } from '../origin.js';

/**
 * `graph.scope(name, build)`, for code written against nn: runs `build` with `name` appended
 * to the graph's scopes and returns what it returns. The scope closes when `build` returns or
 * throws. Scopes nest: `scope(g, 'block0', () => scope(g, 'attn', () => linear(g, 'q', 64, 64)))`
 * names the kernel `block0.attn.q.kernel`.
 */
export function scope<T>(graph: Graph, name: string, build: () => T): T {
  requireGraph('nn.scope', graph);
  return openScope(graph, 'nn.scope', name, build);
}

/** `name` under the graph's open scopes: `block0.attn.q` (names hold no dot, so the path splits back into scopes). */
export function scopedName(graph: Graph, name: string): string {
  return [...openScopes(graph), name].join('.');
}

/**
 * Runs `build` (a layer creating its params, or applying itself) with the layer's `path` as the
 * open scopes, so its nodes record the layer's path even when it is applied outside the scope
 * it was made in.
 */
export function inLayer<T>(graph: Graph, path: string, build: () => T): T {
  return withScopes(graph, path.split('.'), `layer '${path}'`, build);
}
