/** The options of a Graph and of its params and state, and their checks (unknown keys are typos). */

import type { DType } from './dtype.js';
import { ArgumentError, GraphError, ShapeError } from './errors.js';
import { dimNames } from './dims.js';
import type { Shape } from './shape.js';
import type { InitKind, InitSpec } from './init.js';
import { checkKeys } from './ops/args.js';
import { checkName } from './names.js';

export interface PersistentOptions {
  /** Initializer: a kind such as `'glorotUniform'`, or a full spec. Default zeros. */
  init?: InitKind | InitSpec;
  dtype?: DType;
}

export interface GraphOptions<Outputs extends string = string> {
  /** Seed of every random initializer that does not name its own. Default 0. */
  seed?: number;
  /**
   * The names of the outputs the graph will declare (`g.output(name, tensor)`), so
   * TypeScript knows them: the graph is a `Graph<'logits' | ...>`, and what `interpret`,
   * `compile` and a `Session` return is typed by these names. `output` accepts no other
   * name, and the graph must declare each before it is compiled or run. Default: any names
   * (results are `Record<string, ...>`).
   */
  outputs?: readonly Outputs[];
}

/** Checks `new Graph(name, options)`'s options: an object of `seed` and `outputs` (distinct names). */
export function checkGraphOptions(options: unknown): asserts options is GraphOptions {
  checkKeys('Graph', options, ['seed', 'outputs']);
  const { outputs } = options as GraphOptions;
  if (outputs === undefined) return;
  if (!Array.isArray(outputs)) throw new ArgumentError(`Graph: outputs must be an array of output names, e.g. {outputs: ['logits']}; got ${typeof outputs}.`);
  outputs.forEach((name: unknown, i) => {
    checkName('Graph: outputs', name);
    if (outputs.indexOf(name) !== i) throw new ArgumentError(`Graph: outputs lists '${name}' twice.`);
  });
}

/** `graph.output(name, ...)` on a graph that lists its outputs: the name must be one of them, or its type would not name it. */
export function checkListedOutput(graphName: string, listed: readonly string[] | undefined, name: string): void {
  if (listed === undefined || listed.includes(name)) return;
  throw new GraphError(
    `output '${name}': graph '${graphName}' lists its outputs as ${listed.map((n) => `'${n}'`).join(', ')} (new Graph(name, {outputs})), and '${name}' is not one of them. Fix: add it to that list.`,
  );
}

/**
 * A graph that lists its outputs must declare each before it is compiled or run: its
 * type promises them, so a missing one is an error here rather than an undefined result.
 */
export function requireListedOutputs(where: string, graph: { readonly name: string; readonly listedOutputs: readonly string[] | undefined; readonly outputs: ReadonlyMap<string, number> }): void {
  const missing = (graph.listedOutputs ?? []).filter((name) => !graph.outputs.has(name));
  if (missing.length === 0) return;
  const spelled = missing.map((n) => `'${n}'`).join(', ');
  throw new GraphError(
    `${where}: graph '${graph.name}' lists the output${missing.length > 1 ? 's' : ''} ${spelled} (new Graph(name, {outputs})) but never declares ${missing.length > 1 ? 'them' : 'it'}. ` +
      `Fix: call graph.output('${missing[0]}', tensor) first, or leave ${missing.length > 1 ? 'them' : 'it'} out of the list.`,
  );
}

/** Checks a param's or state's options (`where` names it): an object of `init` and `dtype`. */
export function checkPersistentOptions(where: string, options: unknown): asserts options is PersistentOptions {
  checkKeys(where, options, ['init', 'dtype']);
}

/** Params, state and constants keep their values across runs of every size, so their shapes are static. */
export function refuseSymbolic(op: string, name: string | undefined, shape: Shape): never {
  const [dim] = dimNames(shape);
  throw new ShapeError(
    `${op}${name === undefined ? '' : ` '${name}'`}: shape [${shape.join(',')}] has the symbolic dim '${dim}', but a ${op} is always static (it keeps its values across runs of every size). Fix: give it a static size; only inputs may have symbolic dims.`,
  );
}
