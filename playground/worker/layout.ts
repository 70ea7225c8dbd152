/**
 * The worker's `layout`: lays out a graph model as the page shows it (graph-layout.ts: groups
 * collapsed or open, edges merged), off the page's thread — elkjs takes seconds on the
 * transformer's full graph.
 */

import { layoutGraph } from '../graph-layout.js';
import type { PositionedGraph } from '../graph-layout.js';
import type { WorkerApi } from '../protocol.js';
import type { Handled } from './host.js';

export async function layout(args: WorkerApi['layout']['args']): Promise<Handled<PositionedGraph>> {
  return { result: await layoutGraph(args.model, args.view) };
}
