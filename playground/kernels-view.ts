/**
 * The fused kernels of one entry point: the rule that formed each (kind), the graph nodes it
 * implements, its dispatch size, what it binds, what it computes and moves (the compiler's
 * cost model: FLOPs, bytes) and, once timed, its GPU time, share of the entry and achieved
 * rates (GFLOP/s, GB/s: where it sits against the adapter's roofline). Dispatch order
 * until timed, then slowest first; every numeric column sorts on a click of its header. A
 * total row sums the entry. Clicking a row selects the kernel in every view.
 */

import type { BindingReport, EntryReport, KernelReport } from '../index.js';
import type { KernelCost } from './worker/costs.js';
import { describeCount } from '../compiler/plan-print.js';
import { formatCount, formatRate } from '../runtime/profile.js';
import { el, formatBytes, formatPlanBytes } from './dom.js';
import './kernels-view.css';

type SortKey = 'position' | 'kind' | 'flops' | 'gflops' | 'time';

interface Sort {
  readonly key: SortKey;
  readonly descending: boolean;
}

/** One kernel's row, with the figures it sorts by. */
interface Row {
  readonly kernel: KernelReport;
  readonly cost: KernelCost | undefined;
  readonly microseconds: number | undefined;
}

const COLUMNS = 9;

export class KernelsView {
  private readonly body: HTMLTableSectionElement;
  private readonly foot: HTMLTableSectionElement;
  private readonly headers = new Map<SortKey, HTMLElement>();
  private readonly timeHeader: HTMLElement;
  private readonly note: HTMLElement;
  private rowsByPosition = new Map<number, HTMLTableRowElement>();
  private shown: { readonly entry: EntryReport; readonly rows: readonly Row[]; readonly timed: boolean } | undefined;
  /** The user's sort; undefined: dispatch order, or slowest first once timed. */
  private sort: Sort | undefined;
  private selected: number | undefined;

  constructor(root: HTMLElement, private readonly onSelect: (position: number) => void, onTime: () => void) {
    this.body = el('tbody');
    this.foot = el('tfoot');
    this.note = el('span', { id: 'kernels-note' });
    const sortable = (key: SortKey, text: string, title: string): HTMLElement => {
      const header = el('th', { class: `${key === 'kind' ? '' : 'num '}sortable col-${key}`, 'data-sort': key, title: `${title} (click to sort)`, onclick: () => this.sortBy(key) }, text);
      this.headers.set(key, header);
      return header;
    };
    this.timeHeader = sortable('time', 'GPU µs', 'GPU time per dispatch');
    root.append(
      el('p', { class: 'pane-note' }, el('button', { id: 'time-button', class: 'small', disabled: true, title: 'Measure each kernel’s GPU time', onclick: onTime }, 'Time kernels'), ' ', this.note),
      el(
        'table',
        { class: 'kernels', id: 'kernels-table' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            // The figures come right after the name: in a narrow pane they stay in view, the dispatch details scroll.
            sortable('position', '#', 'position in dispatch order'),
            el('th', { class: 'col-name' }, 'kernel · graph nodes'),
            this.timeHeader,
            el('th', { class: 'num col-share', title: 'share of the entry’s summed kernel time' }, 'share'),
            sortable('flops', 'FLOPs · bytes', 'arithmetic of one dispatch, and the bytes it binds (read + written): the compiler’s cost model'),
            sortable('gflops', 'GFLOP/s · GB/s', 'achieved rates: FLOPs and bytes over the measured time'),
            sortable('kind', 'kind', 'the fusion rule that formed it'),
            el('th', { class: 'col-grid', title: 'workgroups dispatched, and the workgroup size' }, 'grid'),
            el('th', { class: 'col-bindings', title: 'r: read, w: written; hover for the size' }, 'bindings'),
          ),
        ),
        this.body,
        this.foot,
      ),
    );
  }

  /** Lists the entry's kernels; `microseconds[i]` is kernel i's GPU time once measured, `costs[i]` its cost. */
  render(entry: EntryReport, microseconds?: readonly number[], costs?: readonly KernelCost[]): void {
    const timed = microseconds !== undefined && microseconds.length === entry.kernels.length;
    // New times show slowest first, whatever order was chosen before.
    if (timed && !(this.shown?.entry.name === entry.name && this.shown.timed)) this.sort = undefined;
    this.shown = { entry, timed, rows: entry.kernels.map((kernel) => ({ kernel, cost: costs?.[kernel.position], microseconds: timed ? microseconds[kernel.position] : undefined })) };
    this.draw();
  }

  /** The entry whose kernels the table lists (the fused plan's, or the unfused one's while the kernels pane shows it). */
  get entry(): EntryReport | undefined {
    return this.shown?.entry;
  }

  /** A line above the table: how the times were measured, or why there are none. */
  setNote(text: string): void {
    this.note.textContent = text;
    this.timeHeader.title = `${text} (click to sort)`;
  }

  highlight(position: number | undefined): void {
    this.selected = position;
    for (const [at, row] of this.rowsByPosition) row.classList.toggle('selected', at === position);
    if (position !== undefined) this.rowsByPosition.get(position)?.scrollIntoView({ block: 'nearest' });
  }

  private sortBy(key: SortKey): void {
    const current = this.currentSort();
    // A first click sorts numbers largest first and names alphabetically; a second turns it round.
    this.sort = current.key === key ? { key, descending: !current.descending } : { key, descending: key !== 'position' && key !== 'kind' };
    this.draw();
  }

  private currentSort(): Sort {
    return this.sort ?? (this.shown?.timed ? { key: 'time', descending: true } : { key: 'position', descending: false });
  }

  private draw(): void {
    const shown = this.shown;
    if (!shown) return;
    const sort = this.currentSort();
    for (const [key, header] of this.headers) {
      header.classList.toggle('sorted', key === sort.key);
      header.setAttribute('aria-sort', key === sort.key ? (sort.descending ? 'descending' : 'ascending') : 'none');
      header.dataset['arrow'] = key === sort.key ? (sort.descending ? '▾' : '▴') : '';
    }
    const total = totalMicroseconds(shown.rows);
    const rows = [...shown.rows].sort((a, b) => compareRows(a, b, sort.key) * (sort.descending ? -1 : 1) || a.kernel.position - b.kernel.position);
    this.rowsByPosition = new Map(rows.map((row) => [row.kernel.position, this.row(row, total)]));
    this.body.replaceChildren(...this.rowsByPosition.values());
    if (rows.length === 0) this.body.append(el('tr', {}, el('td', { colspan: COLUMNS, class: 'pane-note' }, `entry ${shown.entry.name} dispatches no kernels`)));
    this.foot.replaceChildren(...(rows.length === 0 ? [] : [totalRow(shown.rows, total)]));
    this.highlight(this.selected);
  }

  private row({ kernel, cost, microseconds }: Row, total: number | undefined): HTMLTableRowElement {
    const size = `of ${kernel.workgroupSize.filter((n, i) => i === 0 || n > 1).join('×')}`;
    return el(
      'tr',
      { 'data-position': kernel.position, onclick: () => this.onSelect(kernel.position) },
      el('td', { class: 'num' }, kernel.position),
      el('td', { class: 'mono', title: kernel.reason }, ...breakableName(kernel.name), el('div', { class: 'ops' }, kernel.ops.map(({ op, node }) => `${op} %${node}`).join(', '))),
      ...figureCells(cost, microseconds, total),
      el('td', {}, el('span', { class: `kind kind-${kernel.kind}`, title: kernel.reason }, kernel.kind)),
      el('td', { class: 'mono' }, kernel.workgroups.map(describeCount).join('×'), el('div', { class: 'ops' }, size)),
      el('td', {}, ...kernel.bindings.map(bindingChip)),
    );
  }
}

