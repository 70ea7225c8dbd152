/**
 * The WGSL of the selected kernel: syntax-highlighted by a small tokenizer (WGSL has no
 * CodeMirror mode here, and a read-only view needs none), with line numbers, a copy
 * button, a soft-wrap toggle (remembered), the line a compile error points at marked, and
 * source links: the lines computing what is hovered elsewhere lit (`.hl`), and the line
 * under the pointer reported so the page can mark the editor line that made it.
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

const WRAP_KEY = 'kiln.playground.wgsl-wrap';
/** Each view by its root, so features installed on the page reach the one the page shell made. */
const VIEWS = new WeakMap<HTMLElement, WgslView>();

export class WgslView {
  private readonly title: HTMLElement;
  private readonly code: HTMLElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly wrapToggle: HTMLButtonElement;
  private readonly hoverListeners = new Set<(line: number | undefined) => void>();
  private source = '';
  private shown: KernelReport | undefined;
  private lines: HTMLElement[] = [];
  private hovered: number | undefined;
  private wrap = readWrap();

  constructor(root: HTMLElement) {
    this.title = el('span', { class: 'pane-note' }, 'select a kernel');
    this.copyButton = el('button', { class: 'small', title: 'Copy this WGSL', disabled: true, onclick: () => void this.copy() }, 'Copy');
    this.wrapToggle = el('button', { class: 'small', id: 'wrap-toggle', title: 'Wrap long lines to the pane’s width', onclick: () => this.setWrap(!this.wrap) }, 'Wrap');
    this.code = el('pre', { class: 'code wgsl', id: 'wgsl-code' });
    root.append(el('div', { class: 'pane-bar' }, this.title, this.wrapToggle, this.copyButton), this.code);
    this.setWrap(this.wrap);
    this.code.addEventListener('mouseover', (event) => {
      const line = (event.target as Element | null)?.closest<HTMLElement>('.code-line');
      this.hover(line ? Number(line.dataset['line']) : undefined);
    });
    this.code.addEventListener('mouseleave', () => this.hover(undefined));
    VIEWS.set(root, this);
  }

  /** The view drawn in `root`; throws when none is. */
  static of(root: HTMLElement): WgslView {
    const view = VIEWS.get(root);
    if (!view) throw new Error(`WgslView.of: no WGSL view in #${root.id}. Fix: install source links after the page shell made its views.`);
    return view;
  }

  /** The kernel whose WGSL is shown. */
  get kernel(): KernelReport | undefined {
    return this.shown;
  }

  setWrap(wrap: boolean): void {
    this.wrap = wrap;
    this.wrapToggle.setAttribute('aria-pressed', String(wrap));
    this.wrapToggle.classList.toggle('active', wrap);
    for (const line of this.lines) styleWrap(line, wrap);
    try {
      localStorage.setItem(WRAP_KEY, wrap ? '1' : '0');
    } catch {
      // Storage may be off (private mode): the toggle still works for this page.
    }
  }

  /** Calls `listener` with the WGSL line (1-based) under the pointer when it changes, `undefined` when it leaves. */
  onLineHover(listener: (line: number | undefined) => void): () => void {
    this.hoverListeners.add(listener);
    return () => this.hoverListeners.delete(listener);
  }

  /** Lights `lines` (1-based), unlighting the others; `reveal` scrolls the first into view. */
  markLines(lines: readonly number[], reveal = false): void {
    const lit = new Set(lines);
    this.lines.forEach((line, index) => line.classList.toggle('hl', lit.has(index + 1)));
    const first = lines.length > 0 ? this.lines[Math.min(...lines) - 1] : undefined;
    if (reveal && first) scrollWithin(this.code, first);
  }

  /** Shows a kernel's WGSL (nothing for undefined), marking `errorLine` (1-based) if given. */
  show(kernel: KernelReport | undefined, errorLine?: number): void {
    this.source = kernel?.wgsl ?? '';
    this.shown = kernel;
    this.copyButton.disabled = kernel === undefined;
    this.title.textContent = kernel ? `${kernel.name} · ${kernel.kind} · ${kernel.wgsl.split('\n').length} lines` : 'select a kernel';
    this.lines = highlightWgsl(this.source);
    for (const line of this.lines) styleWrap(line, this.wrap);
    this.code.replaceChildren(...this.lines);
    this.code.scrollTop = 0;
    if (errorLine !== undefined) {
      const line = this.code.querySelector(`[data-line="${errorLine}"]`);
      line?.classList.add('error-line');
      line?.scrollIntoView({ block: 'center' });
    }
  }

  private hover(line: number | undefined): void {
    if (line === this.hovered) return;
    this.hovered = line;
    for (const listener of this.hoverListeners) listener(line);
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

function readWrap(): boolean {
  try {
    return localStorage.getItem(WRAP_KEY) === '1';
  } catch {
    return false;
  }
}

/** The line number's room (style.css: 3ch wide, 10px margin), which a wrapped line's continuation is indented past. */
const NUMBER_ROOM = 'calc(3ch + 10px)';

/** Wrapped lines break anywhere (WGSL has long unbroken expressions) and indent their continuation under the text, past the line number. */
function styleWrap(line: HTMLElement, wrap: boolean): void {
  line.style.whiteSpace = wrap ? 'pre-wrap' : '';
  line.style.overflowWrap = wrap ? 'anywhere' : '';
  line.style.paddingLeft = wrap ? `calc(8px + ${NUMBER_ROOM})` : '';
  line.style.textIndent = wrap ? `calc(-1 * ${NUMBER_ROOM})` : '';
}

/** Scrolls `container` so `child` shows, without scrolling the page (scrollIntoView would move every scrolled ancestor). */
function scrollWithin(container: HTMLElement, child: HTMLElement): void {
  const top = child.getBoundingClientRect().top - container.getBoundingClientRect().top + container.scrollTop;
  if (top < container.scrollTop || top + child.offsetHeight > container.scrollTop + container.clientHeight) {
    container.scrollTop = Math.max(0, top - container.clientHeight / 3);
  }
}
