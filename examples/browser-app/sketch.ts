/**
 * The 28×28 drawing pad: pointer events (mouse, pen and touch alike) paint soft strokes
 * into the image's 784 pixels, drawn scaled up with crisp pixels. Also shows a test image
 * the user picked, so it can be painted over.
 */

import { PIXELS } from './data.js';

const SIDE = 28;

export interface SketchPad {
  /** The image as the model reads it: 784 values in [0, 1], row by row. */
  readonly pixels: Float32Array;
  clear(): void;
  /** Shows `bytes` (784 values, 0 to 255). */
  show(bytes: Uint8Array): void;
}

/** Makes `canvas` (28×28 pixels, any CSS size) a drawing pad; `changed` runs after each stroke. */
export function sketchPad(canvas: HTMLCanvasElement, changed: () => void): SketchPad {
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('this browser has no 2D canvas');
  canvas.width = SIDE;
  canvas.height = SIDE;
  const pixels = new Float32Array(PIXELS);
  const image = context.createImageData(SIDE, SIDE);

  const render = (): void => {
    for (let i = 0; i < PIXELS; i++) {
      // Fashion-MNIST is light on dark: draw it so, as the model sees it.
      const value = Math.round(255 * (pixels[i] ?? 0));
      image.data.set([value, value, value, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  };

  /** Paints a round brush of radius 1.6 pixels at (x, y), in image pixels. */
  const paint = (x: number, y: number): void => {
    for (let row = Math.floor(y - 2); row <= Math.ceil(y + 2); row++) {
      for (let column = Math.floor(x - 2); column <= Math.ceil(x + 2); column++) {
        if (row < 0 || row >= SIDE || column < 0 || column >= SIDE) continue;
        const distance = Math.hypot(column + 0.5 - x, row + 0.5 - y);
        const ink = Math.max(0, Math.min(1, 1.6 - distance));
        const index = row * SIDE + column;
        pixels[index] = Math.max(pixels[index] ?? 0, ink);
      }
    }
  };

  let last: { x: number; y: number } | undefined;
  const at = (event: PointerEvent): { x: number; y: number } => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) / box.width) * SIDE, y: ((event.clientY - box.top) / box.height) * SIDE };
  };
  const stroke = (event: PointerEvent): void => {
    const point = at(event);
    const from = last ?? point;
    // Fill the gap between pointer events, so a fast stroke stays a line.
    const steps = Math.max(1, Math.ceil(Math.hypot(point.x - from.x, point.y - from.y) * 2));
    for (let step = 1; step <= steps; step++) paint(from.x + ((point.x - from.x) * step) / steps, from.y + ((point.y - from.y) * step) / steps);
    last = point;
    render();
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = undefined;
    stroke(event);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (canvas.hasPointerCapture(event.pointerId)) stroke(event);
  });
  const end = (event: PointerEvent): void => {
    if (!canvas.hasPointerCapture(event.pointerId)) return;
    canvas.releasePointerCapture(event.pointerId);
    last = undefined;
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  render();
  return {
    pixels,
    clear: () => {
      pixels.fill(0);
      render();
    },
    show: (bytes) => {
      for (let i = 0; i < PIXELS; i++) pixels[i] = (bytes[i] ?? 0) / 255;
      render();
    },
  };
}

/** A small canvas showing a 28×28 image (784 bytes), for the gallery of test images. */
export function thumbnail(bytes: Uint8Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = SIDE;
  canvas.height = SIDE;
  const context = canvas.getContext('2d');
  if (context === null) return canvas;
  const image = context.createImageData(SIDE, SIDE);
  for (let i = 0; i < PIXELS; i++) image.data.set([bytes[i] ?? 0, bytes[i] ?? 0, bytes[i] ?? 0, 255], 4 * i);
  context.putImageData(image, 0, 0);
  return canvas;
}
