/**
 * The playground page: the editor's code builds a graph with kiln's public API; the page
 * compiles it and shows every stage (the graph and its gradient, the fused kernels, their
 * WGSL, the memory plan, the adapter), linked by the selected kernel; and runs it on the
 * page's WebGPU device (forward, or training with a live loss curve).
 */

import 'uplot/dist/uPlot.min.css';
import './style.css';
import * as kiln from '../index.js';
import { Graph, Session, compileStages, reportOfStages } from '../index.js';
import type { CompileReport, EntryReport, Plan } from '../index.js';
import { acquireDevice, adapterSummary, renderAdapter } from './adapter-view.js';
import type { Device } from './adapter-view.js';
import { playgroundData } from './datasets.js';
import { byId, el, enableTabs } from './dom.js';
import { CodeEditor } from './editor.js';
import { DEFAULT_EXAMPLE, EXAMPLES } from './examples.js';
import { graphModel } from './graph-model.js';
import type { DagModel } from './graph-model.js';
import { GraphView } from './graph-view.js';
import { KernelsView } from './kernels-view.js';
import { MemoryView } from './memory-view.js';
import { timeEntryKernels } from './profile.js';
import { RunView } from './run-view.js';
import { hashOfCode, readHash } from './share.js';
import { UserCodeError, entryFeeds, runUserCode } from './user-code.js';
import type { UserModel } from './user-code.js';
import { WgslView } from './wgsl-view.js';

interface Compiled {
  readonly user: UserModel;
  readonly plan: Plan;
  readonly report: CompileReport;
  readonly model: DagModel;
  readonly writtenText: string;
}

const REDRAW_MS = 100;

class Playground {
  private readonly editor: CodeEditor;
  private readonly graph = new GraphView(byId('dag-root'), byId('ssa-root'), (id) => this.selectNode(id));
  private readonly kernels = new KernelsView(byId('kernels-root'), (position) => this.selectKernel(position, { zoom: true }), () => void this.timeKernels());
  private readonly memory = new MemoryView(byId('memory-root'), (position) => this.selectKernel(position, { zoom: true }));
  private readonly wgsl = new WgslView(byId('wgsl-root'));
  private readonly run = new RunView(byId('run-root'));
  private readonly device: Promise<Device> = acquireDevice();
  private compiled: Compiled | undefined;
  private session: Session | undefined;
  private entry = 'trainStep';
  private selected: number | undefined;
  private readonly timings = new Map<string, number[]>();
  /** Counts compiles, so a slow one that a newer one overtook drops its results. */
  private generation = 0;
  private training = false;
  private stopRequested = false;
  private hashTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(code: string) {
    this.editor = new CodeEditor(byId('editor'), code, { onRun: () => void this.compile(), onChange: (text) => this.rememberInUrl(text) });
    const select = byId<HTMLSelectElement>('example-select');
    select.append(...EXAMPLES.map((example) => el('option', { value: example.id }, example.title)));
    select.addEventListener('change', () => this.loadExample(select.value));
    byId('compile-button').addEventListener('click', () => void this.compile());
    byId('share-button').addEventListener('click', () => void this.share());
    byId('forward-button').addEventListener('click', () => void this.forward());
    byId('train-button').addEventListener('click', () => void this.train());
    byId('stop-button').addEventListener('click', () => (this.stopRequested = true));
    byId('ssa-select').addEventListener('change', () => this.showSsa());
    Array.from(document.querySelectorAll<HTMLElement>('.tabs')).forEach(enableTabs);
    void this.device.then((device) => this.showDevice(device));
  }

  /** Shows which example the editor holds; `undefined` for code from a link. */
  selectExampleInMenu(id: string | undefined): void {
    const select = byId<HTMLSelectElement>('example-select');
    if (id === undefined && !select.querySelector('option[value=""]')) select.prepend(el('option', { value: '', disabled: true }, 'Shared code'));
    select.value = id ?? '';
  }

  /** Replaces the editor's code (from a link) and compiles it. */
  loadCode(code: string): void {
    this.selectExampleInMenu(undefined);
    this.editor.code = code;
    void this.compile();
  }

  loadExample(id: string): void {
    const example = EXAMPLES.find((e) => e.id === id) ?? DEFAULT_EXAMPLE;
    this.selectExampleInMenu(example.id);
    this.editor.code = example.code;
    history.replaceState(null, '', `#example=${example.id}`);
    void this.compile();
  }

