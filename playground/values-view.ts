/**
 * A node's values in the graph's side panel, after Forward. Most intermediate tensors never
 * reach a GPU buffer (a fused kernel keeps them in registers), so the worker recomputes
 * them with the CPU reference interpreter from Forward's feeds and the params and state
 * the session holds; the panel says so, with how far the reference's forward outputs are
 * from the GPU's (they agree to rounding when the kernels are right).
 */

import type { HostTensor } from '../runtime.js';
import { el, svg } from './dom.js';
import type { PageContext } from './page-context.js';
import type { ForwardCheck, TensorData } from './protocol.js';
import type { ValueSummary } from './worker/value-summary.js';
import './values-view.css';

const HISTOGRAM_WIDTH = 240;
const HISTOGRAM_HEIGHT = 40;

export function installValues(context: PageContext): void {
  /** The GPU run the values compare with; undefined until Forward ran on the shown compile. */
  let check: ForwardCheck | undefined;
  /** Counts requests, so a slow answer for a node no longer selected is dropped. */
  let request = 0;

  const show = async (node: number | undefined): Promise<void> => {
    const asked = ++request;
    if (node === undefined || context.graph.panel.node !== node) return;
    if (!check) {
      context.graph.panel.setValues(el('p', { class: 'values-note', id: 'values-hint' }, 'Run Forward to see this node’s values.'));
      return;
    }
    const agreement = check;
    context.graph.panel.setValues(el('p', { class: 'values-note' }, 'computing its values…'));
    try {
      const summary = await context.client.call('values', { node });
      if (asked !== request || context.graph.panel.node !== node) return;
      const view = summaryView(summary, agreement);
      context.graph.panel.setValues(view);
      revealInPanel(view);
    } catch (error) {
      if (asked === request) context.graph.panel.setValues(el('p', { class: 'values-note error' }, error instanceof Error ? error.message : String(error)));
    }
  };

  context.bus.on('compiled', () => {
    check = undefined;
    request++;
  });
  context.bus.on('selection', ({ node }) => void show(node));
  context.bus.on('forward', ({ feeds, outputs }) => {
    const session = context.session();
    const compiled = context.compiled();
    if (!session || !compiled) return;
    void (async () => {
      try {
        const params = await session.getParams();
        // The params are read back for this call alone, so their buffers move; the feeds and outputs stay with the page, so they are copied.
        const args = { feeds, params: tensorsOf(params), outputs: tensorsOf(outputs, true) };
        const result = await context.client.call('valuesContext', args, { transfer: [...new Set(Object.values(params).map((p) => p.data.buffer as ArrayBuffer))] });
        if (context.compiled() !== compiled) return;
        check = result;
        void show(context.selection().node);
      } catch (error) {
        context.showError(error);
      }
    })();
  });
}

/**
 * Scrolls the side panel (not the page: scrollIntoView would move every scrolled ancestor)
 * so the values are in view, their top first.
 */
function revealInPanel(view: HTMLElement): void {
  const panel = view.closest<HTMLElement>('.node-panel');
  if (!panel) return;
  const box = view.getBoundingClientRect();
  const frame = panel.getBoundingClientRect();
  const below = box.bottom - frame.bottom;
  if (below > 0) panel.scrollTop += Math.min(below, box.top - frame.top);
}

function tensorsOf(tensors: Readonly<Record<string, HostTensor>>, copy = false): Record<string, TensorData> {
  return Object.fromEntries(Object.entries(tensors).map(([name, { dtype, shape, data }]) => [name, { dtype, shape: [...shape], data: copy ? data.slice() : data }]));
}

/** The summary as the panel shows it: the figures, the histogram, the first values, and where they come from. */
function summaryView(summary: ValueSummary, check: ForwardCheck): HTMLElement {
  const stats: [string, string, number | string][] = [
    ['shape', 'shape', `${summary.dtype}[${summary.shape.join(',')}]`],
    ['min', 'min', summary.min],
    ['max', 'max', summary.max],
    ['mean', 'mean', summary.mean],
    ['std', 'std', summary.std],
    ['nan', 'NaN', summary.nanCount],
    ['inf', '±∞', summary.infCount],
  ];
  const agree = check.outputs.length === 0 ? 'no forward output to compare with the GPU’s' : `Forward’s outputs: max |GPU − reference| ${formatValue(check.maxAbsDifference)}`;
  return el(
    'div',
    { class: 'values-summary', id: 'values-summary' },
    el('div', { class: 'values-head' }, 'values', el('span', { class: 'values-note' }, ' · CPU reference')),
    el('dl', { class: 'values-stats' }, ...stats.flatMap(([key, name, value]) => [el('dt', {}, name), el('dd', { 'data-stat': key, class: key === 'nan' || key === 'inf' ? (value === 0 ? undefined : 'error') : undefined }, typeof value === 'number' ? formatValue(value) : value)])),
    histogram(summary),
    el('div', { class: 'values-first mono', title: `the first ${summary.first.length} of ${summary.count} values, row-major` }, summary.first.map(formatValue).join(' '), summary.count > summary.first.length ? ' …' : ''),
    el(
      'p',
      { class: 'values-note', id: 'values-source', title: check.outputs.map((o) => `${o.name}: max |GPU − reference| ${o.maxAbsDifference}`).join('\n') },
      'Computed by the CPU reference interpreter from Forward’s feeds and the session’s params (a fused kernel keeps most tensors off the GPU’s memory). ',
      el('span', { id: 'values-agreement', 'data-difference': check.maxAbsDifference }, agree),
    ),
  );
}

/** Bars of the histogram's counts over [min, max], each titled with its range and count. */
function histogram(summary: ValueSummary): SVGSVGElement {
  const { counts, min, max } = summary.histogram;
  const most = Math.max(1, ...counts);
  const width = HISTOGRAM_WIDTH / counts.length;
  const step = (max - min) / counts.length;
  return svg(
    'svg',
    { class: 'values-histogram', viewBox: `0 0 ${HISTOGRAM_WIDTH} ${HISTOGRAM_HEIGHT + 12}`, width: HISTOGRAM_WIDTH, height: HISTOGRAM_HEIGHT + 12, role: 'img', 'aria-label': `histogram of ${summary.count - summary.nanCount - summary.infCount} finite values` },
    ...counts.map((count, i) => {
      const height = count === 0 ? 0 : Math.max(1, (HISTOGRAM_HEIGHT * count) / most);
      return svg('rect', { x: i * width + 0.5, y: HISTOGRAM_HEIGHT - height, width: width - 1, height, 'data-count': count }, svg('title', {}, `[${formatValue(min + i * step)}, ${formatValue(min + (i + 1) * step)}): ${count}`));
    }),
    svg('text', { x: 0, y: HISTOGRAM_HEIGHT + 10, 'text-anchor': 'start' }, formatValue(min)),
    svg('text', { x: HISTOGRAM_WIDTH, y: HISTOGRAM_HEIGHT + 10, 'text-anchor': 'end' }, formatValue(max)),
  );
}

/** Four significant digits, exponent form for the very large and very small. */
function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}
