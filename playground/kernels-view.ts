/**
 * The fused kernels of one entry point, in dispatch order: the rule that formed each
 * (kind), the graph nodes it implements, its dispatch size, what it binds, and its GPU
 * time once measured. Clicking a row selects the kernel in every view.
 */

import type { BindingReport, EntryReport, KernelReport } from '../index.js';
import { el, formatPlanBytes } from './dom.js';

export class KernelsView {
  private readonly table: HTMLTableSectionElement;
  private readonly timeHeader: HTMLElement;
  private readonly note: HTMLElement;
  private rows: HTMLTableRowElement[] = [];

  constructor(root: HTMLElement, private readonly onSelect: (position: number) => void, onTime: () => void) {
    this.table = el('tbody');
    this.timeHeader = el('th', { class: 'num', title: 'GPU time per dispatch, from timestamp queries' }, 'GPU µs');
    this.note = el('span', { id: 'kernels-note' });
    root.append(
      el('p', { class: 'pane-note' }, el('button', { id: 'time-button', class: 'small', disabled: true, title: 'Measure each kernel’s GPU time with timestamp queries', onclick: onTime }, 'Time kernels'), ' ', this.note),
      el(
        'table',
        { class: 'kernels', id: 'kernels-table' },
        el('thead', {}, el('tr', {}, el('th', { class: 'num' }, '#'), el('th', {}, 'kernel · graph nodes'), el('th', {}, 'kind'), el('th', { title: 'workgroups dispatched, and the workgroup size' }, 'grid'), el('th', { title: 'r: read, w: written; hover for the size' }, 'bindings'), this.timeHeader)),
        this.table,
      ),
    );
  }

  /** Lists the entry's kernels; `microseconds[i]` is kernel i's GPU time when measured. */
  render(entry: EntryReport, microseconds?: readonly number[]): void {
    this.rows = entry.kernels.map((kernel) => this.row(kernel, microseconds?.[kernel.position]));
    this.table.replaceChildren(...this.rows);
    if (entry.kernels.length === 0) this.table.append(el('tr', {}, el('td', { colspan: 6, class: 'pane-note' }, `entry ${entry.name} dispatches no kernels`)));
  }

  /** A line above the table: how the times were measured, or why there are none. */
  setNote(text: string): void {
    this.note.textContent = text;
    this.timeHeader.title = text;
  }

  highlight(position: number | undefined): void {
    this.rows.forEach((row, i) => row.classList.toggle('selected', i === position));
    if (position !== undefined) this.rows[position]?.scrollIntoView({ block: 'nearest' });
  }

  private row(kernel: KernelReport, microseconds: number | undefined): HTMLTableRowElement {
    const size = `of ${kernel.workgroupSize.filter((n, i) => i === 0 || n > 1).join('×')}`;
    return el(
      'tr',
      { 'data-position': kernel.position, onclick: () => this.onSelect(kernel.position) },
      el('td', { class: 'num' }, kernel.position),
      el('td', { class: 'mono', title: kernel.reason }, ...breakableName(kernel.name), el('div', { class: 'ops' }, kernel.ops.map(({ op, node }) => `${op} %${node}`).join(', '))),
      el('td', {}, el('span', { class: `kind kind-${kernel.kind}`, title: kernel.reason }, kernel.kind)),
      el('td', { class: 'mono' }, kernel.workgroups.join('×'), el('div', { class: 'ops' }, size)),
      el('td', {}, ...kernel.bindings.map(bindingChip)),
      el('td', { class: 'num' }, microseconds === undefined ? '' : microseconds.toFixed(microseconds < 100 ? 1 : 0)),
    );
  }
}

function bindingChip(binding: BindingReport): HTMLElement {
  const access = binding.access === 'read_write' ? 'w' : 'r';
  return el(
    'span',
    { class: `chip role-${binding.role}`, title: `@binding(${binding.binding}) ${binding.access} #${binding.buffer} ${binding.name}: ${binding.role}, ${formatPlanBytes(binding.bytes)}` },
    `${access} ${binding.name}`,
  );
}

/** A kernel name that may wrap after its underscores rather than mid-word. */
function breakableName(name: string): (string | HTMLElement)[] {
  return name.split('_').flatMap((part, i) => (i === 0 ? [part] : [el('wbr'), `_${part}`]));
}