/** The time, share, FLOPs · bytes and rates cells of a row (the total row's too). */
function figureCells(cost: KernelCost | undefined, microseconds: number | undefined, total: number | undefined): HTMLElement[] {
  const bytes = cost && cost.bytesRead + cost.bytesWritten;
  const share = microseconds !== undefined && total ? microseconds / total : undefined;
  return [
    el('td', { class: 'num', 'data-us': microseconds }, microseconds === undefined ? '' : microseconds.toFixed(microseconds < 100 ? 1 : 0)),
    el(
      'td',
      { class: 'num share', 'data-share': share },
      share === undefined ? '' : `${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`,
      share === undefined ? '' : el('div', { class: 'share-bar', style: `width: ${(100 * share).toFixed(1)}%` }),
    ),
    el(
      'td',
      { class: 'num', 'data-flops': cost?.flops, 'data-bytes': bytes, title: cost ? `${cost.flops} FLOPs; reads ${formatBytes(cost.bytesRead)}, writes ${formatBytes(cost.bytesWritten)}` : undefined },
      cost ? formatCount(cost.flops) : '',
      el('div', { class: 'ops' }, bytes === undefined ? '' : formatBytes(bytes)),
    ),
    el('td', { class: 'num', 'data-rates': '', title: 'GFLOP/s, and GB/s over the bytes it binds' }, rate(cost?.flops, microseconds), el('div', { class: 'ops' }, rate(bytes, microseconds))),
  ];
}

function totalRow(rows: readonly Row[], total: number | undefined): HTMLTableRowElement {
  const costed = rows.every((row) => row.cost !== undefined);
  const sum = (of: (cost: KernelCost) => number): number => rows.reduce((s, row) => s + of(row.cost!), 0);
  const cost = costed ? { flops: sum((c) => c.flops), bytesRead: sum((c) => c.bytesRead), bytesWritten: sum((c) => c.bytesWritten) } : undefined;
  return el(
    'tr',
    { class: 'total-row', id: 'kernels-total' },
    el('td', {}),
    el('td', { title: 'Each kernel is timed alone: a step also pays its submit, its copies and the gaps between dispatches.' }, el('b', {}, 'total'), ` · ${rows.length} dispatch${rows.length === 1 ? '' : 'es'}`),
    ...figureCells(cost, total, total),
    el('td', { colspan: 3 }),
  );
}

/** The sum of the rows' times; undefined until timed. */
function totalMicroseconds(rows: readonly Row[]): number | undefined {
  if (rows.length === 0 || rows.some((row) => row.microseconds === undefined)) return undefined;
  return rows.reduce((sum, row) => sum + row.microseconds!, 0);
}

function compareRows(a: Row, b: Row, key: SortKey): number {
  switch (key) {
    case 'position':
      return a.kernel.position - b.kernel.position;
    case 'kind':
      return a.kernel.kind.localeCompare(b.kernel.kind);
    case 'flops':
      return (a.cost?.flops ?? -1) - (b.cost?.flops ?? -1);
    case 'gflops':
      return gflops(a) - gflops(b);
    case 'time':
      return (a.microseconds ?? -1) - (b.microseconds ?? -1);
  }
}

function gflops(row: Row): number {
  return row.cost && row.microseconds ? row.cost.flops / (row.microseconds * 1e3) : -1;
}

/** Giga-units per second of `amount` done in `microseconds` (blank until timed). */
function rate(amount: number | undefined, microseconds: number | undefined): string {
  return amount === undefined || microseconds === undefined ? '' : formatRate(amount, microseconds / 1000);
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
