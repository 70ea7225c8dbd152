/**
 * The memory plan of one entry point as a chart: a column per step of the entry (before
 * the pass, each dispatch, after it), a row per allocation, and a bar for each buffer
 * over the steps it is live in. Buffers that share an allocation sit in one row, so the
 * planner's reuse shows as bars side by side. Above the rows, the bytes live at each step;
 * beside the chart, peak against naive (every intermediate in its own buffer).
 */

import type { BufferLifetime, CompileReport, EntryReport } from '../index.js';
import { evaluatePlanSize } from '../runtime.js';
import { el, formatBytes, formatPlanBytes, svg } from './dom.js';

const LABEL_WIDTH = 120;
const ROW_HEIGHT = 15;
const USAGE_HEIGHT = 44;
const PERSISTENT_ROLES = new Set(['param', 'state', 'const']);

export class MemoryView {
  private readonly summary: HTMLElement;
  private readonly chart: HTMLElement;
  private bands: SVGRectElement[] = [];
  private shown: { entry: EntryReport; selected: number | undefined } | undefined;
  private drawnWidth = 0;
  private bytesOf: (b: BufferLifetime) => number = (b) => evaluatePlanSize(b.bytes, {});

  constructor(root: HTMLElement, private readonly onSelect: (position: number) => void) {
    this.summary = el('p', { class: 'memory-summary', id: 'memory-summary' });
    this.chart = el('div', { class: 'memory-chart' });
    root.append(this.summary, this.chart);
    // The chart is as wide as its pane, which has no width while its tab is hidden.
    new ResizeObserver(() => {
      if (this.shown && this.chart.clientWidth > 0 && this.chart.clientWidth !== this.drawnWidth) this.redraw();
    }).observe(this.chart);
  }

  render(entry: EntryReport, memory: CompileReport['memory']): void {
    const { naiveTransientBytes: naive, peakTransientBytes: peak, allocationBytes } = memory;
    const persistent = entry.buffers.filter((b) => PERSISTENT_ROLES.has(b.role));
    // A symbolic plan is drawn at the sizes its memory report was counted at (\`atDims\`).
    const dims = memory.atDims ?? {};
    this.bytesOf = (b) => evaluatePlanSize(b.bytes, dims);
    const share = naive > 0 ? ` (${((100 * allocationBytes) / naive).toFixed(1)}% of naive)` : '';
    this.summary.replaceChildren(
      el('b', {}, 'transient '),
      `peak ${formatBytes(peak)} · allocated ${formatBytes(allocationBytes)} · naive ${formatBytes(naive)}${share}`,
      el('br'),
      `${memory.buffers} buffers in ${memory.allocations} allocations; this entry also holds ${persistent.length} params, state and constants (${formatBytes(persistent.reduce((sum, b) => sum + this.bytesOf(b), 0))}) throughout.`,
    );
    this.shown = { entry, selected: undefined };
    this.redraw();
  }

  highlight(position: number | undefined): void {
    if (this.shown) this.shown.selected = position;
    this.bands.forEach((band, i) => band.classList.toggle('selected', i - 1 === position));
  }

  private redraw(): void {
    const { entry, selected } = this.shown!;
    this.drawnWidth = this.chart.clientWidth;
    this.chart.replaceChildren(this.draw(entry, entry.buffers.filter((b) => !PERSISTENT_ROLES.has(b.role))));
    this.highlight(selected);
  }

  private draw(entry: EntryReport, buffers: readonly BufferLifetime[]): SVGSVGElement {
    const steps = entry.kernels.length + 2; // before, each dispatch, after
    const width = Math.max(this.chart.clientWidth - 8, 320);
    const column = (width - LABEL_WIDTH) / steps;
    const x = (position: number): number => LABEL_WIDTH + (position + 1) * column;
    // One row per allocation (a buffer without one has its own), in order of first use.
    const rows = new Map<string, BufferLifetime[]>();
    for (const b of buffers) {
      const key = b.allocation === undefined ? `#${b.buffer}` : `@${b.allocation}`;
      rows.set(key, [...(rows.get(key) ?? []), b]);
    }
    const height = USAGE_HEIGHT + 18 + rows.size * ROW_HEIGHT + 4;
    const root = svg('svg', { width, height, class: 'memory-svg', id: 'memory-svg' });

    this.bands = Array.from({ length: steps }, (_, i) => {
      const band = svg('rect', { x: x(i - 1), y: 0, width: column, height, class: 'step-band' });
      if (i > 0 && i < steps - 1) band.addEventListener('click', () => this.onSelect(i - 1));
      band.append(svg('title', {}, i === 0 ? 'before the pass (inputs written)' : i === steps - 1 ? 'after the pass (outputs read)' : `dispatch ${i - 1}: ${entry.kernels[i - 1]!.name}`));
      return band;
    });
    root.append(...this.bands);

    // Bytes live at each step, as bars scaled to the largest.
    const live = Array.from({ length: steps }, (_, i) => buffers.filter((b) => b.role === 'transient' && b.first <= i - 1 && i - 1 <= b.last).reduce((sum, b) => sum + this.bytesOf(b), 0));
    const most = Math.max(1, ...live);
    live.forEach((bytes, i) => {
      const h = (USAGE_HEIGHT - 12) * (bytes / most);
      const bar = svg('rect', { x: x(i - 1) + 1, y: USAGE_HEIGHT - h, width: Math.max(column - 2, 1), height: h, class: 'usage-bar' });
      bar.append(svg('title', {}, `${formatBytes(bytes)} of transients live`));
      root.append(bar);
    });
    root.append(
      svg('text', { x: 4, y: 12, class: 'chart-label' }, 'transient bytes live'),
      svg('text', { x: 4, y: 26, class: 'chart-label dim' }, `max ${formatBytes(most)}`),
      svg('text', { x: LABEL_WIDTH, y: USAGE_HEIGHT + 13, class: 'chart-label dim' }, 'before'),
      svg('text', { x: x(steps - 2), y: USAGE_HEIGHT + 13, class: 'chart-label dim' }, 'after'),
    );

    [...rows.entries()].forEach(([key, members], r) => {
      const y = USAGE_HEIGHT + 18 + r * ROW_HEIGHT;
      const label = members.map((b) => b.name).join(', ');
      root.append(svg('text', { x: 4, y: y + 11, class: 'chart-label' }, `${key} ${label.length > 16 ? `${label.slice(0, 15)}…` : label}`));
      for (const b of members) {
        const bar = svg('rect', { x: x(b.first) + 1, y: y + 2, width: Math.max((b.last - b.first + 1) * column - 2, 2), height: ROW_HEIGHT - 4, rx: 2, class: `life role-${b.role}` });
        bar.append(svg('title', {}, `#${b.buffer} ${b.name}: ${b.role} ${b.dtype}[${b.shape.join(',')}], ${formatPlanBytes(b.bytes)}, live ${b.first < 0 ? 'before' : b.first} … ${b.last >= steps - 2 ? 'after' : b.last}`));
        root.append(bar);
      }
    });
    return root;
  }
}
