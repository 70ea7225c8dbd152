/**
 * The worker's `layout`: elkjs's layered layout of a graph model, off the page's thread
 * (the transformer's graph took the page 1.6 s). A first version, moved here from
 * graph-view.ts as it was; the readable-graph work replaces it (graph-layout.ts).
 */

import elkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkLayouter, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { DagModel } from '../graph-model.js';
import { NODE_HEIGHT, nodeWidth } from '../graph-shapes.js';
import type { GraphLayout } from '../graph-shapes.js';
import type { Handled } from './host.js';

// elkjs is CommonJS typed as an ES module: bundled, the default import is the constructor itself.
type ElkConstructor = new () => ElkLayouter;
const ELK = ((elkBundled as unknown as { default?: ElkConstructor }).default ?? elkBundled) as unknown as ElkConstructor;
const elk = new ELK();
// Loaded in a worker, elkjs's bundle takes the worker's `onmessage` to serve its own
// protocol, and would answer the page's calls with errors: the page's calls are ours.
(globalThis as { onmessage?: unknown }).onmessage = null;

export async function layout(args: { readonly model: DagModel }): Promise<Handled<GraphLayout>> {
  const { model } = args;
  const laid: ElkNode = await elk.layout({
    id: 'graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '10',
      'elk.layered.spacing.nodeNodeBetweenLayers': '26',
      'elk.layered.spacing.edgeNodeBetweenLayers': '10',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: model.nodes.map((node) => ({ id: String(node.id), width: nodeWidth(node), height: NODE_HEIGHT })),
    edges: model.edges.map((edge, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [String(edge.from)], targets: [String(edge.to)] })),
  });
  const result: GraphLayout = {
    width: laid.width ?? 1,
    height: laid.height ?? 1,
    nodes: (laid.children ?? []).map((child) => ({ id: Number(child.id), x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 })),
    edges: (laid.edges ?? []).map((edge) => ({ points: (edge as ElkExtendedEdge).sections?.flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]) ?? [] })),
  };
  return { result };
}
