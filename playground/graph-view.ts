/**
 * The graph, twice: as SSA text (the simplified graph the kernels refer to, or the graph
 * as written) and as a DAG laid out in the worker (worker/layout.ts), with forward, gradient and update nodes in
 * their own colours and each assigned value marked with the param or state it replaces.
 * Selecting a kernel highlights its nodes in both; clicking a node or a line asks for the
 * kernel that computes it. The DAG pans (drag) and zooms (wheel).
 */

import { el, svg } from './dom.js';
import type { DagModel, NodePart } from './graph-model.js';
import { nodeText } from './graph-shapes.js';
import type { GraphLayout } from './graph-shapes.js';

/** The scale at which node labels read comfortably. */
const READABLE_SCALE = 0.9;
/** The smallest scale a graph is first shown at: below it, the nodes are specks. */
const OVERVIEW_SCALE = 0.3;
const LEGEND: readonly NodePart[] = ['input', 'param', 'state', 'const', 'forward', 'gradient', 'update'];

interface View {
  x: number;
  y: number;
  scale: number;
}

export class GraphView {
  private readonly canvas: SVGSVGElement;
  private readonly layer: SVGGElement;
  private readonly text: HTMLElement;
  private nodeShapes = new Map<number, SVGGElement>();
  private edgeShapes: { from: number; to: number; path: SVGPathElement }[] = [];
  private textLines: { ids: number[]; line: HTMLElement }[] = [];
  private boxes = new Map<number, { x: number; y: number; width: number; height: number }>();
  private view: View = { x: 0, y: 0, scale: 1 };
  private size = { width: 1, height: 1 };
  /** A fit asked for while the DAG's tab was hidden (no size to fit to): done when it shows. */
  private fitPending = false;

  constructor(dagRoot: HTMLElement, textRoot: HTMLElement, private readonly onNode: (id: number) => void) {
    this.layer = svg('g');
    this.canvas = svg('svg', { class: 'dag', id: 'dag' }, this.layer);
    const legend = el('div', { class: 'legend' }, ...LEGEND.map((part) => el('span', { class: `legend-item part-${part}` }, part)));
    const fit = el('button', { class: 'small', title: 'Fit the whole graph in view', onclick: () => this.fit(0) }, 'Fit');
    dagRoot.append(el('div', { class: 'dag-bar' }, legend, fit), this.canvas);
    this.text = textRoot;
    this.enablePanAndZoom();
    new ResizeObserver(() => {
      if (this.fitPending) this.fit(OVERVIEW_SCALE);
    }).observe(this.canvas);
  }

  /** Draws `model` at `layout`'s positions (laid out in the worker), and shows `ssa` (the same graph's text) beside it. */
  render(model: DagModel, ssa: string, layout: GraphLayout): void {
    this.renderText(model, ssa);
    this.draw(model, layout);
    this.fit(OVERVIEW_SCALE);
  }

  /**
   * Marks `ids` (a kernel's nodes) in the DAG and the text and brings them into view
   * (`zoom`: close enough to read); `focus` gets a stronger mark.
   */
  highlight(ids: ReadonlySet<number>, focus?: number, zoom = false): void {
    this.canvas.classList.toggle('has-selection', ids.size > 0);
    for (const [id, shape] of this.nodeShapes) {
      shape.classList.toggle('hl', ids.has(id));
      shape.classList.toggle('focus', id === focus);
    }
    for (const { from, to, path } of this.edgeShapes) path.classList.toggle('hl', ids.has(from) && ids.has(to));
    for (const { ids: lineIds, line } of this.textLines) line.classList.toggle('hl', lineIds.some((id) => ids.has(id)));
    this.text.querySelector('.hl')?.scrollIntoView({ block: 'nearest' });
    this.bringIntoView(ids, zoom);
  }

  private renderText(model: DagModel, ssa: string): void {
    const idOfLabel = new Map(model.nodes.map((node) => [node.label, node.id]));
    this.textLines = ssa.split('\n').map((text) => {
      const ids = lineNodes(text, idOfLabel);
      const line = el('div', { class: ids.length > 0 ? 'code-line linked' : 'code-line' }, text || '\n');
      if (ids.length > 0) line.addEventListener('click', () => this.onNode(ids[0]!));
      return { ids, line };
    });
    this.text.replaceChildren(...this.textLines.map(({ line }) => line));
  }

