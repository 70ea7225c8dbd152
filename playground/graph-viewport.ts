/**
 * The DAG's viewport: pan (drag), zoom (wheel), fit, and bringing boxes into view at a
 * scale that reads. Coordinates are the layout's; the layer carries the transform.
 */

import type { Box } from './graph-layout.js';

/** The scale at which node labels read comfortably (10 px titles: 9 px on screen). */
export const READABLE_SCALE = 0.9;

export interface View {
  readonly x: number;
  readonly y: number;
  readonly scale: number;
}

export class Viewport {
  view: View = { x: 0, y: 0, scale: 1 };
  /** The layout's size. */
  content = { width: 1, height: 1 };
  /**
   * A fit and a bring-into-view asked for while the DAG's tab was hidden (no size to fit to:
   * a phone's Graph tab while a kernel is chosen on its Kernels tab): done, in that order, when it shows.
   */
  private pendingFit: number | undefined;
  private pendingBring: { readonly boxes: readonly Box[]; readonly zoom: boolean } | undefined;
  /**
   * The canvas's size, as its ResizeObserver last saw it: reading it from the DOM would force a
   * layout of the page in the middle of drawing (on a large graph, most of the drawing's time).
   */
  private size = { width: 0, height: 0 };

  /**
   * `frame`: the HTML element the canvas fills, watched for its size (an <svg>'s own
   * ResizeObserver entries give its drawing's bounding box, not its size on the page).
   * `onChange(box)`: the part of the layout now in view.
   */
  constructor(
    private readonly canvas: SVGSVGElement,
    private readonly layer: SVGGElement,
    frame: HTMLElement,
    private readonly onChange: (box: Box) => void,
  ) {
    this.enablePanAndZoom();
    new ResizeObserver((entries) => {
      const { width, height } = entries[entries.length - 1]!.contentRect;
      this.size = { width, height };
      if (width === 0 || height === 0) return;
      const [fit, bring] = [this.pendingFit, this.pendingBring];
      this.pendingFit = this.pendingBring = undefined;
      if (fit !== undefined) this.fit(fit);
      if (bring) this.bringIntoView(bring.boxes, bring.zoom);
    }).observe(frame);
  }

  /**
   * Fits the whole graph in view; a graph too large to read at `minScale` or more is shown
   * at `minScale` from its start (its inputs) instead.
   */
  fit(minScale: number): void {
    const { width, height } = this.size;
    if (width === 0 || height === 0) {
      // A later fit replaces what was asked before it.
      this.pendingFit = minScale;
      this.pendingBring = undefined;
      return;
    }
    const size = this.content;
    const whole = Math.min(width / (size.width + 20), height / (size.height + 20), 1.5);
    const scale = Math.max(whole, minScale);
    const x = scale === whole ? (width - size.width * scale) / 2 : 10;
    this.setView({ scale, x, y: (height - size.height * scale) / 2 });
  }

  /**
   * Pans so the boxes are in view if any is outside it; with `zoom`, also scales up to
   * READABLE_SCALE, or as close as lets them all fit.
   */
  bringIntoView(boxes: readonly Box[], zoom: boolean): void {
    const { width, height } = this.size;
    if (boxes.length === 0) return;
    if (width === 0 || height === 0) {
      this.pendingBring = { boxes, zoom };
      return;
    }
    const left = Math.min(...boxes.map((b) => b.x));
    const top = Math.min(...boxes.map((b) => b.y));
    const right = Math.max(...boxes.map((b) => b.x + b.width));
    const bottom = Math.max(...boxes.map((b) => b.y + b.height));
    const { x, y } = this.view;
    let { scale } = this.view;
    const visible = left * scale + x >= 0 && right * scale + x <= width && top * scale + y >= 0 && bottom * scale + y <= height;
    if (visible && (!zoom || scale >= READABLE_SCALE)) return;
    // Readable, and no closer than needed: a scale that fits them all, or READABLE_SCALE if none does.
    const fits = Math.min((0.9 * width) / (right - left), (0.9 * height) / (bottom - top));
    if (zoom) scale = scale >= READABLE_SCALE && scale <= fits ? scale : Math.max(READABLE_SCALE, Math.min(fits, READABLE_SCALE * 1.5));
    // Boxes too far apart to show at once (a kernel fusing ops from far parts of the graph): the first one, centred.
    const first = boxes[0]!;
    if (scale > fits) this.centreOn(first.x + first.width / 2, first.y + first.height / 2, scale);
    else this.centreOn((left + right) / 2, (top + bottom) / 2, scale);
  }

  centreOn(cx: number, cy: number, scale: number): void {
    const { width, height } = this.size;
    this.setView({ scale, x: width / 2 - cx * scale, y: height / 2 - cy * scale });
  }

  setView(view: View): void {
    this.view = view;
    this.layer.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.scale})`);
    const { width, height } = this.size;
    this.onChange({ x: -view.x / view.scale, y: -view.y / view.scale, width: width / view.scale, height: height / view.scale });
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
