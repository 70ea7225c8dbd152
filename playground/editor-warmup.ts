/**
 * The editor's JavaScript parser, run once before the editor is made: its first run
 * unpacks the grammar's tables and compiles the parser's code, which made the editor's
 * setup one long task (150 ms and more); split, each part is short.
 */

import { javascriptLanguage } from '@codemirror/lang-javascript';

/** Parses a little of `code` (the start is enough: the point is the parser's first run, not the tree). */
export function warmUpParser(code: string): void {
  javascriptLanguage.parser.parse(code.slice(0, 2000));
}