  private draw(model: DagModel, layout: GraphLayout): void {
    const byId = new Map(model.nodes.map((node) => [node.id, node]));
    this.size = { width: layout.width, height: layout.height };
    this.nodeShapes = new Map();
    this.boxes = new Map();
    const edges = layout.edges.map(({ points }, i) => {
      const path = svg('path', { d: points.map((p, j) => `${j === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' '), class: 'edge', 'marker-end': 'url(#arrow)' });
      return { ...model.edges[i]!, path };
    });
    this.edgeShapes = edges;
    const nodes = layout.nodes.map((box) => {
      const node = byId.get(box.id)!;
      this.boxes.set(node.id, box);
      const [title, detail] = nodeText(node);
      const shape = svg(
        'g',
        { class: `node part-${node.part}`, transform: `translate(${box.x},${box.y})`, 'data-node': node.id },
        svg('rect', { width: box.width, height: box.height, rx: 4 }),
        svg('text', { x: 6, y: 12, class: 'node-title' }, title),
        svg('text', { x: 6, y: 24, class: 'node-detail' }, detail),
        svg('title', {}, `${node.label} = ${node.op}: ${node.type} (${node.part})${node.assigns ? `, assigned to ${node.assigns}` : ''}`),
      );
      shape.addEventListener('click', () => this.onNode(node.id));
      this.nodeShapes.set(node.id, shape);
      return shape;
    });
    const arrow = svg('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 8, refY: 4, markerWidth: 6, markerHeight: 6, orient: 'auto' }, svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow' }));
    this.layer.replaceChildren(svg('defs', {}, arrow), ...edges.map((e) => e.path), ...nodes);
  }

  /**
   * Fits the whole graph in view; a graph too large to read at `minScale` or more is shown
   * at `minScale` from its start (its inputs) instead.
   */
  private fit(minScale: number): void {
    const { width, height } = this.canvas.getBoundingClientRect();
    this.fitPending = width === 0 || height === 0;
    if (this.fitPending) return;
    const whole = Math.min(width / (this.size.width + 20), height / (this.size.height + 20), 1.5);
    const scale = Math.max(whole, minScale);
    const x = scale === whole ? (width - this.size.width * scale) / 2 : 10;
    this.setView({ scale, x, y: (height - this.size.height * scale) / 2 });
  }

  /**
   * Pans so the nodes are in view if any is outside it; with `zoom`, also scales up to
   * READABLE_SCALE, or as close as lets them all fit.
   */
  private bringIntoView(ids: ReadonlySet<number>, zoom: boolean): void {
    const boxes = [...ids].flatMap((id) => this.boxes.get(id) ?? []);
    if (boxes.length === 0) return;
    const { width, height } = this.canvas.getBoundingClientRect();
    const left = Math.min(...boxes.map((b) => b.x));
    const top = Math.min(...boxes.map((b) => b.y));
    const right = Math.max(...boxes.map((b) => b.x + b.width));
    const bottom = Math.max(...boxes.map((b) => b.y + b.height));
    let { x, y, scale } = this.view;
    const visible = left * scale + x >= 0 && right * scale + x <= width && top * scale + y >= 0 && bottom * scale + y <= height;
    if (visible && (!zoom || scale >= READABLE_SCALE)) return;
    if (zoom) scale = Math.max(scale, Math.min(READABLE_SCALE, (0.9 * width) / (right - left), (0.9 * height) / (bottom - top)));
    x = width / 2 - ((left + right) / 2) * scale;
    y = height / 2 - ((top + bottom) / 2) * scale;
    this.setView({ scale, x, y });
  }

  private setView(view: View): void {
    this.view = view;
    this.layer.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.scale})`);
  }

  private enablePanAndZoom(): void {
    this.canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const bounds = this.canvas.getBoundingClientRect();
        const [px, py] = [event.clientX - bounds.left, event.clientY - bounds.top];
        const scale = Math.min(4, Math.max(0.05, this.view.scale * Math.exp(-event.deltaY * 0.0015)));
        const ratio = scale / this.view.scale;
        this.setView({ scale, x: px - (px - this.view.x) * ratio, y: py - (py - this.view.y) * ratio });
      },
      { passive: false },
    );
    this.canvas.addEventListener('pointerdown', (event) => {
      const start = { px: event.clientX, py: event.clientY, ...this.view };
      const move = (e: PointerEvent): void => this.setView({ scale: start.scale, x: start.x + e.clientX - start.px, y: start.y + e.clientY - start.py });
      const up = (): void => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    });
  }
}

/**
 * The node ids an SSA line declares: `%12:f32[…] = …`, `param fc1.kernel:…`, every name of the
 * `in` line, and the value of an `assign` line.
 */
function lineNodes(line: string, idOfLabel: ReadonlyMap<string, number>): number[] {
  const trimmed = line.trim();
  const assign = /^assign \S+ <- (\S+)$/.exec(trimmed);
  if (assign) return idsOf([assign[1]!], idOfLabel);
  const declared = /^(?:let\s+)?(%\d+):/.exec(trimmed) ?? /^(?:param|state)\s+([^:\s]+):/.exec(trimmed);
  if (declared) return idsOf([declared[1]!], idOfLabel);
  if (trimmed.startsWith('in ')) return idsOf([...trimmed.slice(3).matchAll(/([^\s:]+):/g)].map((m) => m[1]!), idOfLabel);
  return [];
}

function idsOf(labels: readonly string[], idOfLabel: ReadonlyMap<string, number>): number[] {
  return labels.flatMap((label) => {
    const id = idOfLabel.get(label);
    return id === undefined ? [] : [id];
  });
}
