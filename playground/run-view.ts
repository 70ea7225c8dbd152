/**
 * Running: the outputs of a forward pass, and a training run's loss curve (uPlot: each
 * step's loss and a smoothed curve), with the step count and steps per second.
 */

import type uPlot from 'uplot';
import type { HostTensor } from '../index.js';
import { el } from './dom.js';

/** Weight of the newest loss in the smoothed curve (an exponential moving average). */
const SMOOTHING = 0.1;
const PREVIEW = 6;

export class RunView {
  private readonly chartBox: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly outputs: HTMLElement;
  private chart: uPlot | undefined;
  /** The chart library, loaded by `prepare` (a chunk of its own: the page's first paint does not wait for it). */
  private uPlotClass: typeof uPlot | undefined;
  private steps: number[] = [];
  private losses: number[] = [];
  private smoothed: number[] = [];

  constructor(root: HTMLElement) {
    this.stats = el('p', { class: 'train-stats', id: 'train-stats' }, 'Train to see the loss.');
    this.chartBox = el('div', { class: 'loss-chart', id: 'loss-chart' });
    this.outputs = el('div', { class: 'outputs', id: 'outputs' });
    root.append(this.stats, this.chartBox, this.outputs);
    new ResizeObserver(() => this.chart?.setSize(this.chartSize())).observe(this.chartBox);
  }

  /** Forgets the curve (a new model). */
  reset(note: string): void {
    this.steps = [];
    this.losses = [];
    this.smoothed = [];
    this.chart?.destroy();
    this.chart = undefined;
    this.stats.textContent = note;
    this.outputs.replaceChildren();
  }

  get stepCount(): number {
    return this.steps.length;
  }

  /** Adds one step's loss; call `draw` to show it. */
  record(loss: number): void {
    const previous = this.smoothed.at(-1);
    this.steps.push(this.steps.length + 1);
    this.losses.push(loss);
    this.smoothed.push(previous === undefined || !Number.isFinite(previous) ? loss : previous + SMOOTHING * (loss - previous));
  }

  /** Loads the chart library; training awaits it before its first step. */
  async prepare(): Promise<void> {
    this.uPlotClass ??= (await import('uplot')).default;
  }

  /** Redraws the curve (once `prepare` has loaded the chart) and the figures, with the speed of the run in progress. */
  draw(stepsPerSecond: number): void {
    if (!this.chart && this.uPlotClass) this.chart = this.createChart(this.uPlotClass);
    this.chart?.setData([this.steps, this.losses, this.smoothed]);
    const first = this.losses[0];
    const last = this.losses.at(-1);
    if (first === undefined || last === undefined) return;
    this.stats.replaceChildren(
      'step ',
      el('b', { id: 'train-steps' }, this.steps.length),
      ' · loss ',
      el('b', { id: 'loss-first' }, first.toFixed(4)),
      ' → ',
      el('b', { id: 'loss-last' }, last.toFixed(4)),
      ` (smoothed ${this.smoothed.at(-1)!.toFixed(4)}) · `,
      el('b', { id: 'steps-per-second' }, stepsPerSecond.toFixed(1)),
      ' steps/s',
    );
  }

  showOutputs(outputs: Readonly<Record<string, HostTensor>>, what: string): void {
    this.outputs.replaceChildren(
      el('h4', {}, what),
      el('table', { class: 'facts' }, ...Object.entries(outputs).map(([name, tensor]) => outputRow(name, tensor))),
    );
  }

  private createChart(Chart: typeof uPlot): uPlot {
    const options: uPlot.Options = {
      ...this.chartSize(),
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        { stroke: '#8b93a7', grid: { stroke: '#2a3040' }, size: 26, font: '11px system-ui' },
        { stroke: '#8b93a7', grid: { stroke: '#2a3040' }, size: 44, font: '11px system-ui' },
      ],
      series: [{ label: 'step' }, { label: 'loss', stroke: '#6b7a99', width: 1 }, { label: 'smoothed', stroke: '#f5a524', width: 2 }],
    };
    return new Chart(options, [[], [], []], this.chartBox);
  }

  private chartSize(): { width: number; height: number } {
    return { width: Math.max(this.chartBox.clientWidth, 200), height: Math.max(this.chartBox.clientHeight, 100) };
  }
}

function outputRow(name: string, tensor: HostTensor): HTMLTableRowElement {
  const values = Array.from(tensor.data as ArrayLike<number>);
  const shown = values.slice(0, PREVIEW).map((v) => (tensor.dtype === 'f32' ? v.toPrecision(4) : String(v)));
  const finite = values.filter(Number.isFinite);
  const min = finite.reduce((a, b) => Math.min(a, b), Infinity);
  const max = finite.reduce((a, b) => Math.max(a, b), -Infinity);
  const mean = finite.reduce((sum, v) => sum + v, 0) / Math.max(finite.length, 1);
  const range = finite.length > 0 ? ` · min ${min.toPrecision(3)} mean ${mean.toPrecision(3)} max ${max.toPrecision(3)}` : '';
  return el(
    'tr',
    {},
    el('th', {}, name),
    el('td', { class: 'mono' }, `${tensor.dtype}[${tensor.shape.join(',')}]`),
    el('td', { class: 'mono' }, `[${shown.join(', ')}${values.length > PREVIEW ? ', …' : ''}]${range}`),
  );
}
