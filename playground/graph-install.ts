/**
 * Wires the graph view into the page: layouts come from the worker, and the side panel and
 * the kernel grouping follow the shown entry's kernels. (Apart from graph-view.ts, which the
 * page context names: the view does not know the page.)
 */

import type { EntryReport } from '../index.js';
import type { PageContext } from './page-context.js';

export function installGraphView(context: PageContext): void {
  const { graph, client, bus } = context;
  graph.setLayouter((model, view) => client.call('layout', { model, view }));
  let shown: EntryReport | undefined;
  const follow = (): void => {
    const entry = context.entryReport();
    if (entry === shown) return;
    shown = entry;
    graph.setKernels(entry?.kernels.map((kernel) => ({ name: kernel.name, nodes: kernel.ops.map(({ node }) => node) })) ?? []);
  };
  bus.on('compiled', follow);
  bus.on('selection', follow);
}
