/**
 * The page's shell: what it shows and what is selected. A compile goes to the worker (the
 * user's code, the compiler and the layout run there); the result is drawn here, the
 * views follow it through the bus, and a session is readied on the device. Implements the
 * PageContext the features are installed with.
 */

import type { EntryReport } from '../index.js';
import type { Session } from '../runtime.js';
import { limitsRecord } from '../runtime/device.js';
import type { Device } from './adapter-view.js';
import { byId, el } from './dom.js';
import type { CodeEditor } from './editor.js';
import { GraphView } from './graph-view.js';
import { KernelsView } from './kernels-view.js';
import { MemoryView } from './memory-view.js';
import type { PageContext, PageSelection, SelectOptions } from './page-context.js';
import type { PageBus } from './page-events.js';
import { afterPaint, measured } from './next-task.js';
import { kernelSummary, readySession } from './page-session.js';
import type { CompileSource, Compiled } from './protocol.js';
import { WgslView } from './wgsl-view.js';
import { WorkerCallError } from './worker-client.js';
import type { WorkerClient } from './worker-client.js';

export class PageShell implements PageContext {
  readonly graph = new GraphView(byId('dag-root'), byId('ssa-root'), (id) => this.selectNode(id));
  readonly kernels: KernelsView;
  private readonly memory = new MemoryView(byId('memory-root'), (position) => this.selectKernel(position, { zoom: true }));
  private readonly wgsl = new WgslView(byId('wgsl-root'));
  private shown: Compiled | undefined;
  private currentSession: Session | undefined;
  private shownEntry = 'trainStep';
  private selected: { kernel?: number; node?: number } = {};
  /** GPU µs per kernel, by entry, once measured (Time kernels) for the compile shown. */
  private readonly kernelTimes = new Map<string, readonly number[]>();
  /** The editor's code as last set (not typed): different now means edits a switch would lose. */
  private uneditedCode: string;
  /** A compile already asked of the worker (adoptCompile). */
  private early: { readonly code: string; readonly result: Promise<Compiled> } | undefined;
  /** Counts compiles, so a slow one that a newer one overtook drops its results. */
  private generation = 0;
  private sourceOverride: () => CompileSource | undefined = () => undefined;

  constructor(
    readonly bus: PageBus,
    readonly client: WorkerClient,
    readonly editor: CodeEditor,
    readonly device: Promise<Device>,
    onTimeKernels: () => void,
  ) {
    this.uneditedCode = editor.code;
    this.kernels = new KernelsView(byId('kernels-root'), (position) => this.selectKernel(position, { zoom: true }), onTimeKernels);
    byId('compile-button').addEventListener('click', () => void this.compile());
  }

  setCode(code: string): void {
    this.uneditedCode = code;
    this.editor.code = code;
  }

  mayReplaceCode(what: string): boolean {
    return this.editor.code === this.uneditedCode || window.confirm(`Open ${what}? Your edits to the code in the editor will be lost (Cancel keeps them; Share makes a link to them).`);
  }

  /** The page's first compile, asked of the worker before the editor was made (main.ts): compile() takes it if the code is still `code`. */
  adoptCompile(code: string, result: Promise<Compiled>): void {
    this.early = { code, result };
  }

  setSource(source: () => CompileSource | undefined): void {
    this.sourceOverride = source;
  }

  compiled(): Compiled | undefined {
    return this.shown;
  }

  entry(): string {
    return this.shownEntry;
  }

  entryReport(): EntryReport | undefined {
    return this.shown?.report.entries.find((e) => e.name === this.shownEntry);
  }

  selection(): PageSelection {
    return { entry: this.shownEntry, ...this.selected };
  }

  session(): Session | undefined {
    return this.currentSession;
  }

  /** Runs the code and compiles it in the worker, shows every stage, then readies a session on the device. */
  async compile(): Promise<void> {
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation;
    this.bus.emit('compiling', { generation });
    measured('clear the error', () => this.clearError());
    this.setStatus('running the code…');
    let compiled: Compiled;
    const source = this.sourceOverride() ?? { kind: 'code', code: this.editor.code };
    const early = this.early;
    this.early = undefined;
    try {
      compiled = await (early && source.kind === 'code' && source.code === early.code
        ? early.result
        : requestCompile(this.client, this.device, source, (stage) => current() && this.setStatus(`${stage}…`)));
    } catch (error) {
      if (current()) this.fail(error);
      return;
    }
    if (!current()) return;
    this.setStatus(`${kernelSummary(compiled.report)} · laying out the graph…`);
    measured('show the compile', () => this.show(compiled));
    await afterPaint();
    if (!current()) return;
    measured('the kernels and memory tables', () => this.showEntry());
    // Each step below is a task of its own, a frame apart: together they are too long for one (a long task freezes the page).
    await afterPaint();
    if (!current()) return;
    try {
      // The graph view asks the worker for its layout (installGraphView) and draws it.
      await this.graph.render(compiled.model, compiled.report.graph);
    } catch (error) {
      if (current()) this.fail(error);
      return;
    }
    // The new graph's style and layout are the next frame's: selecting first would force them into this task.
    await afterPaint();
    if (!current()) return;
    measured('select the first kernel', () => this.selectKernel(0));
    await afterPaint();
    if (!current()) return;
    measured('views follow the compile', () => this.bus.emit('compiled', { compiled, entry: this.shownEntry }));
    await afterPaint();
    if (!current()) return;
    await this.startSession(compiled, current);
  }

