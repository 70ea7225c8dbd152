/**
 * The graph, twice: as SSA text (the simplified graph the kernels refer to) and as a DAG,
 * laid out in the worker (graph-layout.ts), readable at any size: nodes grouped by name scope
 * (or by kernel), the groups of a large graph collapsed into one box each until clicked,
 * the selected kernel's groups opened and zoomed to at a size that reads. Forward, gradient
 * and update nodes have their own colours; a minimap, a node search and a side panel with
 * the selected node's facts (and its values, which the values view puts there) sit beside.
 * The DAG pans (drag) and zooms (wheel). Only what is drawn is built: a collapsed group is
 * one box, so drawing never holds the page up.
 */

import './graph-view.css';
import { el, svg } from './dom.js';
import { arrowMarker, edgeShape, frameShape, groupShape, heatColour, nodeShape } from './graph-draw.js';
import { defaultExpanded, groupNodes, groupPath, groupsShowing, nodesOfGroup } from './graph-groups.js';
import type { DagGrouping, GroupBy, KernelNodes } from './graph-groups.js';
import type { Box, LayoutView, PositionedGraph } from './graph-layout.js';
import type { DagModel, DagNode, NodePart } from './graph-model.js';
import { GraphSearch, matchNodes } from './graph-search.js';
import { Minimap } from './minimap.js';
import { Viewport } from './graph-viewport.js';
import { measured, nextTask } from './next-task.js';
import { NodePanel } from './node-panel.js';
import { lineNodes } from './ssa-lines.js';

/** The smallest scale a graph is first shown at: below it, the nodes are specks. */
const OVERVIEW_SCALE = 0.3;
/** Layouts kept for views shown before (the groups a kernel opens, revisited). */
const CACHED_LAYOUTS = 32;
const LEGEND: readonly NodePart[] = ['input', 'param', 'state', 'const', 'forward', 'gradient', 'update'];

/** Asks the worker to lay out `model` as `view` shows it. */
export type Layouter = (model: DagModel, view: LayoutView) => Promise<PositionedGraph>;

interface Drawn {
  readonly key: string;
  readonly layout: PositionedGraph;
  readonly nodes: Map<number, SVGGElement>;
  readonly groups: Map<string, SVGGElement>;
  readonly boxes: Map<string, Box>;
  readonly edges: { from: string; to: string; path: SVGPathElement }[];
}

export class GraphView {
  readonly panel: NodePanel;
  private readonly canvas: SVGSVGElement;
  private readonly layer: SVGGElement;
  private readonly text: HTMLElement;
  private readonly minimap: Minimap;
  private readonly search: GraphSearch;
  private readonly groupBy: HTMLSelectElement;
  private readonly heatLabel: HTMLElement;
  private layouter: Layouter | undefined;
  private model: DagModel = { nodes: [], edges: [] };
  private byId = new Map<number, DagNode>();
  private grouping: DagGrouping = groupNodes(this.model, 'scope');
  private kernels: readonly KernelNodes[] = [];
  /** Groups the user opened (or all, for a small graph); and those the selection needs open. */
  private opened = new Set<string>();
  private needed = new Set<string>();
  private drawn: Drawn | undefined;
  private readonly layouts = new Map<string, PositionedGraph>();
  private requesting = false;
  private drawTimer: ReturnType<typeof setTimeout> | undefined;
  private selection: { ids: ReadonlySet<number>; focus: number | undefined; zoom: boolean } = { ids: new Set(), focus: undefined, zoom: false };
  /** The view still to bring the selection close (set by render: a new graph opens on its selected kernel). */
  private zoomPending = false;
  private heat: ReadonlyMap<number, number> | undefined;
  private textLines: { ids: number[]; line: HTMLElement }[] = [];
  private readonly viewport: Viewport;
  /** Called once the view wanted is drawn (or could not be laid out). */
  private waiters: (() => void)[] = [];
  /** A view whose layout failed, not asked for again, and why. */
  private failedKey: string | undefined;
  private failure: unknown;

