/**
 * The whole graph in a corner, with the part in view outlined: where you are in a large graph,
 * and a way to go elsewhere (click or drag moves the view there).
 */

import { svg } from './dom.js';
import type { Box, PositionedGraph } from './graph-layout.js';

export class Minimap {
  readonly element: SVGSVGElement;
  private readonly shapes: SVGGElement;
  private readonly viewport: SVGRectElement;

  /** `onPan(x, y)`: centre the view on this point of the layout. */
  constructor(private readonly onPan: (x: number, y: number) => void) {
    this.shapes = svg('g');
    this.viewport = svg('rect', { class: 'minimap-view' });
    this.element = svg('svg', { id: 'minimap', class: 'minimap', preserveAspectRatio: 'xMidYMid meet' }, this.shapes, this.viewport);
    this.element.addEventListener('pointerdown', (event) => {
      event.stopPropagation();
      this.panTo(event);
      const move = (e: PointerEvent): void => this.panTo(e);
      const up = (): void => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    });
    this.element.addEventListener('wheel', (event) => event.stopPropagation());
  }

  /** Draws the layout's outermost boxes (collapsed groups, frames and nodes alike: a sketch). */
  draw(layout: PositionedGraph): void {
    this.element.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
    const boxes = [...layout.groups.map((group) => ({ ...group, kind: group.expanded ? 'frame' : 'group' })), ...layout.nodes.map((node) => ({ ...node, kind: 'node' }))];
    this.shapes.replaceChildren(...boxes.map((box) => svg('rect', { x: box.x, y: box.y, width: box.width, height: box.height, class: `minimap-${box.kind}` })));
  }

  /** Outlines the part of the layout in view. */
  setViewport(box: Box): void {
    for (const [name, value] of Object.entries(box)) this.viewport.setAttribute(name, String(value));
  }

  private panTo(event: PointerEvent): void {
    const matrix = this.element.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    this.onPan(point.x, point.y);
  }
}