  /** Makes `compiled` the compile shown: its entry tabs, text and kernels. */
  private show(compiled: Compiled): void {
    this.shown = compiled;
    this.kernelTimes.clear();
    this.shownEntry = compiled.plan.entries['trainStep'] ? 'trainStep' : 'forward';
    this.selected = {};
    this.renderEntryTabs();
    // The kernels and memory tables are drawn next, in a task of their own (compile()).
  }

  private async startSession(compiled: Compiled, current: () => boolean): Promise<void> {
    this.currentSession?.destroy();
    this.currentSession = undefined;
    this.bus.emit('session', { session: undefined });
    const session = await readySession(this, compiled, current);
    if (!session) return;
    this.currentSession = session;
    this.bus.emit('session', { session });
  }

  private renderEntryTabs(): void {
    const names = Object.keys(this.shown?.plan.entries ?? {});
    byId('entry-tabs').replaceChildren(
      ...names.map((name) => el('button', { class: name === this.shownEntry ? 'active' : undefined, 'data-entry': name, onclick: () => this.switchEntry(name) }, name)),
    );
  }

  switchEntry(name: string, position = 0): void {
    this.shownEntry = name;
    this.renderEntryTabs();
    this.showEntry();
    this.selectKernel(position);
  }

  /** Records `entry`'s measured kernel times and shows them if it is the entry shown. */
  setKernelTimes(compiled: Compiled, entry: string, times: readonly number[]): void {
    if (compiled !== this.shown) return;
    this.kernelTimes.set(entry, times);
    if (entry !== this.shownEntry) return;
    this.showEntry();
    this.selectKernel(this.selected.kernel);
  }

  /** Draws the shown entry's kernels (with their times, when measured) and memory. */
  private showEntry(): void {
    const entry = this.entryReport();
    if (!entry || !this.shown) return;
    this.kernels.render(entry, this.kernelTimes.get(entry.name), this.shown.costs.entries[entry.name]);
    this.memory.render(entry, this.shown.report.memory);
  }

  selectKernel(position: number | undefined, options: SelectOptions = {}): void {
    const { focusNode, errorLine, zoom = false } = options;
    const kernel = position === undefined ? undefined : this.entryReport()?.kernels[position];
    this.selected = { ...(kernel ? { kernel: position } : {}), ...(focusNode === undefined ? {} : { node: focusNode }) };
    // The WGSL first: showing it reads layout (its scroll), which then costs its own lines alone, not the others' changes below.
    measured('show the WGSL', () => this.wgsl.show(kernel, errorLine));
    measured('highlight the kernel row', () => {
      this.kernels.highlight(this.selected.kernel);
      this.memory.highlight(this.selected.kernel);
    });
    // The note first: the DAG's pane sizes itself around it before zooming.
    byId('graph-note').textContent = kernel ? `${kernel.name}: ${kernel.reason}` : focusNode === undefined ? '' : `%${focusNode} is computed by no kernel of ${this.shownEntry} (a view of another buffer, or not needed here)`;
    measured('highlight the graph', () => this.graph.highlight(new Set(kernel?.ops.map(({ node }) => node) ?? (focusNode === undefined ? [] : [focusNode])), focusNode, zoom));
    this.bus.emit('selection', this.selection());
  }

  selectNode(id: number): void {
    if (!this.selectKernelWhere((k) => k.ops.some(({ node }) => node === id), { focusNode: id })) this.selectKernel(undefined, { focusNode: id });
  }

  /** Selects the first kernel that `matches`, in the shown entry or else another (switching to it); false when none does. */
  private selectKernelWhere(matches: (kernel: EntryReport['kernels'][number]) => boolean, options: SelectOptions): boolean {
    const entries = this.shown?.report.entries ?? [];
    const ordered = [...entries.filter((e) => e.name === this.shownEntry), ...entries.filter((e) => e.name !== this.shownEntry)];
    for (const entry of ordered) {
      const position = entry.kernels.findIndex(matches);
      if (position < 0) continue;
      if (entry.name !== this.shownEntry) this.switchEntry(entry.name, position);
      this.selectKernel(position, options);
      return true;
    }
    return false;
  }

  setStatus(text: string): void {
    const status = byId('status');
    status.textContent = text;
    status.classList.remove('error');
  }

  status(): string {
    return byId('status').textContent ?? '';
  }

  private clearError(): void {
    byId('error-box').hidden = true;
    this.editor.clearError();
  }

  /** A compile failed: the error is shown, and the views keep the last successful compile. */
  private fail(error: unknown): void {
    this.showError(error);
    this.bus.emit('failed', { error: error instanceof Error ? error : new Error(String(error)) });
  }

  showError(error: unknown): void {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    const line = this.editor.showError(error instanceof WorkerCallError ? error.line : undefined, `${name}: ${message}`);
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
    if (!name) return;
    const errorLine = Number(/line (\d+):/.exec(message)?.[1]) || undefined;
    this.selectKernelWhere((k) => k.name === name, { errorLine, zoom: true });
  }
}

/** Asks the worker to compile `source` for the page's device (its limits; WebGPU's defaults without one); `onStage` hears its progress. */
export async function requestCompile(client: WorkerClient, device: Promise<Device>, source: CompileSource, onStage: (stage: string) => void): Promise<Compiled> {
  const { gpu } = await device;
  return client.call('compile', { source, fuse: true, ...(gpu ? { limits: limitsRecord(gpu.device.limits) } : {}) }, { onProgress: ({ stage }) => onStage(stage) });
}
