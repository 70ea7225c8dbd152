/**
 * The WGSL of the selected kernel: syntax-highlighted by a small tokenizer (WGSL has no
 * CodeMirror mode here, and a read-only view needs none), with line numbers, a copy
 * button, and the line a compile error points at marked.
 */

import type { KernelReport } from '../index.js';
import { el } from './dom.js';

const KEYWORDS = new Set(
  'fn let var const override return if else for loop while break continue continuing switch case default struct alias discard'.split(' '),
);
const TYPES = /^(f32|f16|i32|u32|bool|vec[234][fuih]?|mat[234]x[234][fh]?|array|atomic|ptr|storage|uniform|workgroup|private|function|read|read_write)$/;
/** Comments, attributes, numbers (with suffixes), identifiers, then any other character. */
const TOKEN = /(\/\/[^\n]*)|(@\w+)|(0x[0-9a-fA-F]+[iu]?|\d+\.?\d*(?:[eE][-+]?\d+)?[fhiu]?|\.\d+(?:[eE][-+]?\d+)?[fh]?)|([A-Za-z_]\w*)|([\s\S])/g;

/** One element per line of `source`, holding spans classed `tok-comment`, `tok-keyword`, `tok-type`, `tok-attr`, `tok-number`, `tok-call`. */
export function highlightWgsl(source: string): HTMLElement[] {
  return source.split('\n').map((line, index) => {
    const row = el('div', { class: 'code-line', 'data-line': index + 1 });
    for (const match of line.matchAll(TOKEN)) {
      const [text, comment, attribute, number, word] = match;
      const kind = comment ? 'comment' : attribute ? 'attr' : number ? 'number' : word ? wordKind(word, line, match.index! + text.length) : undefined;
      row.append(kind ? el('span', { class: `tok-${kind}` }, text) : text);
    }
    if (line === '') row.append('\n');
    return row;
  });
}

function wordKind(word: string, line: string, end: number): string | undefined {
  if (KEYWORDS.has(word)) return 'keyword';
  if (TYPES.test(word)) return 'type';
  return /^\s*\(/.test(line.slice(end)) ? 'call' : undefined;
}

export class WgslView {
  private readonly title: HTMLElement;
  private readonly code: HTMLElement;
  private readonly copyButton: HTMLButtonElement;
  private source = '';

  constructor(root: HTMLElement) {
    this.title = el('span', { class: 'pane-note' }, 'select a kernel');
    this.copyButton = el('button', { class: 'small', title: 'Copy this WGSL', disabled: true, onclick: () => void this.copy() }, 'Copy');
    this.code = el('pre', { class: 'code wgsl', id: 'wgsl-code' });
    root.append(el('div', { class: 'pane-bar' }, this.title, this.copyButton), this.code);
  }

  /** Shows a kernel's WGSL (nothing for undefined), marking `errorLine` (1-based) if given. */
  show(kernel: KernelReport | undefined, errorLine?: number): void {
    this.source = kernel?.wgsl ?? '';
    this.copyButton.disabled = kernel === undefined;
    this.title.textContent = kernel ? `${kernel.name} · ${kernel.kind} · ${kernel.wgsl.split('\n').length} lines` : 'select a kernel';
    this.code.replaceChildren(...highlightWgsl(this.source));
    this.code.scrollTop = 0;
    if (errorLine !== undefined) {
      const line = this.code.querySelector(`[data-line="${errorLine}"]`);
      line?.classList.add('error-line');
      line?.scrollIntoView({ block: 'center' });
    }
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.source);
      this.copyButton.textContent = 'Copied';
    } catch {
      // Clipboard access needs a focused page and permission; selecting the text still lets the user copy it.
      getSelection()?.selectAllChildren(this.code);
      this.copyButton.textContent = 'Selected';
    }
    setTimeout(() => (this.copyButton.textContent = 'Copy'), 1200);
  }
}
