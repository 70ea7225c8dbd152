/**
 * `printReport`: a compile report (report.ts) as text, for the `kiln inspect` CLI and
 * reviews: a summary with the memory figures, the simplified graph, then per entry each
 * dispatch with its fusion kind, reason, ops, dispatch size and bindings (optionally its
 * WGSL), and a timeline of when each buffer is live.
 */

import type { BindingReport, BufferLifetime, CompileReport, EntryReport, KernelReport } from './report.js';
import { printableName, printableText } from './print.js';
import { ArgumentError } from './errors.js';
import { checkKeys } from './ops/args.js';

export interface PrintReportOptions {
  /** Print every kernel's WGSL under it (default false). */
  wgsl?: boolean;
  /** Print the simplified graph (default true). */
  graph?: boolean;
}

/** The report as text (see the module comment); stable for a given report, so it diffs well. */
export function printReport(report: CompileReport, options: PrintReportOptions = {}): string {
  const given = report as Partial<CompileReport> | null;
  if (given === null || typeof given !== 'object' || typeof given.stages !== 'object' || !Array.isArray(given.entries)) {
    throw new ArgumentError(`printReport: expected a compile report (compileReport(graph).report), got ${report === null ? 'null' : typeof report}.`);
  }
  checkKeys('printReport', options, ['wgsl', 'graph']);
  const stages = Object.entries(report.stages)
    .map(([stage, on]) => (on ? stage : `no ${stage}`))
    .join(', ');
  const { naiveTransientBytes: naive, peakTransientBytes: peak, allocationBytes, buffers, allocations } = report.memory;
  const lines = [
    `report ${printableName(report.name)} (${stages})`,
    `  dispatches  ${report.entries.map((e) => `${e.name} ${e.kernels.length}`).join(', ') || 'none'}`,
    `  transient   naive ${naive} B, peak ${peak} B${percentOf(peak, naive)}, allocated ${allocationBytes} B${percentOf(allocationBytes, naive)}`,
    `  buffers     ${buffers} in ${allocations} allocations`,
  ];
  if (options.graph !== false) lines.push('', `graph${report.stages.simplify ? ' (simplified)' : ''}`, ...indent(report.graph.trimEnd().split('\n'), 2));
  for (const entry of report.entries) lines.push('', ...entryLines(entry, options.wgsl === true));
  return lines.join('\n') + '\n';
}

function entryLines(entry: EntryReport, wgsl: boolean): string[] {
  const io = (ids: Readonly<Record<string, number>>): string =>
    Object.entries(ids)
      .map(([name, id]) => `${printableName(name)} #${id}`)
      .join(', ') || 'none';
  const updates = (label: string, pairs: EntryReport['copies']): string[] =>
    pairs.length === 0 ? [] : [`  ${label.padEnd(8)} ${pairs.map(({ from, to }) => `#${from} → #${to}`).join(', ')}`];
  const width = String(Math.max(0, entry.kernels.length - 1)).length;
  const nameWidth = Math.max(0, ...entry.kernels.map((k) => k.name.length));
  const kindWidth = Math.max(0, ...entry.kernels.map((k) => k.kind.length));
  return [
    `entry ${entry.name}: ${entry.kernels.length} dispatches`,
    `  inputs   ${io(entry.inputs)}`,
    `  outputs  ${io(entry.outputs)}`,
    ...updates('copies', entry.copies),
    ...updates('in place', entry.inPlace),
    ...entry.kernels.flatMap((k) => ['', ...kernelLines(k, width, nameWidth, kindWidth, wgsl)]),
    '',
    `  buffers (live: before the pass, dispatches 0…${entry.kernels.length - 1}, after it)`,
    ...lifetimeLines(entry),
  ];
}

function kernelLines(k: KernelReport, width: number, nameWidth: number, kindWidth: number, wgsl: boolean): string[] {
  const size = ` of ${k.workgroupSize.filter((n, i) => i === 0 || n > 1).join('×')}`;
  const margin = ' '.repeat(width + 4);
  return [
    `  ${String(k.position).padStart(width)}  ${k.name.padEnd(nameWidth)}  ${k.kind.padEnd(kindWidth)}  workgroups ${k.workgroups.map((n) => (typeof n === 'number' ? String(n) : `⌈${n.size}/${n.per}⌉`)).join('×')}${size}`,
    `${margin}why    ${printableText(k.reason)}`,
    `${margin}ops    ${k.ops.map(({ op, node }) => `${op} %${node}`).join(', ')}`,
    ...k.bindings.map((b, i) => `${margin}${i === 0 ? 'binds' : ''.padEnd(5)}  ${bindingText(b)}`),
    ...(wgsl ? ['', ...indent(k.wgsl.trimEnd().split('\n'), margin.length + 2), ''] : []),
  ];
}

function bindingText(b: BindingReport): string {
  const access = b.access === 'read' ? 'read' : 'write';
  return `@${b.binding} ${access} #${b.buffer} ${printableName(b.name)} (${b.role}, ${b.bytes} B)`;
}

/** One row per buffer: a bar over the entry's positions (before, each dispatch, after) and its range in words. */
function lifetimeLines(entry: EntryReport): string[] {
  const after = entry.kernels.length;
  const rows = entry.buffers.map((b: BufferLifetime) => {
    const bar = Array.from({ length: after + 2 }, (_, i) => (i - 1 >= b.first && i - 1 <= b.last ? '█' : '·')).join('');
    return [`#${b.buffer}`, printableName(b.name), b.role, `${b.dtype}[${b.shape.join(',')}]`, `${b.bytes} B`, b.allocation === undefined ? '' : `@${b.allocation}`, bar, `${position(b.first, after)} … ${position(b.last, after)}`];
  });
  return table(rows, [0, 4]);
}

function position(at: number, after: number): string {
  return at < 0 ? 'before' : at >= after ? 'after' : String(at);
}

function percentOf(part: number, whole: number): string {
  return whole > 0 ? ` (${((100 * part) / whole).toFixed(1)}% of naive)` : '';
}

function indent(lines: readonly string[], by: number): string[] {
  return lines.map((line) => (line === '' ? '' : ' '.repeat(by) + line));
}

/** Rows as aligned columns (right-aligned where listed), indented by four spaces. */
function table(rows: readonly (readonly string[])[], rightAligned: readonly number[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    `    ${row.map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd(),
  );
}
