/**
 * `printPlan`: a plan as readable text, for reviews, golden snapshots and the playground:
 * the buffer table, each kernel with the graph nodes it implements and what it binds,
 * each entry point's inputs, outputs, dispatch order and update copies, the memory plan
 * (shared allocations, transient bytes) when there is one, and totals.
 */

import { memoryReport } from './memory.js';
import type { BufferRole, Plan, PlanBuffer, PlanNumber, PlanSize, PlanWorkgroupCount } from './plan-format.js';
import { printableName } from './print.js';
import { parsePlanSize, requirePlan } from './plan-format.js';

const ROLES: readonly BufferRole[] = ['input', 'param', 'state', 'const', 'transient'];
const WRAP = 100;

/** The plan as text (see the module comment); stable for a given plan, so it diffs well. */
export function printPlan(plan: Plan): string {
  requirePlan('printPlan', plan);
  const entryNames = Object.keys(plan.entries);
  const lines = [
    `plan ${printableName(plan.name)} (${plan.format} v${plan.version}): ${plan.buffers.length} buffers, ${plan.kernels.length} kernels, entries ${entryNames.join(', ') || 'none'}`,
    ...((plan.dims ?? []).length > 0 ? [`dims ${plan.dims!.map((name) => (plan.maxDims?.[name] === undefined ? name : `${name} ≤ ${plan.maxDims[name]}`)).join(', ')} (size block: one u32 each)`] : []),
    '',
    'buffers',
    ...table(
      plan.buffers.map((b) => [`#${b.id}`, printableName(b.name), b.role, type(b), `${b.bytes} B`, b.data ? constantSummary(b.data) : '']),
      [4],
    ),
    '',
    'kernels',
    ...table(
      plan.kernels.map((k, i) => [
        `[${i}]`,
        k.name,
        k.ops.map((op, j) => `${op} %${k.nodes[j]}`).join(', '),
        `workgroups ${k.workgroups.map(describeCount).join('×')}${k.foldX ? ' (x folds into y)' : ''}`,
        `bindings ${k.bindings.map(({ buffer }) => bufferLabel(plan, buffer)).join(', ')}`,
      ]),
    ),
    '',
    'entries',
  ];
  for (const [name, entry] of Object.entries(plan.entries)) {
    const io = (ids: Readonly<Record<string, number>>, shapes?: Readonly<Record<string, readonly PlanSize[]>>) =>
      Object.entries(ids).map(([label, id]) => {
        const b = plan.buffers[id]!;
        const view = shapes?.[label];
        return `${printableName(label)} = #${id} ${type(b)}${view ? ` viewed as [${view.join(',')}]` : ''}`;
      });
    const kernelNames = entry.dispatches.map((k) => plan.kernels[k]?.name ?? `[${k}]?`);
    lines.push(
      `  ${name}`,
      ...labelled('inputs', io(entry.inputs)),
      ...labelled('outputs', io(entry.outputs, entry.outputShapes)),
      ...labelled(`dispatches (${entry.dispatches.length})`, wrap(kernelNames)),
      ...labelled('copies', entry.copies.map(({ from, to }) => `${bufferLabel(plan, from)} → ${bufferLabel(plan, to)}`)),
      ...(entry.inPlace ? labelled('in place', entry.inPlace.map(({ from, to }) => `${bufferLabel(plan, from)} → ${bufferLabel(plan, to)}`)) : []),
    );
  }
  if (plan.allocations) lines.push('', ...memoryLines(plan));
  const bytesByRole = ROLES.map((role) => [role, sum(plan.buffers.filter((b) => b.role === role).map((b) => b.bytes))] as const);
  lines.push(
    '',
    'totals',
    ...table([
      ['kernels', String(plan.kernels.length)],
      ['dispatches', entryNames.map((name) => `${name} ${plan.entries[name]!.dispatches.length}`).join(', ') || 'none'],
      ['bytes', [...bytesByRole.map(([role, bytes]) => `${role} ${bytes}`), `total ${sum(plan.buffers.map((b) => b.bytes))}`].join(', ')],
    ]),
  );
  return lines.join('\n') + '\n';
}