  constructor(dagRoot: HTMLElement, textRoot: HTMLElement, private readonly onNode: (id: number) => void) {
    this.layer = svg('g');
    this.canvas = svg('svg', { class: 'dag', id: 'dag' }, this.layer);
    this.text = textRoot;
    this.panel = new NodePanel();
    const body = el('div', { class: 'dag-body' }, this.canvas);
    this.viewport = new Viewport(this.canvas, this.layer, body, (box) => this.minimap.setViewport(box));
    this.minimap = new Minimap((x, y) => this.viewport.centreOn(x, y, this.viewport.view.scale));
    this.search = new GraphSearch(
      (query) => matchNodes(this.model, query),
      (id) => {
        // A node found is brought close enough to read.
        this.zoomPending = true;
        this.onNode(id);
      },
    );
    this.groupBy = el('select', { id: 'group-by', title: 'Group the nodes by their name scope or by the kernel that computes them' }, el('option', { value: 'scope' }, 'group: scope'), el('option', { value: 'kernel' }, 'group: kernel'));
    this.groupBy.addEventListener('change', () => this.regroup());
    this.heatLabel = el('span', { class: 'heat-label', id: 'heat-label', hidden: true });
    const legend = el('div', { class: 'legend' }, ...LEGEND.map((part) => el('span', { class: `legend-item part-${part}` }, part)));
    const fit = el('button', { class: 'small', title: 'Fit the whole graph in view', onclick: () => this.viewport.fit(0) }, 'Fit');
    const bar = el('div', { class: 'dag-bar' }, legend, this.heatLabel, ...this.search.elements(), this.groupBy, fit);
    body.append(this.minimap.element, this.panel.element);
    dagRoot.append(bar, body);
  }

  /** Where layouts come from (the worker); set once by the page. */
  setLayouter(layouter: Layouter): void {
    this.layouter = layouter;
  }

  /** The shown entry's kernels: for grouping by kernel, and the side panel's kernel. */
  setKernels(kernels: readonly KernelNodes[]): void {
    this.kernels = kernels;
    // The panel shows the focus unless closed: its kernel's name may have changed.
    if (this.panel.node !== undefined) this.showPanel();
    if (this.grouping.by === 'kernel') this.regroup();
  }

