/**
 * Time kernels and heat: the button times the shown entry's kernels on the page's device
 * (profile.ts) and the kernels table shows them slowest first; the heat select colours the
 * graph's nodes by the time or the bytes of the kernel that computes each, relative to
 * the entry's largest (the hottest node is that kernel's), so where a step's time goes is
 * seen on the graph itself.
 */

import type { EntryReport } from '../index.js';
import { byId, el } from './dom.js';
import type { PageShell } from './page-shell.js';
import { timeKernels } from './profile.js';
import type { Compiled } from './protocol.js';

export type HeatMode = 'off' | 'time' | 'bytes';

export interface Profiling {
  /** Times the shown entry's kernels (the Time kernels button). */
  timeKernels(): Promise<void>;
}

export function installProfiling(page: PageShell): Profiling {
  /** µs per dispatch by entry, for the compile shown. */
  const times = new Map<string, readonly number[]>();
  const select = el(
    'select',
    { id: 'heat-select', class: 'small', title: 'Colour the graph’s nodes by the time or the bytes of the kernel that computes each' },
    ...(['off', 'time', 'bytes'] as const).map((mode) => el('option', { value: mode }, `heat: ${mode}`)),
  );
  byId('time-button').after(' ', select);

  const paint = (): void => {
    const compiled = page.compiled();
    const entry = page.entryReport();
    const mode = select.value as HeatMode;
    if (mode === 'off' || !compiled || !entry) return page.graph.setHeat(undefined, '');
    const values = mode === 'time' ? times.get(entry.name) : compiled.costs.entries[entry.name]?.map((cost) => cost.bytesRead + cost.bytesWritten);
    if (!values) return page.graph.setHeat(new Map(), `${mode}: Time kernels first`);
    page.graph.setHeat(heatOfNodes(entry, values), `${mode === 'time' ? 'GPU time' : 'bytes'} of ${entry.name}'s kernels`);
  };

  select.addEventListener('change', paint);
  page.bus.on('compiled', () => {
    times.clear();
    paint();
  });
  let shownEntry = page.entry();
  page.bus.on('selection', ({ entry }) => {
    if (entry === shownEntry) return;
    shownEntry = entry;
    paint();
  });
  void page.device.then(({ gpu, timestamps }) => {
    page.kernels.setNote(gpu ? (timestamps ? 'Time kernels measures each kernel on the GPU (timestamp-query).' : 'Time kernels measures each kernel by the wall clock (this adapter has no timestamp-query).') : '');
  });

  return {
    async timeKernels(): Promise<void> {
      const { gpu } = await page.device;
      const compiled: Compiled | undefined = page.compiled();
      if (!gpu || !compiled) return;
      const entry = page.entry();
      // The unfused kernels (the pane's fused/unfused toggle) are for reading: the session runs, and this times, the fused plan.
      if (page.kernels.entry !== page.entryReport()) {
        page.kernels.setNote('Time kernels times the plan the session runs: choose fused to time its kernels.');
        return;
      }
      page.kernels.setNote(`timing ${entry}'s kernels…`);
      try {
        const measured = await timeKernels(gpu.device, compiled.plan, entry, compiled.costs.dims);
        if (page.compiled() !== compiled) return;
        page.kernels.setNote(measured.note);
        times.set(entry, measured.microseconds);
        page.setKernelTimes(compiled, entry, measured.microseconds);
        // Timing is what the time heat waits for: show it once there is something to show.
        if (select.value === 'off') select.value = 'time';
        paint();
      } catch (error) {
        page.kernels.setNote('');
        page.showError(error);
      }
    },
  };
}

/**
 * Node id → 0..1: each kernel's figure over the entry's largest, given to every node it
 * implements. A reduction lowered to several dispatches in a row lists its nodes on each:
 * they get the sum, the kernel's whole cost.
 */
function heatOfNodes(entry: EntryReport, perDispatch: readonly number[]): Map<number, number> {
  const byNode = new Map<number, number>();
  for (const kernel of entry.kernels) {
    for (const { node } of kernel.ops) byNode.set(node, (byNode.get(node) ?? 0) + (perDispatch[kernel.position] ?? 0));
  }
  const hottest = Math.max(0, ...byNode.values());
  return new Map([...byNode].map(([node, value]) => [node, hottest > 0 ? value / hottest : 0]));
}
