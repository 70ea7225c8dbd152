/**
 * The live loss chart: a line over the steps so far, on a canvas sized to its CSS box at
 * the screen's pixel ratio. The losses are also on the canvas's `data-losses` attribute
 * (space-separated), for tests and for anyone curious.
 */

export interface LossChart {
  add(loss: number): void;
  reset(): void;
}

export function lossChart(canvas: HTMLCanvasElement): LossChart {
  const losses: number[] = [];

  const draw = (): void => {
    const context = canvas.getContext('2d');
    if (context === null) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const style = getComputedStyle(canvas);
    context.clearRect(0, 0, width, height);
    const pad = 8 * ratio;
    // The y axis runs from 0 to the largest loss, so the fall reads at a glance.
    const top = Math.max(...losses, 1e-6);
    context.strokeStyle = style.getPropertyValue('--grid').trim() || '#ddd';
    context.lineWidth = ratio;
    context.font = `${11 * ratio}px system-ui, sans-serif`;
    context.fillStyle = style.getPropertyValue('--muted').trim() || '#888';
    for (const fraction of [0, 0.5, 1]) {
      const y = pad + (1 - fraction) * (height - 2 * pad);
      context.beginPath();
      context.moveTo(pad, y);
      context.lineTo(width - pad, y);
      context.stroke();
      // Labels sit under their line, so the top one stays inside the canvas.
      context.fillText((top * fraction).toFixed(2), pad + 2 * ratio, y + (fraction === 0 ? -3 : 12) * ratio);
    }
    if (losses.length < 2) return;
    context.strokeStyle = style.getPropertyValue('--accent').trim() || '#36c';
    context.lineWidth = 2 * ratio;
    context.lineJoin = 'round';
    context.beginPath();
    losses.forEach((loss, step) => {
      const x = pad + (step / (losses.length - 1)) * (width - 2 * pad);
      const y = pad + (1 - loss / top) * (height - 2 * pad);
      if (step === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
  };

  new ResizeObserver(draw).observe(canvas);
  return {
    add: (loss) => {
      losses.push(loss);
      canvas.dataset['losses'] = losses.map((value) => value.toFixed(4)).join(' ');
      draw();
    },
    reset: () => {
      losses.length = 0;
      delete canvas.dataset['losses'];
      draw();
    },
  };
}
