/**
 * The DAG's SVG shapes: a node (its two lines of text, coloured by part), a collapsed group
 * (one box saying what it holds), an expanded group's frame, an edge (thicker when it
 * stands for several), and the heat colour a node takes when timed or weighed.
 */

import { svg } from './dom.js';
import type { DagGroup } from './graph-groups.js';
import type { Box, Point } from './graph-layout.js';
import type { DagNode, NodePart } from './graph-model.js';
import { groupText, nodeText } from './graph-shapes.js';

export function nodeShape(node: DagNode, box: Box): SVGGElement {
  const [title, detail] = nodeText(node);
  const where = [node.scope ? `scope ${node.scope}` : '', node.line === undefined ? '' : `line ${node.line}`].filter(Boolean).join(', ');
  return svg(
    'g',
    { class: `node part-${node.part}`, transform: `translate(${box.x},${box.y})`, 'data-node': node.id },
    svg('rect', { width: box.width, height: box.height, rx: 4 }),
    svg('text', { x: 6, y: 12, class: 'node-title' }, title),
    svg('text', { x: 6, y: 24, class: 'node-detail' }, detail),
    svg('title', {}, `${node.label} = ${node.op}: ${node.type} (${node.part})${node.assigns ? `, assigned to ${node.assigns}` : ''}${where ? `; ${where}` : ''}`),
  );
}

/** A collapsed group: click to open. `part` colours it by what most of its nodes are. */
export function groupShape(group: DagGroup, box: Box, part: NodePart): SVGGElement {
  const [title, detail] = groupText(group);
  return svg(
    'g',
    { class: `group part-${part}`, transform: `translate(${box.x},${box.y})`, 'data-group': group.id },
    svg('rect', { width: box.width, height: box.height, rx: 6 }),
    svg('rect', { width: box.width - 6, height: box.height - 6, x: 3, y: 3, rx: 4, class: 'group-inner' }),
    svg('text', { x: 10, y: 17, class: 'group-title' }, title),
    svg('text', { x: 10, y: 31, class: 'group-detail' }, detail),
    svg('title', {}, `${group.name}: ${group.size} nodes (click to open)`),
  );
}

/** An open group's frame; its title closes it again. */
export function frameShape(group: DagGroup, box: Box): SVGGElement {
  return svg(
    'g',
    { class: 'frame', transform: `translate(${box.x},${box.y})`, 'data-frame': group.id },
    svg('rect', { width: box.width, height: box.height, rx: 6 }),
    svg('text', { x: 8, y: 15, class: 'frame-title' }, `▾ ${group.label}`),
    svg('title', {}, `${group.name}: ${group.size} nodes (click the title to close)`),
  );
}

export function edgeShape(points: readonly Point[], count: number): SVGPathElement {
  const d = points.map((p, j) => `${j === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
  const path = svg('path', { d, class: count > 1 ? 'edge merged' : 'edge', 'marker-end': 'url(#arrow)' });
  if (count > 1) path.style.strokeWidth = String(Math.min(1.2 + Math.log2(count), 6));
  return path;
}

export function arrowMarker(): SVGDefsElement {
  return svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 8, refY: 4, markerWidth: 6, markerHeight: 6, orient: 'auto' }, svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow' })));
}

/** Cool to hot: a dark blue for 0, through amber, to red for 1. */
export function heatColour(value: number): string {
  const v = Math.min(1, Math.max(0, value));
  return `hsl(${Math.round(220 - 220 * v)}, ${Math.round(45 + 40 * v)}%, ${Math.round(22 + 28 * v)}%)`;
}