  /** Runs the code, compiles its graph, shows every stage, then readies a session on the device. */
  async compile(): Promise<void> {
    const generation = ++this.generation;
    this.stopRequested = true;
    this.clearError();
    this.setStatus('running the code…');
    this.setRunnable(false);
    let compiled: Compiled;
    try {
      const user = await runUserCode(this.editor.code, { kiln, data: playgroundData });
      const { gpu } = await this.device;
      const source = user.model;
      // The page shows the compiler's own stages: the graph drawn is the one the kernels' node ids name.
      const stages = compileStages(source, gpu ? { limits: gpu.limits } : {});
      const written = source instanceof Graph ? source : source.graph;
      compiled = { user, plan: stages.plan, report: reportOfStages(stages), model: graphModel(stages.simplified), writtenText: written.toString() };
    } catch (error) {
      if (generation === this.generation) this.showError(error);
      return;
    }
    if (generation !== this.generation) return;
    this.compiled = compiled;
    this.timings.clear();
    this.entry = compiled.plan.entries['trainStep'] ? 'trainStep' : 'forward';
    this.selected = undefined;
    this.run.reset(compiled.plan.entries['trainStep'] ? 'Train to see the loss.' : 'This graph has no trainStep (no trainingProgram): Forward runs it.');
    this.renderEntryTabs();
    this.showSsa();
    this.showEntry();
    this.setStatus(`${kernelSummary(compiled.report)} · laying out the graph…`);
    await this.graph.render(compiled.model, compiled.report.graph);
    if (generation !== this.generation) return;
    this.selectKernel(this.selected ?? 0);
    await this.startSession(compiled, generation);
  }

  private async startSession(compiled: Compiled, generation: number): Promise<void> {
    const { gpu } = await this.device;
    this.session?.destroy();
    this.session = undefined;
    const summary = kernelSummary(compiled.report);
    if (!gpu) {
      this.setStatus(`${summary} · no WebGPU here, so nothing runs (see the Adapter tab)`);
      return;
    }
    // Pipelines N/M while they compile: Session.create waits for init's, the rest compile while the session runs.
    let progress = { ready: 0, total: -1 };
    let created = false;
    const text = (): string => {
      const pipelines = progress.total < 0 ? 'compiling pipelines…' : `pipelines ${progress.ready}/${progress.total}`;
      if (!created) return `${summary} · ${pipelines}`;
      return progress.ready === progress.total ? `${summary} · ready` : `${summary} · ready · ${pipelines}`;
    };
    let shown = text();
    this.setStatus(shown);
    // Only over its own text: a training status written meanwhile stays.
    const show = (): void => {
      if (generation !== this.generation || byId('status').textContent !== shown) return;
      shown = text();
      this.setStatus(shown);
    };
    try {
      const session = await Session.create(gpu.device, compiled.plan, {
        onProgress: (latest) => {
          progress = latest;
          show();
        },
      });
      if (generation !== this.generation) {
        session.destroy();
        return;
      }
      this.session = session;
    } catch (error) {
      if (generation === this.generation) this.showError(error);
      return;
    }
    created = true;
    show();
    this.setRunnable(true);
  }

  private renderEntryTabs(): void {
    const names = Object.keys(this.compiled?.plan.entries ?? {});
    byId('entry-tabs').replaceChildren(
      ...names.map((name) => el('button', { class: name === this.entry ? 'active' : undefined, 'data-entry': name, onclick: () => this.switchEntry(name) }, name)),
    );
  }

  private switchEntry(name: string, position = 0): void {
    this.entry = name;
    this.renderEntryTabs();
    this.showEntry();
    this.selectKernel(position);
  }

  private entryReport(): EntryReport | undefined {
    return this.compiled?.report.entries.find((e) => e.name === this.entry);
  }

  private showEntry(): void {
    const entry = this.entryReport();
    if (!entry || !this.compiled) return;
    this.kernels.render(entry, this.timings.get(entry.name));
    this.memory.render(entry, this.compiled.report.memory);
  }

  /** The SSA text pane shows the simplified graph (linked to the kernels) or the graph as written. */
  private showSsa(): void {
    const written = byId<HTMLSelectElement>('ssa-select').value === 'written';
    byId('ssa-root').hidden = written;
    byId('ssa-written').hidden = !written;
    if (this.compiled) byId('ssa-written').replaceChildren(...this.compiled.writtenText.split('\n').map((line) => el('div', { class: 'code-line' }, line || '\n')));
  }

