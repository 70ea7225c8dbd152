/**
 * Yielding the page's thread: work split at these points runs as separate tasks, so the
 * browser draws and answers input in between, and no one task grows long (a browser test
 * holds every task under 200 ms while any example compiles and shows).
 */

/** Resolves in a later task (after the browser has had a turn: input, rendering). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** How long afterPaint waits for a frame that does not come (a hidden tab draws none). */
const NO_FRAME_MS = 100;

/**
 * Resolves in a task after the browser's next frame: the style and layout of what was just
 * added happen in that frame, not in the next step's task (a step that reads layout, as
 * scrolling does, would otherwise pay for all of it).
 */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, NO_FRAME_MS);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/**
 * Runs `step` and records it as the performance measure `kiln: name`, so a long task can be
 * traced to the step that made it (the responsiveness test names them; so does DevTools).
 */
export function measured<T>(name: string, step: () => T): T {
  const start = performance.now();
  try {
    return step();
  } finally {
    performance.measure(`kiln: ${name}`, { start, end: performance.now() });
  }
}
