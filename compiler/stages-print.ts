/**
 * `printStage`: one stage of a compilation as text (`kiln inspect <example> --stage <name>`):
 * a graph stage as SSA text with its entries, the fusion groups of each entry with kind,
 * members and reason, the lowered kernels or the final plan as `printPlan` prints them,
 * and the memory planner's decisions.
 */

import type { Graph } from './graph.js';
import type { GraphProgram } from './passes/program.js';
import type { CompileStages, StageName } from './plan.js';
import { STAGE_NAMES, requireStages } from './plan.js';
import { printPlan } from './plan-print.js';
import { printableName } from './print.js';
import { ArgumentError } from './errors.js';

/** The stage `name` of `stages` as text. */
export function printStage(stages: CompileStages, name: StageName): string {
  requireStages('printStage', stages);
  if (!STAGE_NAMES.includes(name)) {
    throw new ArgumentError(`printStage: unknown stage ${typeof name === 'string' ? `'${name}'` : String(name)}. Stages: ${STAGE_NAMES.join(', ')}.`);
  }
  switch (name) {
    case 'written':
    case 'specialized':
    case 'simplified':
      return printProgram(stages[name]);
    case 'fusion':
      return printFusion(stages);
    case 'kernels':
      return printPlan(stages.kernels);
    case 'memory':
      return printMemory(stages);
    case 'plan':
      return printPlan(stages.plan);
  }
}

/** The graph, then each entry's outputs and updates by node. */
export function printProgram(program: GraphProgram): string {
  const { graph } = program;
  const lines = [graph.toString().trimEnd(), ''];
  for (const [name, entry] of Object.entries(program.entries)) {
    const outputs = Object.entries(entry.outputs).map(([output, id]) => `${printableName(output)} = %${id}`);
    const updates = entry.assignments.map(([target, value]) => `${label(graph, target)} ← %${value}`);
    lines.push(`entry ${name}${entry.mode ? ` (${entry.mode})` : ''}: outputs ${outputs.join(', ') || 'none'}; updates ${updates.join(', ') || 'none'}`);
  }
  return `${lines.join('\n')}\n`;
}

function printFusion(stages: CompileStages): string {
  const { graph } = stages.simplified;
  const lines: string[] = [];
  for (const [name, groups] of Object.entries(stages.fusion)) {
    lines.push(`entry ${name}: ${groups.length} groups`);
    groups.forEach((group, position) => {
      const nodes = [...(group.prologue?.nodes ?? []), ...group.nodes].map((id) => `${graph.node(id).op} %${id}`);
      lines.push(`  [${position}] ${group.kind.padEnd(8)} ${nodes.join(', ')}`);
      lines.push(`      ${group.reason}`);
      const writes = group.inPlace.map(({ value, target }) => `%${value} into ${label(graph, target)}`);
      if (writes.length > 0) lines.push(`      in place: ${writes.join(', ')}`);
    });
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

function printMemory(stages: CompileStages): string {
  const { memory, plan } = stages;
  const lines = [
    memory.planned ? `memory planned: ${plan.buffers.length} buffers in ${memory.allocations.length} allocations` : 'memory not planned: one allocation per buffer',
    `transient bytes${memory.report.atDims ? ` at ${Object.entries(memory.report.atDims).map(([name, size]) => `${name}=${size}`).join(', ')}` : ''}: naive ${memory.report.naiveTransientBytes}, peak in use ${memory.report.peakTransientBytes}, allocated ${memory.report.allocationBytes}`,
    '',
    'allocations',
  ];
  memory.allocations.forEach((allocation, index) => {
    const members = plan.buffers.filter((b) => memory.allocationOf[b.id] === index).map((b) => `#${b.id} ${printableName(b.name)}`);
    lines.push(`  @${index} ${allocation.bytes} B: ${members.join(', ')}`);
  });
  for (const [name, updates] of Object.entries(memory.inPlace)) {
    if (updates.length === 0) continue;
    const list = updates.map(({ from, to }) => `#${from} into #${to} ${printableName(plan.buffers[to]!.name)}`);
    lines.push('', `entry ${name}: in place ${list.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function label(graph: Graph, id: number): string {
  const node = graph.node(id);
  return node.name === undefined ? `%${id}` : `${printableName(node.name)} (%${id})`;
}