  /**
   * Shows `model` and `ssa` (the same graph's text); resolves once its first layout is
   * drawn. The next highlight brings its nodes close at a readable scale.
   */
  async render(model: DagModel, ssa: string): Promise<void> {
    this.model = model;
    this.byId = new Map(model.nodes.map((node) => [node.id, node]));
    this.layouts.clear();
    this.failedKey = undefined;
    this.drawn = undefined;
    this.selection = { ids: new Set(), focus: undefined, zoom: false };
    this.panel.show(undefined);
    measured('write the graph’s text', () => this.renderText(model, ssa));
    this.search.update();
    this.regroup(false);
    this.zoomPending = true;
    if (!this.layouter) throw new Error('GraphView.render: no layouter. Fix: call installGraphView(context) first (it lays graphs out in the worker).');
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.relayout();
    });
    if (!this.drawn) throw this.failure;
    // What the page does next (select a kernel, …) runs in a task of its own, not the drawing's.
    await nextTask();
  }

  /**
   * Marks `ids` (a kernel's nodes) in the DAG and the text, opening the groups they are in,
   * and brings them into view (`zoom`: close enough to read); `focus` gets a stronger mark
   * and the side panel.
   */
  highlight(ids: ReadonlySet<number>, focus?: number, zoom = false): void {
    this.selection = { ids, focus, zoom: zoom || this.zoomPending };
    this.zoomPending = false;
    this.needed = groupsShowing(this.grouping, focus === undefined ? ids : [...ids, focus]);
    this.showPanel();
    for (const { ids: lineIds, line } of this.textLines) line.classList.toggle('hl', lineIds.some((id) => ids.has(id)));
    this.text.querySelector('.hl')?.scrollIntoView({ block: 'nearest' });
    this.relayout();
  }

  /** Colours nodes by `values` (0..1 per node id; a collapsed group by its hottest node), labelled `label`; undefined clears it. */
  setHeat(values: ReadonlyMap<number, number> | undefined, label: string): void {
    this.heat = values;
    this.heatLabel.hidden = values === undefined;
    this.heatLabel.textContent = values === undefined ? '' : `heat: ${label}`;
    this.paintHeat();
  }

  private regroup(draw = true): void {
    const by = this.groupBy.value as GroupBy;
    this.grouping = groupNodes(this.model, by, by === 'kernel' ? this.kernels : []);
    this.opened = defaultExpanded(this.model, this.grouping);
    const { ids, focus } = this.selection;
    this.needed = groupsShowing(this.grouping, focus === undefined ? ids : [...ids, focus]);
    if (draw) this.relayout();
  }

  private viewOf(): LayoutView {
    const expanded = [...new Set([...this.opened, ...this.needed])].sort();
    return { by: this.grouping.by, ...(this.grouping.by === 'kernel' ? { kernels: this.kernels } : {}), expanded };
  }

  private keyOf(view: LayoutView): string {
    return `${view.by}|${view.by === 'kernel' ? this.kernels.map((k) => k.name).join(',') : ''}|${view.expanded.join(',')}`;
  }

  /**
   * Draws the view the groups opened call for: in the next task when laid out before, else once
   * the worker lays it out (one request at a time; the latest wanted view wins). `#dag` is
   * aria-busy meanwhile; the selection is marked on what is drawn.
   */
  private relayout(): void {
    const view = this.viewOf();
    const key = this.keyOf(view);
    if (this.drawn?.key === key || key === this.failedKey) {
      measured('show the selection in the graph', () => this.showSelection());
      this.canvas.removeAttribute('aria-busy');
      const waiters = this.waiters;
      this.waiters = [];
      for (const done of waiters) done();
      return;
    }
    this.canvas.setAttribute('aria-busy', 'true');
    if (this.layouts.has(key)) return this.drawSoon();
    if (this.requesting || !this.layouter) return;
    this.requesting = true;
    const model = this.model;
    this.layouter(model, view)
      .then((layout) => {
        if (model !== this.model) return;
        this.layouts.set(key, layout);
        if (this.layouts.size > CACHED_LAYOUTS) this.layouts.delete(this.layouts.keys().next().value!);
      })
      .catch((error: unknown) => {
        this.failedKey = key;
        this.failure = error;
        if (this.drawn) console.error('playground: the graph could not be laid out:', error);
      })
      .finally(() => {
        this.requesting = false;
        this.relayout();
      });
  }

  /** Draws the view wanted in a task of its own, not in the one that asked for it (a kernel's selection has its own work). */
  private drawSoon(): void {
    if (this.drawTimer !== undefined) return;
    this.drawTimer = setTimeout(() => {
      this.drawTimer = undefined;
      const key = this.keyOf(this.viewOf());
      const layout = this.layouts.get(key);
      if (layout && this.drawn?.key !== key) measured('draw the graph', () => this.draw(key, layout));
      this.relayout();
    }, 0);
  }

  private draw(key: string, layout: PositionedGraph): void {
    const nodes = new Map<number, SVGGElement>();
    const groups = new Map<string, SVGGElement>();
    const boxes = new Map<string, Box>();
    const frames: SVGGElement[] = [];
    for (const box of layout.groups) {
      const group = this.grouping.groups.get(box.id);
      if (!group) continue;
      boxes.set(box.id, box);
      if (box.expanded) {
        const frame = frameShape(group, box);
        frame.querySelector('.frame-title')!.addEventListener('click', () => this.toggleGroup(group.id, false));
        frames.push(frame);
      } else {
        const shape = groupShape(group, box, this.dominantPart(group.id));
        shape.addEventListener('click', () => this.toggleGroup(group.id, true));
        groups.set(group.id, shape);
      }
    }
    for (const box of layout.nodes) {
      const node = this.byId.get(box.id);
      if (!node) continue;
      boxes.set(String(box.id), box);
      const shape = nodeShape(node, box);
      shape.addEventListener('click', () => this.onNode(node.id));
      nodes.set(node.id, shape);
    }
    const edges = layout.edges.map(({ from, to, count, points }) => ({ from, to, path: edgeShape(points, count) }));
    this.layer.replaceChildren(arrowMarker(), ...frames, ...edges.map((e) => e.path), ...groups.values(), ...nodes.values());
    this.drawn = { key, layout, nodes, groups, boxes, edges };
    this.minimap.draw(layout);
    this.paintHeat();
    this.viewport.content = { width: layout.width, height: layout.height };
    this.viewport.setView(this.viewport.view);
  }

  /** Marks the selection on what is drawn, and brings it into view if asked. */
  private showSelection(): void {
    const drawn = this.drawn;
    if (!drawn) return;
    const { ids, focus, zoom } = this.selection;
    this.mark(ids, focus);
    // Zooming to a node found brings that node close; otherwise the kernel's nodes with it.
    const targets = zoom && focus !== undefined ? [focus] : [...(focus === undefined ? [] : [focus]), ...ids];
    const shown = targets.flatMap((id) => drawn.boxes.get(String(id)) ?? []);
    if (shown.length > 0) this.viewport.bringIntoView(shown, zoom);
    else if (zoom) this.viewport.fit(OVERVIEW_SCALE);
    this.selection = { ...this.selection, zoom: false };
  }

  /**
   * Lights `ids` as they are drawn: each drawn node, and the collapsed group holding any other,
   * without opening groups or moving the view (a hover's preview). Undefined lights the
   * selection again.
   */
  preview(ids: ReadonlySet<number> | undefined): void {
    if (ids === undefined) this.mark(this.selection.ids, this.selection.focus);
    else this.mark(ids, undefined);
  }

  private mark(ids: ReadonlySet<number>, focus: number | undefined): void {
    const drawn = this.drawn;
    if (!drawn) return;
    this.canvas.classList.toggle('has-selection', ids.size > 0);
    for (const [id, shape] of drawn.nodes) {
      shape.classList.toggle('hl', ids.has(id));
      shape.classList.toggle('focus', id === focus);
    }
    const litGroups = new Set([...ids].flatMap((id) => (this.grouping.groupOf.has(id) ? groupPath(this.grouping, this.grouping.groupOf.get(id)!) : [])));
    for (const [id, shape] of drawn.groups) shape.classList.toggle('hl', litGroups.has(id));
    const lit = (end: string): boolean => ids.has(Number(end)) || litGroups.has(end);
    for (const { from, to, path } of drawn.edges) path.classList.toggle('hl', lit(from) && lit(to));
  }

  /** Opens (or closes) a group by the user's click, keeping it in view. */
  private toggleGroup(id: string, open: boolean): void {
    if (open) this.opened.add(id);
    else {
      for (const inner of [id, ...[...this.opened].filter((g) => groupPath(this.grouping, g).includes(id))]) {
        this.opened.delete(inner);
        this.needed.delete(inner);
      }
    }
    const before = this.drawn?.boxes.get(id);
    this.relayoutThen(() => {
      const after = this.drawn?.boxes.get(id);
      const { x, y, scale } = this.viewport.view;
      if (before && after) this.viewport.setView({ scale, x: x + (before.x - after.x) * scale, y: y + (before.y - after.y) * scale });
    });
  }

  private relayoutThen(done: () => void): void {
    const key = this.keyOf(this.viewOf());
    this.waiters.push(() => this.drawn?.key === key && done());
    this.relayout();
  }

  private paintHeat(): void {
    if (!this.drawn) return;
    const { nodes, groups } = this.drawn;
    for (const [id, shape] of nodes) paint(shape, this.heat?.get(id));
    for (const [id, shape] of groups) {
      const values = this.heat ? nodesOfGroup(this.grouping, id).flatMap((n) => this.heat!.get(n) ?? []) : [];
      paint(shape, values.length > 0 ? Math.max(...values) : undefined);
    }
  }

  private dominantPart(id: string): NodePart {
    const counts = new Map<NodePart, number>();
    for (const node of nodesOfGroup(this.grouping, id)) {
      const part = this.byId.get(node)?.part;
      if (part) counts.set(part, (counts.get(part) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'forward';
  }

  /** Shows the focus (none: hides the panel) with its group and kernel. */
  private showPanel(): void {
    const { focus } = this.selection;
    this.panel.show(focus === undefined ? undefined : this.byId.get(focus), { group: this.groupName(focus), kernel: this.kernelName(focus) });
  }

  private groupName(id: number | undefined): string | undefined {
    const group = id === undefined ? undefined : this.grouping.groupOf.get(id);
    return group === undefined ? undefined : groupPath(this.grouping, group).map((g) => this.grouping.groups.get(g)!.label).join(' / ');
  }

  private kernelName(id: number | undefined): string | undefined {
    return id === undefined ? undefined : this.kernels.find((kernel) => kernel.nodes.includes(id))?.name;
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
}

function paint(shape: SVGGElement, value: number | undefined): void {
  const rect = shape.querySelector('rect')!;
  rect.style.fill = value === undefined ? '' : heatColour(value);
  shape.classList.toggle('heated', value !== undefined);
}
