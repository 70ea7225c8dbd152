/**
 * The kernels pane's fused/unfused toggle (`#fused-select`): the same program compiled
 * without fusion (one kernel per op, compiled in the worker when first asked for), its
 * kernels listed in the same table, so the two plans compare side by side in one click.
 * Unfused kernels name the same simplified graph's nodes, so selecting one lights its node
 * and shows its WGSL as a fused one does. The page's selection (and what other views read
 * from it) stays the fused plan's: the unfused one is for reading, not for running.
 */

import type { CompileReport, EntryReport, KernelReport } from '../index.js';
import { byId, el } from './dom.js';
import type { KernelsView } from './kernels-view.js';
import type { PageContext } from './page-context.js';
import type { Compiled } from './protocol.js';
import type { WgslView } from './wgsl-view.js';

export interface KernelPlans {
  /** Whether the fused plan's kernels are shown. */
  fused(): boolean;
  /** Shows the fused (true) or the unfused (false) plan's kernels. */
  setFused(fused: boolean): Promise<void>;
  /** The shown entry's kernels, in the plan shown. */
  kernels(): readonly KernelReport[];
  /** The kernel selected in the plan shown, if any. */
  selected(): KernelReport | undefined;
  /** Selects kernel `position` of the plan shown. */
  select(position: number | undefined): void;
  /** Calls `listener` when the plan shown or its selection changes. */
  onChange(listener: () => void): void;
}

export function installKernelPlans(context: PageContext, kernelsView: KernelsView, wgsl: WgslView): KernelPlans {
  const select = el(
    'select',
    { id: 'fused-select', class: 'small', title: 'The kernels of the plan as compiled (fused), or of the same program without fusion: one kernel per op' },
    el('option', { value: 'fused' }, 'fused'),
    el('option', { value: 'unfused' }, 'unfused'),
  );
  const entryTabs = byId('entry-tabs');
  entryTabs.parentElement!.insertBefore(select, entryTabs);
  const reports = new WeakMap<Compiled, Promise<CompileReport>>();
  const listeners = new Set<() => void>();
  let unfused: { readonly compiled: Compiled; readonly report: CompileReport } | undefined;
  let showUnfused = false;
  let unfusedPosition: number | undefined;
  /** The entry the unfused kernels were last drawn for. */
  let drawnEntry: string | undefined;
  const changed = (): void => listeners.forEach((listener) => listener());

  const unfusedEntry = (): EntryReport | undefined => {
    if (!showUnfused || !unfused || unfused.compiled !== context.compiled()) return undefined;
    return unfused.report.entries.find((e) => e.name === context.entry());
  };

  /** Draws the unfused plan's kernels over the fused ones the page shell drew, with the unfused selection. */
  const drawUnfused = (): void => {
    const entry = unfusedEntry();
    if (!entry) return;
    kernelsView.render(entry);
    kernelsView.highlight(unfusedPosition);
    const kernel = unfusedPosition === undefined ? undefined : entry.kernels[unfusedPosition];
    byId('graph-note').textContent = kernel ? `unfused ${kernel.name}: ${kernel.reason}` : `unfused: ${entry.kernels.length} kernels, one per op`;
    context.graph.highlight(new Set(kernel?.ops.map(({ node }) => node) ?? []), undefined, kernel !== undefined);
    wgsl.show(kernel);
  };

  const selectUnfused = (position: number | undefined): void => {
    unfusedPosition = position;
    drawUnfused();
    changed();
  };

  const setFused = async (fused: boolean): Promise<void> => {
    select.value = fused ? 'fused' : 'unfused';
    const compiled = context.compiled();
    if (fused || !compiled) {
      const wasUnfused = showUnfused;
      showUnfused = false;
      // The page shell redraws the fused kernels with its selection.
      if (wasUnfused) context.switchEntry(context.entry(), context.selection().kernel ?? 0);
      changed();
      return;
    }
    let pending = reports.get(compiled);
    if (!pending) {
      pending = context.client.call('unfusedReport', {});
      reports.set(compiled, pending);
    }
    select.disabled = true;
    try {
      const report = await pending;
      unfused = { compiled, report };
    } catch (error) {
      reports.delete(compiled);
      context.showError(error);
      select.value = 'fused';
      return;
    } finally {
      select.disabled = false;
    }
    if (select.value !== 'unfused' || context.compiled() !== compiled) return;
    showUnfused = true;
    unfusedPosition = 0;
    drawnEntry = context.entry();
    drawUnfused();
    changed();
  };

  select.addEventListener('change', () => void setFused(select.value === 'fused'));
  // The table's rows select the page's (fused) kernel: while unfused kernels are listed, a click selects the unfused one instead.
  byId('kernels-root').addEventListener(
    'click',
    (event) => {
      if (!unfusedEntry()) return;
      const row = (event.target as Element | null)?.closest<HTMLElement>('tr[data-position]');
      if (!row) return;
      event.stopPropagation();
      selectUnfused(Number(row.dataset['position']));
    },
    { capture: true },
  );
  // The page shell redraws the fused plan on a new selection or entry: the unfused one goes back over it.
  // A node clicked selects the unfused kernel computing it; another entry starts at its first kernel.
  context.bus.on('selection', ({ entry: name, node }) => {
    const entry = unfusedEntry();
    if (!entry) return;
    if (node !== undefined) {
      const position = entry.kernels.findIndex((k) => k.ops.some((op) => op.node === node));
      unfusedPosition = position < 0 ? undefined : position;
    } else if (name !== drawnEntry) unfusedPosition = 0;
    drawnEntry = name;
    drawUnfused();
    changed();
  });
  context.bus.on('compiled', () => {
    if (showUnfused) void setFused(false);
  });

  return {
    fused: () => !unfusedEntry(),
    setFused,
    kernels: () => unfusedEntry()?.kernels ?? context.entryReport()?.kernels ?? [],
    selected: () => {
      const entry = unfusedEntry();
      if (entry) return unfusedPosition === undefined ? undefined : entry.kernels[unfusedPosition];
      const position = context.selection().kernel;
      return position === undefined ? undefined : context.entryReport()?.kernels[position];
    },
    select: (position) => (unfusedEntry() ? selectUnfused(position) : context.selectKernel(position, { zoom: true })),
    onChange: (listener) => void listeners.add(listener),
  };
}