/** The allocations holding several buffers, and the transient bytes: naive, peak and allocated. */
function memoryLines(plan: Plan): string[] {
  const allocations = plan.allocations ?? [];
  const held = allocations.map((): string[] => []);
  for (const b of plan.buffers) held[b.allocation ?? 0]?.push(bufferLabel(plan, b.id));
  const shared = allocations.flatMap(({ bytes }, a) => (held[a]!.length > 1 ? [{ a, bytes, labels: held[a]! }] : []));
  const { naiveTransientBytes, peakTransientBytes, allocationBytes, atDims } = memoryReport(plan);
  const percent = naiveTransientBytes > 0 ? ` (${((100 * allocationBytes) / naiveTransientBytes).toFixed(1)}% of naive)` : '';
  const at = atDims ? ` at ${Object.entries(atDims).map(([name, size]) => `${name}=${size}`).join(', ')}` : '';
  return [
    `memory: ${allocations.length} allocations for ${plan.buffers.length} buffers; shared:`,
    ...shared.flatMap(({ a, bytes, labels }) =>
      labelled(`@${a} ${bytes} B`, wrap(labels.map((label, i) => (i < labels.length - 1 ? `${label},` : label)))).map((line) => line.slice(2)),
    ),
    `  transient bytes${at}: naive ${naiveTransientBytes}, peak ${peakTransientBytes}, allocated ${allocationBytes}${percent}`,
  ];
}

function type(b: PlanBuffer): string {
  return `${b.dtype}[${b.shape.join(',')}]`;
}

function bufferLabel(plan: Plan, id: number): string {
  const b = plan.buffers[id];
  return b ? `#${id} ${printableName(b.name)}` : `#${id}?`;
}

function constantSummary(data: readonly PlanNumber[]): string {
  if (data.length === 1) return `= ${data[0]} (splat)`;
  const shown = data.slice(0, 4).join(', ');
  return `= [${shown}${data.length > 4 ? `, … ${data.length - 4} more` : ''}]`;
}

/** Rows as aligned columns (left, or right for the columns listed), indented by two spaces. */
function table(rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const align = (cell: string, i: number, last: boolean) =>
    rightAligned.includes(i) ? cell.padStart(widths[i]!) : last ? cell : cell.padEnd(widths[i]!);
  return rows.map((row) => `  ${row.map((cell, i) => align(cell, i, i === row.length - 1)).join('  ')}`.trimEnd());
}

/** `    label       first item` and following items aligned below it; `none` when empty. */
function labelled(label: string, items: readonly string[]): string[] {
  const head = `    ${label.padEnd(17)} `;
  if (items.length === 0) return [`${head}none`];
  return items.map((item, i) => (i === 0 ? head : ' '.repeat(head.length)) + item);
}

/** Space-separated names, in lines of at most ~WRAP characters. */
function wrap(names: readonly string[]): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + name.length <= WRAP) lines[last] += ` ${name}`;
    else lines.push(name);
  }
  return lines;
}

/** `12`, or `⌈784*batch/64⌉` for a count computed per run. */
export function describeCount(count: PlanWorkgroupCount): string {
  return typeof count === 'number' ? String(count) : `⌈${count.size}/${count.per}⌉`;
}

/** The sum of sizes, symbolic ones collected by term (`3200*batch + 31400`). */
function sum(values: readonly PlanSize[]): PlanSize {
  const coefficients = new Map<string, number>([['', 0]]);
  for (const value of values) {
    for (const { coefficient, names } of typeof value === 'number' ? [{ coefficient: value, names: [] }] : parsePlanSize(value)) {
      const key = [...names].sort().join('*');
      coefficients.set(key, (coefficients.get(key) ?? 0) + coefficient);
    }
  }
  const terms = [...coefficients].filter(([key, c]) => key !== '' && c !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
  const constant = coefficients.get('')!;
  if (terms.length === 0) return constant;
  return [...terms.map(([key, c]) => (c === 1 ? key : `${c}*${key}`)), ...(constant !== 0 ? [String(constant)] : [])].join(' + ');
}
