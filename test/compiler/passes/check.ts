/**
 * What every pass test checks: the pass's output verifies, and every entry point gives
 * the same outputs and updates on the reference interpreter as before it, from the same
 * feeds and the same (random, not initial) params and state.
 */

import { expect } from 'chai';
import type { Graph, Node } from '../../../compiler/graph.js';
import { roleOf } from '../../../compiler/graph.js';
import type { HostValue } from '../../../compiler/reference.js';
import { runEntry } from '../../../compiler/reference.js';
import type { GraphProgram, Pass } from '../../../compiler/passes/program.js';
import { sizeOf } from '../../../compiler/shape.js';
import { verify } from '../../../compiler/verify.js';
import { expectClose, testData } from '../../helpers.js';

/** Deterministic values for every input (or every param and state): f32 in [−2, 2), i32 in [0, 4), bool 0/1. */
export function valuesFor(graph: Graph, roles: readonly string[], seed = 7): Record<string, number[]> {
  const values: Record<string, number[]> = {};
  for (const node of graph.nodes) {
    if (!roles.includes(roleOf(node))) continue;
    const size = sizeOf(node.shape);
    if (typeof size !== 'number') throw new Error(`valuesFor: ${node.name} has the symbolic shape [${node.shape.join(',')}]; pass feeds of a size.`);
    const raw = testData(size, seed + node.id, -2, 2);
    values[node.name!] =
      node.dtype === 'f32' ? raw : node.dtype === 'i32' ? raw.map((v) => Math.floor(v + 2)) : raw.map((v) => Number(v > 0));
  }
  return values;
}

export interface SameResultsOptions {
  /** Feeds by input name; default `valuesFor(graph, ['input'])`. */
  feeds?: Readonly<Record<string, HostValue>>;
  /** 0 (the default) asks for equal values (NaN equals NaN); else the relative tolerance. */
  rtol?: number;
}

/** Asserts that every entry of `after` computes what the same entry of `before` does. */
export function expectSameResults(before: GraphProgram, after: GraphProgram, options: SameResultsOptions = {}): void {
  expect(Object.keys(after.entries)).to.deep.equal(Object.keys(before.entries));
  const feeds = options.feeds ?? valuesFor(before.graph, ['input']);
  const params = valuesFor(before.graph, ['param', 'state']);
  for (const [name, entry] of Object.entries(before.entries)) {
    const expected = runEntry(before.graph, entry, { feeds, params });
    const actual = runEntry(after.graph, after.entries[name]!, { feeds, params });
    const pairs = [
      ...Object.entries(expected.outputs).map(([k, v]) => [`${name} output ${k}`, v, actual.outputs[k]] as const),
      ...Object.entries(expected.updates).map(([k, v]) => [`${name} update ${k}`, v, actual.updates[k]] as const),
    ];
    expect(Object.keys(actual.updates).sort(), `${name} updates`).to.deep.equal(Object.keys(expected.updates).sort());
    for (const [what, e, a] of pairs) {
      expect(a, what).to.not.equal(undefined);
      expect(a!.shape, `${what} shape`).to.deep.equal(e.shape);
      expect(a!.dtype, `${what} dtype`).to.equal(e.dtype);
      if (options.rtol) {
        expectClose(a!.data, e.data, options.rtol, options.rtol);
      } else {
        const differs = Array.from(e.data).findIndex((v, i) => !(v === a!.data[i] || (Number.isNaN(v) && Number.isNaN(a!.data[i]!))));
        expect(differs, `${what}: element ${differs} is ${a!.data[differs]}, expected ${e.data[differs]}`).to.equal(-1);
      }
    }
  }
}

/** Runs `pass`, verifies its graph and checks its results against the input's; returns the output. */
export function checkPass(pass: Pass, program: GraphProgram, options: SameResultsOptions = {}): GraphProgram {
  const after = pass(program);
  verify(after.graph);
  expectSameResults(program, after, options);
  return after;
}

/** The ops of a program's computed nodes, in order. */
export function opsOf(program: GraphProgram): string[] {
  return program.graph.nodes.filter((n) => roleOf(n) === 'computed').map((n) => n.op);
}

/** The computed nodes of a program whose op is `op`. */
export function nodesOf(program: GraphProgram, op: string): Node[] {
  return program.graph.nodes.filter((n) => n.op === op);
}