  /**
   * Selects the entry's kernel at `position` in every view; `focusNode` is the node clicked
   * (shown alone when no kernel computes it), `errorLine` a WGSL line to mark, `zoom` brings
   * the kernel's nodes close in the DAG.
   */
  private selectKernel(position: number | undefined, options: { focusNode?: number; errorLine?: number; zoom?: boolean } = {}): void {
    const { focusNode, errorLine, zoom = false } = options;
    const kernel = position === undefined ? undefined : this.entryReport()?.kernels[position];
    this.selected = kernel ? position : undefined;
    this.kernels.highlight(this.selected);
    this.memory.highlight(this.selected);
    // The note first: the DAG's pane sizes itself around it before zooming.
    byId('graph-note').textContent = kernel ? `${kernel.name}: ${kernel.reason}` : focusNode === undefined ? '' : `%${focusNode} is computed by no kernel of ${this.entry} (a view of another buffer, or not needed here)`;
    this.graph.highlight(new Set(kernel?.ops.map(({ node }) => node) ?? (focusNode === undefined ? [] : [focusNode])), focusNode, zoom);
    this.wgsl.show(kernel, errorLine);
  }

  /** A node was clicked: select the kernel that computes it, in this entry or another. */
  private selectNode(id: number): void {
    const entries = this.compiled?.report.entries ?? [];
    const ordered = [...entries.filter((e) => e.name === this.entry), ...entries.filter((e) => e.name !== this.entry)];
    for (const entry of ordered) {
      const position = entry.kernels.findIndex((k) => k.ops.some(({ node }) => node === id));
      if (position < 0) continue;
      if (entry.name !== this.entry) this.switchEntry(entry.name, position);
      this.selectKernel(position, { focusNode: id });
      return;
    }
    this.selectKernel(undefined, { focusNode: id });
  }

  private async forward(): Promise<void> {
    const { session, compiled } = this;
    if (!session || !compiled) return;
    try {
      const feeds = await entryFeeds(compiled.user, compiled.plan.entries['forward']!, 0);
      const outputs = await session.forward(feeds);
      this.run.showOutputs(outputs, 'forward on step 0’s inputs');
    } catch (error) {
      this.showError(error);
    }
  }

  private async train(): Promise<void> {
    const { session, compiled } = this;
    if (!session || !compiled || this.training) return;
    if (!compiled.plan.entries['trainStep']) return this.showError(new Error('This graph has no trainStep: return trainingProgram(graph, {loss, optimizer}) as the model to train it.'));
    const steps = Math.max(1, Math.floor(Number(byId<HTMLInputElement>('train-steps-input').value) || 1));
    this.training = true;
    this.stopRequested = false;
    this.setRunnable(false);
    byId<HTMLButtonElement>('stop-button').disabled = false;
    this.setStatus('training: the first step waits for its data');
    let started = 0;
    let lastDraw = 0;
    let done = 0;
    const rate = (): number => (1000 * done) / Math.max(performance.now() - started, 1);
    try {
      while (done < steps && !this.stopRequested) {
        const feeds = await entryFeeds(compiled.user, compiled.plan.entries['trainStep']!, this.run.stepCount);
        // The clock starts once the first batch is at hand: a dataset's download is not training time.
        if (done === 0) started = performance.now();
        const { loss } = await session.trainStep(feeds, { outputs: ['loss'] });
        this.run.record(loss!.data[0]!);
        done++;
        if (performance.now() - lastDraw > REDRAW_MS) {
          lastDraw = performance.now();
          this.run.draw(rate());
          this.setStatus(`training: step ${done} of ${steps}`);
        }
      }
      if (done > 0) this.run.draw(rate());
      if (this.session === session) this.setStatus(`trained ${this.run.stepCount} steps`);
    } catch (error) {
      this.showError(error);
    } finally {
      this.training = false;
      byId<HTMLButtonElement>('stop-button').disabled = true;
      if (this.session === session) this.setRunnable(true);
    }
  }

  private async timeKernels(): Promise<void> {
    const { gpu, timestamps } = await this.device;
    const compiled = this.compiled;
    if (!gpu || !compiled) return;
    if (!timestamps) {
      this.kernels.setNote('This adapter does not support timestamp-query, so per-kernel GPU times are not available here.');
      return;
    }
    const entry = this.entry;
    this.kernels.setNote(`timing ${entry}'s kernels…`);
    try {
      this.timings.set(entry, await timeEntryKernels(gpu.device, compiled.plan, entry));
    } catch (error) {
      this.showError(error);
      return;
    }
    if (this.compiled !== compiled) return;
    this.kernels.setNote(`GPU µs per dispatch: timestamp queries around each kernel, best of 5 runs on scratch buffers.`);
    if (this.entry === entry) {
      this.showEntry();
      this.selectKernel(this.selected);
    }
  }

