/**
 * Lays out the DAG as the page shows it: collapsed groups as one box each, expanded groups as
 * frames around their contents (elk's compound nodes, laid out together so edges cross frames
 * cleanly), edges between whatever stands for their ends on screen, counted when several
 * merge. It runs in the worker (elkjs takes a second on a large graph); the page imports
 * only the types.
 */

import elkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkLayouter, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { groupNodes, visibleOf } from './graph-groups.js';
import type { DagGroup, DagGrouping, GroupBy, KernelNodes } from './graph-groups.js';
import type { DagModel } from './graph-model.js';
import { groupBoxSize, NODE_HEIGHT, nodeWidth } from './graph-shapes.js';

/** What to lay out: the grouping and which groups are open. */
export interface LayoutView {
  readonly by: GroupBy;
  /** The shown entry's kernels (grouping by kernel). */
  readonly kernels?: readonly KernelNodes[];
  readonly expanded: readonly string[];
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A laid-out view; coordinates are the whole layout's. */
export interface PositionedGraph {
  readonly width: number;
  readonly height: number;
  /** Expanded groups (frames) and collapsed ones (boxes), each frame before what it holds. */
  readonly groups: readonly (Box & { readonly id: string; readonly expanded: boolean })[];
  /** The nodes drawn (those in no collapsed group). */
  readonly nodes: readonly (Box & { readonly id: number })[];
  /** Between what stands for each end on screen (a node's id as text, or a collapsed group's id); `count` model edges merged. */
  readonly edges: readonly { readonly from: string; readonly to: string; readonly count: number; readonly points: readonly Point[] }[];
}

/** Room above an expanded group's contents for its title. */
const FRAME_TITLE = 22;

// elkjs is CommonJS typed as an ES module: bundled, the default import is the constructor itself.
type ElkConstructor = new () => ElkLayouter;
const ELK = ((elkBundled as unknown as { default?: ElkConstructor }).default ?? elkBundled) as unknown as ElkConstructor;
let elk: ElkLayouter | undefined;

export async function layoutGraph(model: DagModel, view: LayoutView): Promise<PositionedGraph> {
  const grouping = groupNodes(model, view.by, view.kernels);
  const expanded = new Set(view.expanded.filter((id) => grouping.groups.has(id)));
  const byId = new Map(model.nodes.map((node) => [node.id, node]));
  const nodeShape = (id: number): ElkNode => ({ id: String(id), width: nodeWidth(byId.get(id)!), height: NODE_HEIGHT });
  const groupShape = (group: DagGroup): ElkNode =>
    expanded.has(group.id)
      ? {
          id: group.id,
          layoutOptions: { 'elk.padding': `[top=${FRAME_TITLE},left=8,bottom=8,right=8]` },
          children: [...group.groups.map((id) => groupShape(grouping.groups.get(id)!)), ...group.nodes.map(nodeShape)],
        }
      : { id: group.id, ...groupBoxSize(group) };
  const edges = visibleEdges(model, grouping, expanded);
  elk ??= new ELK();
  const laid = await elk.layout({
    id: 'graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
      'elk.spacing.nodeNode': '10',
      'elk.layered.spacing.nodeNodeBetweenLayers': '26',
      'elk.layered.spacing.edgeNodeBetweenLayers': '10',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: [...grouping.top.groups.map((id) => groupShape(grouping.groups.get(id)!)), ...grouping.top.nodes.map(nodeShape)],
    edges: edges.map(({ from, to }, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [from], targets: [to] })),
  });
  return positioned(laid, edges, expanded);
}

/** The model's edges between what stands for their ends, merged (a group's inner edges vanish into its box). */
export function visibleEdges(model: DagModel, grouping: DagGrouping, expanded: ReadonlySet<string>): { from: string; to: string; count: number }[] {
  const merged = new Map<string, { from: string; to: string; count: number }>();
  for (const edge of model.edges) {
    const from = visibleOf(grouping, expanded, edge.from);
    const to = visibleOf(grouping, expanded, edge.to);
    if (from === to) continue;
    const key = `${from}>${to}`;
    const known = merged.get(key);
    if (known) known.count++;
    else merged.set(key, { from, to, count: 1 });
  }
  return [...merged.values()];
}

function positioned(laid: ElkNode, edges: readonly { from: string; to: string; count: number }[], expanded: ReadonlySet<string>): PositionedGraph {
  const groups: (Box & { id: string; expanded: boolean })[] = [];
  const nodes: (Box & { id: number })[] = [];
  const visit = (shape: ElkNode): void => {
    const box = { x: shape.x ?? 0, y: shape.y ?? 0, width: shape.width ?? 0, height: shape.height ?? 0 };
    if (shape.id.startsWith('g:')) groups.push({ id: shape.id, expanded: expanded.has(shape.id), ...box });
    else nodes.push({ id: Number(shape.id), ...box });
    (shape.children ?? []).forEach(visit);
  };
  (laid.children ?? []).forEach(visit);
  const pointsOf = new Map((laid.edges ?? []).map((edge) => [edge.id, (edge as ElkExtendedEdge).sections?.flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]) ?? []]));
  return {
    width: laid.width ?? 1,
    height: laid.height ?? 1,
    groups,
    nodes,
    edges: edges.map((edge, i) => ({ ...edge, points: pointsOf.get(`e${i}`) ?? [] })),
  };
}
