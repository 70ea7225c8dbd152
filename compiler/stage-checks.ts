/**
 * The verifier run after each stage with `compile(..., {check: true})`: a stage that
 * breaks an invariant is caught where it breaks, not kernels later (XLA's HloVerifier
 * after every pass). Graph stages: the IR's invariants and the entries' references.
 * Fusion: every node an entry computes is in exactly one group, and groups come after
 * the groups they read. Plans: the plan checker (structure, WGSL against the declared
 * bindings, memory).
 */

import { inlinedValuesOf } from './passes/fusion/index.js';
import { CompileError } from './errors.js';
import { ancestorsOf, roleOf } from './graph.js';
import type { FusionGroup } from './passes/fusion/group.js';
import { aliasRoot, isAlias } from './node-values.js';
import type { GraphProgram } from './passes/program.js';
import type { Plan } from './plan-format.js';
import { validatePlan } from './plan-check.js';
import { verify } from './verify.js';

/** A stage's output, as the verifier takes it. */
export type StageToCheck =
  | { readonly stage: 'specialized' | 'simplified'; readonly program: GraphProgram }
  | { readonly stage: 'fusion'; readonly program: GraphProgram; readonly fusion: Readonly<Record<string, readonly FusionGroup[]>> }
  | { readonly stage: 'kernels' | 'plan'; readonly plan: Plan };

/** Throws a CompileError naming the stage when its output breaks one of its invariants. */
export function checkStage(check: StageToCheck): void {
  const { stage } = check;
  try {
    if (check.stage === 'fusion') checkFusion(check.program, check.fusion);
    else if ('plan' in check) validatePlan(check.plan);
    else checkProgram(check.program);
  } catch (error) {
    throw new CompileError(`compile: the ${stage} stage broke an invariant (a compiler bug; compile without {check: true} to skip this check): ${(error as Error).message}`);
  }
}

function checkProgram(program: GraphProgram): void {
  const { graph } = program;
  verify(graph);
  const exists = (id: number): boolean => Number.isInteger(id) && id >= 0 && id < graph.nodes.length;
  for (const [name, entry] of Object.entries(program.entries)) {
    for (const [output, id] of Object.entries(entry.outputs)) {
      if (!exists(id)) throw new CompileError(`entry '${name}': output '${output}' names node %${id}, which the graph does not have`);
    }
    for (const [target, value] of entry.assignments) {
      if (!exists(target) || !exists(value)) throw new CompileError(`entry '${name}': update %${target} ← %${value} names a node the graph does not have`);
      const role = roleOf(graph.node(target));
      if (role !== 'param' && role !== 'state') throw new CompileError(`entry '${name}': update target %${target} is a ${role}, not a param or state`);
    }
  }
}

function checkFusion(program: GraphProgram, fusion: Readonly<Record<string, readonly FusionGroup[]>>): void {
  const { graph } = program;
  for (const [name, entry] of Object.entries(program.entries)) {
    const groups = fusion[name];
    if (!groups) throw new CompileError(`entry '${name}' has no fusion groups`);
    const targets = [...Object.values(entry.outputs), ...entry.assignments.map(([, value]) => value)];
    const needed = ancestorsOf(graph, targets);
    const groupOf = new Map<number, number>();
    groups.forEach((group, position) => {
      for (const id of [...(group.prologue?.nodes ?? []), ...group.nodes]) {
        if (groupOf.has(id)) throw new CompileError(`entry '${name}': node %${id} is in groups ${groupOf.get(id)} and ${position}`);
        groupOf.set(id, position);
      }
    });
    // Inputless elementwise values every reader recomputes (a dimSize) belong to no group.
    const inlined = inlinedValuesOf(graph, { needed, outputs: Object.values(entry.outputs), assignments: entry.assignments });
    for (const node of graph.nodes) {
      if (!needed.has(node.id) || roleOf(node) !== 'computed' || isAlias(node) || inlined.has(node.id)) continue;
      if (!groupOf.has(node.id)) throw new CompileError(`entry '${name}': node %${node.id} (${node.op}) is needed but in no group`);
    }
    groups.forEach((group, position) => {
      for (const id of [...(group.prologue?.nodes ?? []), ...group.nodes]) {
        for (const input of graph.node(id).inputs) {
          // Seen through alias nodes (fusion groups none); undefined for sources.
          const producer = groupOf.get(input) ?? groupOf.get(aliasRoot(graph, input));
          if (producer !== undefined && producer > position) {
            throw new CompileError(`entry '${name}': group ${position} reads %${input}, which group ${producer} computes later`);
          }
        }
      }
    });
  }
}

