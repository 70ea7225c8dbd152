/**
 * The code editor: CodeMirror 6 with JavaScript highlighting, errors marked on the line
 * they came from (a lint diagnostic, with the message on hover and in the gutter), and
 * source links: hovering or clicking a line tells the page (which lights the nodes,
 * kernels and WGSL it made), and lines the page links to something hovered elsewhere are
 * marked (`.cm-linked-line`, `.cm-selected-line`).
 */

import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { HighlightStyle, bracketMatching, ensureSyntaxTree, indentOnInput, syntaxHighlighting, syntaxTree } from '@codemirror/language';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import type { Range } from '@codemirror/state';
import { Decoration, EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view';
import { tags } from '@lezer/highlight';

/** A dark theme matching the page (CodeMirror's default style is for light backgrounds). */
const darkTheme = EditorView.theme(
  {
    '&': { color: '#d8dde8', backgroundColor: '#161a22' },
    '.cm-content': { caretColor: '#f5a524' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: '#f5a524' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': { backgroundColor: '#33415c' },
    '.cm-gutters': { backgroundColor: '#161a22', color: '#4f586d', border: 'none' },
    '.cm-activeLine': { backgroundColor: '#1d2230' },
    '.cm-activeLineGutter': { backgroundColor: '#1d2230', color: '#8b93a7' },
    '.cm-matchingBracket': { backgroundColor: '#33415c', outline: 'none' },
    '.cm-linked-line': { backgroundColor: '#3a3320', boxShadow: 'inset 3px 0 0 #f5a524' },
    '.cm-selected-line': { backgroundColor: '#2c3a2a', boxShadow: 'inset 3px 0 0 #86efac' },
  },
  { dark: true },
);

const darkHighlight = HighlightStyle.define([
  { tag: tags.comment, color: '#7f8aa3', fontStyle: 'italic' },
  { tag: [tags.keyword, tags.operatorKeyword, tags.modifier], color: '#ff8f6b' },
  { tag: [tags.string, tags.special(tags.string)], color: '#a5d6a7' },
  { tag: [tags.number, tags.bool, tags.null], color: '#fcd34d' },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: '#86efac' },
  { tag: [tags.definition(tags.variableName)], color: '#7dd3fc' },
  { tag: tags.propertyName, color: '#c4d2ff' },
  { tag: tags.invalid, color: '#ff6b6b' },
]);

/** How a marked line is drawn: lit by a hover elsewhere, or linked to the selection. */
export type LineMark = 'linked' | 'selected';

const setMarks = StateEffect.define<{ readonly kind: LineMark; readonly lines: readonly number[] }>();

/** The marked lines, kept on their text while it is edited (decorations map through changes). */
const lineMarks = StateField.define({
  create: () => ({ linked: Decoration.none, selected: Decoration.none }),
  update(marks, transaction) {
    let next = { linked: marks.linked.map(transaction.changes), selected: marks.selected.map(transaction.changes) };
    for (const effect of transaction.effects) {
      if (!effect.is(setMarks)) continue;
      const { doc } = transaction.state;
      const decoration = Decoration.line({ class: `cm-${effect.value.kind}-line` });
      const ranges: Range<Decoration>[] = [...new Set(effect.value.lines)]
        .filter((line) => line >= 1 && line <= doc.lines)
        .sort((a, b) => a - b)
        .map((line) => decoration.range(doc.line(line).from));
      next = { ...next, [effect.value.kind]: Decoration.set(ranges) };
    }
    return next;
  },
  provide: (field) => [EditorView.decorations.from(field, (marks) => marks.linked), EditorView.decorations.from(field, (marks) => marks.selected)],
});

export interface CodeEditorOptions {
  /** Ctrl/Cmd+Enter (and Ctrl/Cmd+S). */
  onRun(): void;
  /** After every change of the text. */
  onChange(code: string): void;
}

export class CodeEditor {
  private readonly view: EditorView;
  private readonly hoverListeners = new Set<(line: number | undefined) => void>();
  private readonly clickListeners = new Set<(line: number) => void>();
  private hovered: number | undefined;

  constructor(parent: HTMLElement, code: string, options: CodeEditorOptions) {
    const run = (): boolean => {
      options.onRun();
      return true;
    };
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: code,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          highlightActiveLine(),
          darkTheme,
          syntaxHighlighting(darkHighlight),
          javascript(),
          lintGutter(),
          history(),
          keymap.of([
            { key: 'Mod-Enter', run },
            { key: 'Mod-s', run, preventDefault: true },
            ...closeBracketsKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            indentWithTab,
          ]),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) options.onChange(update.state.doc.toString());
          }),
          lineMarks,
          EditorView.domEventHandlers({
            mousemove: (event) => this.hover(this.lineAt(event)),
            mouseleave: () => this.hover(undefined),
            click: (event) => {
              const line = this.lineAt(event);
              if (line !== undefined) for (const listener of this.clickListeners) listener(line);
            },
          }),
        ],
      }),
    });
  }

  get code(): string {
    return this.view.state.doc.toString();
  }

  set code(text: string) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  /** Calls `listener` with the line (1-based) under the pointer when it changes, `undefined` when it leaves the text. */
  onLineHover(listener: (line: number | undefined) => void): () => void {
    this.hoverListeners.add(listener);
    return () => this.hoverListeners.delete(listener);
  }

  /** Calls `listener` with the line (1-based) clicked. */
  onLineClick(listener: (line: number) => void): () => void {
    this.clickListeners.add(listener);
    return () => this.clickListeners.delete(listener);
  }

  /** Marks `lines` (1-based; out-of-range ones ignored) as `kind`, replacing that kind's marks; `reveal` scrolls the first into view. */
  markLines(kind: LineMark, lines: readonly number[], reveal = false): void {
    const { doc } = this.view.state;
    const first = lines.find((line) => line >= 1 && line <= doc.lines);
    this.view.dispatch({
      effects: [setMarks.of({ kind, lines }), ...(reveal && first !== undefined ? [EditorView.scrollIntoView(doc.line(first).from, { y: 'nearest' })] : [])],
    });
  }

  private lineAt(event: MouseEvent): number | undefined {
    const position = this.view.posAtCoords({ x: event.clientX, y: event.clientY }, false);
    // posAtCoords snaps to the nearest line: below the last line is no line.
    const block = position === null ? undefined : this.view.lineBlockAt(position);
    if (position === null || !block || event.clientY > this.view.documentTop + block.bottom) return undefined;
    return this.view.state.doc.lineAt(position).number;
  }

  private hover(line: number | undefined): void {
    if (line === this.hovered) return;
    this.hovered = line;
    for (const listener of this.hoverListeners) listener(line);
  }

  /** Marks `line` (1-based; the first syntax error's line when undefined and there is one) with `message`. */
  showError(line: number | undefined, message: string): number | undefined {
    const { doc } = this.view.state;
    const at = line ?? this.firstSyntaxErrorLine();
    if (at === undefined || at < 1 || at > doc.lines) {
      this.clearError();
      return undefined;
    }
    const { from, to } = doc.line(at);
    this.view.dispatch(setDiagnostics(this.view.state, [{ from, to, severity: 'error', message }]));
    this.view.dispatch({ effects: EditorView.scrollIntoView(from, { y: 'center' }) });
    return at;
  }

  clearError(): void {
    this.view.dispatch(setDiagnostics(this.view.state, []));
  }

  /** The line of the first node the JavaScript parser could not read. */
  private firstSyntaxErrorLine(): number | undefined {
    let position: number | undefined;
    const { state } = this.view;
    (ensureSyntaxTree(state, state.doc.length, 500) ?? syntaxTree(state)).iterate({
      enter: (node) => {
        if (position !== undefined) return false;
        if (node.type.isError) position = node.from;
        return undefined;
      },
    });
    return position === undefined ? undefined : this.view.state.doc.lineAt(position).number;
  }
}