  private showDevice({ gpu, problem, timestamps }: Device): void {
    renderAdapter(byId('adapter-root'), gpu, problem);
    byId('adapter-summary').textContent = gpu ? `${adapterSummary(gpu)}${timestamps ? '' : ' · no timestamp-query'}` : 'WebGPU unavailable';
    byId<HTMLButtonElement>('time-button').disabled = !gpu;
    this.kernels.setNote(gpu ? (timestamps ? 'Time kernels measures each kernel on the GPU (timestamp-query).' : 'This adapter does not support timestamp-query, so per-kernel GPU times are not available here.') : '');
    if (!gpu) byId('adapter-summary').classList.add('error');
    void gpu?.lost.then((info) => {
      if (info.reason !== 'destroyed') this.showError(new Error(`The WebGPU device was lost (${info.message || info.reason}). Reload the page.`));
    });
  }

  private setRunnable(ready: boolean): void {
    const trainable = ready && this.compiled?.plan.entries['trainStep'] !== undefined;
    byId<HTMLButtonElement>('forward-button').disabled = !ready;
    byId<HTMLButtonElement>('train-button').disabled = !trainable;
  }

  private setStatus(text: string): void {
    const status = byId('status');
    status.textContent = text;
    status.classList.remove('error');
  }

  private clearError(): void {
    byId('error-box').hidden = true;
    this.editor.clearError();
  }

  /** Shows an error next to the code: the line it came from in the editor, a WGSL error in its kernel. */
  private showError(error: unknown): void {
    const original = error instanceof UserCodeError ? error.original : error;
    const { name, message } = original instanceof Error ? original : new Error(String(original));
    const line = this.editor.showError(error instanceof UserCodeError ? error.line : undefined, `${name}: ${message}`);
    const box = byId('error-box');
    box.replaceChildren(el('b', {}, name), line === undefined ? '' : ` at line ${line}`, `: ${message}`);
    box.hidden = false;
    const status = byId('status');
    status.textContent = `${name}${line === undefined ? '' : ` at line ${line}`}`;
    status.classList.add('error');
    this.showKernelOfError(message);
  }

  /** A kernel that failed to compile is named in the message (`kernel k3_add (…): WGSL does not compile: line 12: …`). */
  private showKernelOfError(message: string): void {
    const name = /kernel (\w+) \(/.exec(message)?.[1];
    if (!name || !this.compiled) return;
    const errorLine = Number(/line (\d+):/.exec(message)?.[1]) || undefined;
    for (const entry of this.compiled.report.entries) {
      const position = entry.kernels.findIndex((k) => k.name === name);
      if (position < 0) continue;
      if (entry.name !== this.entry) this.switchEntry(entry.name, position);
      this.selectKernel(position, { errorLine, zoom: true });
      return;
    }
  }

  /** Keeps the URL's hash holding the code (a moment after typing stops), so the address is always a link to it. */
  private rememberInUrl(code: string): void {
    clearTimeout(this.hashTimer);
    this.hashTimer = setTimeout(() => void hashOfCode(code).then((hash) => history.replaceState(null, '', hash)), 300);
  }

  private async share(): Promise<void> {
    history.replaceState(null, '', await hashOfCode(this.editor.code));
    try {
      await navigator.clipboard.writeText(location.href);
      this.setStatus('link copied: it holds this code');
    } catch {
      this.setStatus('the address bar now holds a link to this code');
    }
  }
}

/** `seed_mlp: init 12, forward 3, trainStep 10 kernels` */
function kernelSummary(report: CompileReport): string {
  return `${report.name}: ${report.entries.map((e) => `${e.name} ${e.kernels.length}`).join(', ')} kernels`;
}

async function start(): Promise<void> {
  const shared = await readHash(location.hash);
  const example = shared && 'example' in shared ? EXAMPLES.find((e) => e.id === shared.example) : undefined;
  const code = shared && 'code' in shared ? shared.code : (example ?? DEFAULT_EXAMPLE).code;
  const playground = new Playground(code);
  playground.selectExampleInMenu(shared && 'code' in shared ? undefined : (example ?? DEFAULT_EXAMPLE).id);
  // A link pasted into the address bar of an open playground.
  window.addEventListener('hashchange', () => {
    void readHash(location.hash).then((next) => {
      if (next && 'example' in next) playground.loadExample(next.example);
      else if (next) playground.loadCode(next.code);
    });
  });
  await playground.compile();
}

void start();
