/**
 * What a feature of the page gets to work with: the event bus, the worker, the editor, the
 * graph view, and the page's current state (the compile shown, its entry, the selection,
 * the GPU session) with the functions that change the selection. A feature module exports
 * `install…(context: PageContext)`, and main.ts calls it once.
 */

import type { EntryReport } from '../index.js';
import type { Session } from '../runtime.js';
import type { Device } from './adapter-view.js';
import type { CodeEditor } from './editor.js';
import type { GraphView } from './graph-view.js';
import type { PageBus } from './page-events.js';
import type { CompileSource, Compiled } from './protocol.js';
import type { WorkerClient } from './worker-client.js';

/** How a kernel is selected: the node clicked, a WGSL line to mark, and whether the graph zooms to it. */
export interface SelectOptions {
  /** The node clicked (shown alone when no kernel computes it). */
  readonly focusNode?: number;
  /** A WGSL line (1-based) to mark, e.g. where a compile error is. */
  readonly errorLine?: number;
  /** Brings the kernel's nodes close in the graph. */
  readonly zoom?: boolean;
}

export interface PageSelection {
  readonly entry: string;
  /** The selected kernel's position in the entry, if any. */
  readonly kernel?: number;
  /** The node clicked, if any. */
  readonly node?: number;
}

export interface PageContext {
  readonly bus: PageBus;
  readonly client: WorkerClient;
  readonly editor: CodeEditor;
  readonly graph: GraphView;
  /** The page's WebGPU device, or why there is none. */
  readonly device: Promise<Device>;
  /** The compile the page shows (the last successful one), if any. */
  compiled(): Compiled | undefined;
  /** The entry shown (`trainStep`, `forward`, `init`). */
  entry(): string;
  /** The shown entry's report. */
  entryReport(): EntryReport | undefined;
  selection(): PageSelection;
  /** The session on the device for the shown compile, once ready. */
  session(): Session | undefined;
  /** Selects the shown entry's kernel at `position` (undefined: none) in every view. */
  selectKernel(position: number | undefined, options?: SelectOptions): void;
  /** Selects the kernel that computes node `id`, in this entry or another. */
  selectNode(id: number): void;
  /** Shows entry `name`, with its kernel at `position` selected. */
  switchEntry(name: string, position?: number): void;
  /** Compiles the editor's code (in the worker) and shows it. */
  compile(): Promise<void>;
  /**
   * What Compile compiles instead of the editor's code: `source()` is asked at each compile
   * (an opened .onnx file, while the editor shows its note); undefined from it: the code.
   */
  setSource(source: () => CompileSource | undefined): void;
  /** Replaces the editor's code with `code` (an example, a link's code, a note) as not edited: switching away from it does not ask. */
  setCode(code: string): void;
  /** Whether the editor's code may be replaced by `what`: unedited since setCode, or the user agrees to drop the edits. */
  mayReplaceCode(what: string): boolean;
  /** Writes the status line (clearing an error shown there). */
  setStatus(text: string): void;
  /** The status line's text. */
  status(): string;
  /** Shows an error: its editor line marked (a WorkerCallError's line), the box, the status; a failing kernel selected. */
  showError(error: unknown): void;
}
