/**
 * Provenance: where each node came from, for tools that show a graph beside its source
 * (the playground groups nodes by scope and links them to editor lines). A node built
 * inside `graph.scope('block0', ...)` (or by an nn layer, whose nodes sit under its name)
 * records the open scopes, `block0/attn`; a node built while a line source is set (the
 * playground sets one while the user's code runs) records the line it gives. A node a
 * pass or autodiff builds in place of another inherits that node's origin (`withOrigin`),
 * so the simplified graph still points at the user's code.
 *
 * Origins are metadata only: printed graphs, graph JSON, plans and WGSL never read them,
 * and an equal node with another origin is the same node to every pass.
 *
 * The state lives here, keyed by graph, rather than in Graph's fields, so passes and nn
 * layers reach it without widening Graph's public API (and graph.ts stays one screenful).
 */

import { ArgumentError } from './errors.js';
import { checkName } from './names.js';
import type { Origin } from './node.js';

export type { Origin } from './node.js';

/** Gives the source line of the node being built, or undefined; see `traceNodeLines`. */
export type LineSource = () => number | undefined;

interface Provenance {
  /** The open scopes, outermost first. */
  segments: string[];
  /** The origin of `segments` alone, made once per change (most nodes share it). */
  scoped: Origin | undefined;
  /** True while `withOrigin` runs: every node takes `inherited` (undefined: none), whatever scope or line is open. */
  inheriting: boolean;
  inherited: Origin | undefined;
}

const provenances = new WeakMap<object, Provenance>();
let lineSource: LineSource | undefined;

/**
 * Sets (or, with undefined, clears) the function that gives each new node its source line.
 * It runs once per node built outside `withOrigin`, so it should be cheap; unset, lines
 * cost nothing. Returns the source it replaced, so a caller can restore it.
 */
export function traceNodeLines(source: LineSource | undefined): LineSource | undefined {
  if (source !== undefined && typeof source !== 'function') {
    throw new ArgumentError(`traceNodeLines: expected a function that returns the current line (or undefined to stop), got ${typeof source}.`);
  }
  const previous = lineSource;
  lineSource = source;
  return previous;
}

/** The origin of a node being built in `graph` now; undefined when nothing is known (the common case outside tools, kept cheap). */
export function currentOrigin(graph: object): Origin | undefined {
  const state = provenances.get(graph);
  if (state?.inheriting) return state.inherited;
  const line = lineSource?.();
  if (line === undefined) return state?.scoped;
  return state?.scoped ? { scope: state.scoped.scope!, line } : { line };
}

/** The scopes open in `graph`, outermost first. */
export function openScopes(graph: object): readonly string[] {
  return provenances.get(graph)?.segments ?? [];
}

/** Scope names: non-empty strings without `.` or `/` (the separators of param names under scopes and of scope paths). */
export function checkScopeName(where: string, name: unknown): asserts name is string {
  checkName(where, name);
  const separator = name.includes('.') ? 'a dot' : name.includes('/') ? 'a slash' : undefined;
  if (separator !== undefined) {
    const outer = name.split(/[./]/)[0] || 'outer';
    const nest = where.startsWith('nn.') ? `nn.scope(graph, '${outer}', ...)` : `graph.scope('${outer}', () => ...)`;
    throw new ArgumentError(`${where}: the name '${name}' contains ${separator}, which joins scope names; nest a scope instead (${nest}).`);
  }
}

/** Runs `build` with `name` opened inside the graph's current scopes; see `Graph.scope`. */
export function openScope<T>(graph: object, where: string, name: string, build: () => T): T {
  checkScopeName(where, name);
  checkBuild(where, build);
  return withScopes(graph, [...openScopes(graph), name], where, build);
}

/** Runs `build` with exactly `segments` open (an nn layer's own path, wherever it is applied), then restores the scopes. */
export function withScopes<T>(graph: object, segments: readonly string[], where: string, build: () => T): T {
  const state = provenanceOf(graph);
  const saved = { segments: state.segments, scoped: state.scoped };
  state.segments = [...segments];
  state.scoped = segments.length === 0 ? undefined : { scope: segments.join('/') };
  try {
    return refusePromise(where, build());
  } finally {
    state.segments = saved.segments;
    state.scoped = saved.scoped;
  }
}

/**
 * Runs `build` so that every node it adds to `graph` takes `origin`: what a pass, autodiff or
 * an optimizer builds in place of (or for) a node inherits that node's origin. Nested calls
 * take the innermost origin; open scopes and the line source are not read meanwhile.
 */
export function withOrigin<T>(graph: object, origin: Origin | undefined, build: () => T): T {
  const state = provenanceOf(graph);
  const wasInheriting = state.inheriting;
  const saved = state.inherited;
  state.inheriting = true;
  state.inherited = origin;
  try {
    return build();
  } finally {
    state.inheriting = wasInheriting;
    state.inherited = saved;
  }
}

function provenanceOf(graph: object): Provenance {
  let state = provenances.get(graph);
  if (state === undefined) {
    state = { segments: [], scoped: undefined, inheriting: false, inherited: undefined };
    provenances.set(graph, state);
  }
  return state;
}

function checkBuild(where: string, build: unknown): void {
  if (typeof build !== 'function') throw new ArgumentError(`${where}: build must be a function that builds the scope's nodes, e.g. () => nn.linear(...); got ${build === null ? 'null' : typeof build}.`);
  // The scope would close at the first await, before the nodes after it are built.
  if (build.constructor.name === 'AsyncFunction') throw new ArgumentError(`${where}: build is an async function; a scope closes when build returns, so nodes built after an await would fall outside it. Fix: build the graph synchronously inside the scope (await data before it).`);
}

function refusePromise<T>(where: string, result: T): T {
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw new ArgumentError(`${where}: build returned a promise; a scope closes when build returns, so nodes built after an await would fall outside it. Fix: build the graph synchronously inside the scope (await data before it).`);
  }
  return result;
}
