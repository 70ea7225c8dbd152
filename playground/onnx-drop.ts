/**
 * Opening an `.onnx` file: dropped anywhere on the page (an overlay shows while a file is
 * dragged over it) or chosen with "Open .onnx…" in the header. The worker lists the
 * model's dynamic dims; a small form asks a size for each (default 1); then the page
 * compiles the file instead of the editor's code, so its graph, kernels and WGSL show and
 * Forward (or Train, for a model with a scalar `loss`) runs it on seeded random inputs. The
 * editor shows a note saying where the graph came from; Compile recompiles the file while
 * the note is unchanged, and the editor's code once it is edited or an example is chosen.
 */

import './onnx-drop.css';
import { byId, el } from './dom.js';
import type { PageContext } from './page-context.js';
import type { CompileSource, OnnxDim } from './protocol.js';

/** The file the page shows, and the note the editor holds for it. */
interface OpenedFile {
  readonly source: CompileSource & { readonly kind: 'onnx' };
  readonly note: string;
}

export function installOnnxDrop(context: PageContext): void {
  let opened: OpenedFile | undefined;
  // Compile compiles the opened file while the editor holds its note untouched.
  context.setSource(() => (opened && context.editor.code === opened.note ? opened.source : undefined));
  // A model trained in the page starts from the file's weights (the plan carries none).
  context.bus.on('session', ({ session }) => {
    const params = context.compiled()?.params;
    if (session && params && Object.keys(params).length > 0) void session.setParams(params).catch((error: unknown) => context.showError(error));
  });

  const open = async (file: File): Promise<void> => {
    // The note replaces the editor's code: edits to it would be lost.
    if (!context.mayReplaceCode(file.name)) return;
    try {
      const bytes = await file.arrayBuffer();
      context.setStatus(`reading ${file.name}…`);
      const dims = await context.client.call('onnxDims', { bytes, fileName: file.name });
      if (dims.length > 0) context.setStatus(`${file.name}: a size for each dynamic dim…`);
      const sizes = dims.length === 0 ? {} : await askDims(file.name, dims);
      if (sizes === undefined) {
        context.setStatus(`${file.name} not opened`);
        return;
      }
      opened = { source: { kind: 'onnx', fileName: file.name, bytes, dims: sizes }, note: noteFor(file.name, sizes) };
      context.setCode(opened.note);
      context.bus.emit('opened', { file: file.name });
      await context.compile();
    } catch (error) {
      context.showError(error);
    }
  };

  const input = el('input', { id: 'onnx-input', type: 'file', accept: '.onnx,application/octet-stream', hidden: true });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) void open(file);
  });
  const button = el('button', { id: 'onnx-button', title: 'Open an ONNX model (or drop an .onnx file anywhere on the page)', onclick: () => input.click() }, 'Open .onnx…');
  byId('share-button').after(button, input);
  installDropTarget(open);
}

/** The editor's note: the file, its dims, how it is fed, and why a link cannot share it. */
function noteFor(fileName: string, dims: Readonly<Record<string, number>>): string {
  const bound = Object.entries(dims).map(([name, size]) => `${name} = ${size}`);
  return [
    `// This graph came from the file ${fileName} (ONNX), not from code.`,
    ...(bound.length > 0 ? [`// Its dynamic dims are bound to ${bound.join(', ')}.`] : []),
    '// Forward and Train feed it seeded random inputs: floats in [-1, 1), integers within',
    '// the size of what they index (a Gather, OneHot or loss), else 0 or 1.',
    "// A model with a scalar output named 'loss' is trained with SGD on them.",
    '// A share link cannot hold a file: share the .onnx file itself.',
    '// Compile (Ctrl+Enter) compiles the file again; edit this text, or pick an example,',
    '// to write code instead.',
    '',
  ].join('\n');
}

/** Asks a size for each dynamic dim (default 1); undefined when cancelled. */
function askDims(fileName: string, dims: readonly OnnxDim[]): Promise<Record<string, number> | undefined> {
  const fields = dims.map(({ name, where }) =>
    el('label', { class: 'onnx-dim' }, el('span', { class: 'onnx-dim-name' }, name), el('input', { type: 'number', name, min: 1, step: 1, value: 1, required: true }), el('span', { class: 'onnx-dim-where' }, where)),
  );
  const form = el(
    'form',
    { id: 'onnx-dims-form', method: 'dialog' },
    el('p', {}, `${fileName} has dynamic dims. Give each a size to compile it with:`),
    ...fields,
    el('div', { class: 'onnx-dims-buttons' }, el('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'), el('button', { type: 'submit', value: 'compile', class: 'primary' }, 'Compile')),
  );
  const dialog = el('dialog', { id: 'onnx-dims-dialog' }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (dialog.returnValue !== 'compile') return resolve(undefined);
      const data = new FormData(form);
      resolve(Object.fromEntries(dims.map(({ name }) => [name, Number(data.get(name))])));
    });
    dialog.showModal();
  });
}

/** The whole page takes a dropped file; an overlay says so while one is dragged over it. */
function installDropTarget(open: (file: File) => Promise<void>): void {
  const overlay = el('div', { id: 'drop-overlay', class: 'drop-overlay', hidden: true }, el('div', {}, 'Drop an .onnx file to open it'));
  document.body.append(overlay);
  // dragenter and dragleave fire for every child crossed: count them to know when the drag has left the page.
  let depth = 0;
  const carriesFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') ?? false;
  window.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    // Without this the browser opens the file itself instead of dropping it here.
    event.preventDefault();
    event.dataTransfer!.dropEffect = 'copy';
  });
  window.addEventListener('drop', (event) => {
    depth = 0;
    overlay.hidden = true;
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    void open(file);
  });
}
