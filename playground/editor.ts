/**
 * The code editor: CodeMirror 6 with JavaScript highlighting, and errors marked on the
 * line they came from (a lint diagnostic, with the message on hover and in the gutter).
 */

import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { HighlightStyle, bracketMatching, ensureSyntaxTree, indentOnInput, syntaxHighlighting, syntaxTree } from '@codemirror/language';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view';
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

export interface CodeEditorOptions {
  /** Ctrl/Cmd+Enter (and Ctrl/Cmd+S). */
  onRun(): void;
  /** After every change of the text. */
  onChange(code: string): void;
}

export class CodeEditor {
  private readonly view: EditorView;

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
