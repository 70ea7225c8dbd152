/**
 * Which code the editor holds: the example menu (an example, 'Shared code' for a link's
 * code, 'File: …' for an opened .onnx file), a link's code, the Share button, and the
 * address bar kept as a link to the code being edited. Switching away from edited code
 * asks first, as the edits would be lost.
 */

import { byId, el } from './dom.js';
import { DEFAULT_EXAMPLE, EXAMPLES } from './examples.js';
import type { PageContext } from './page-context.js';
import { hashOfCode, readHash } from './share.js';

export interface ExampleMenu {
  /** Shows which example the editor holds; `undefined` for code from a link. */
  showInMenu(id: string | undefined): void;
  /** Keeps the URL's hash holding `code` (a moment after typing stops), so the address is always a link to it. */
  rememberInUrl(code: string): void;
}

/** How long typing pauses before the address bar catches up. */
const HASH_DELAY_MS = 300;

export function installExampleMenu(context: PageContext): ExampleMenu {
  const select = byId<HTMLSelectElement>('example-select');
  select.append(...EXAMPLES.map((example) => el('option', { value: example.id }, example.title)));
  let shownId = select.value;
  let hashTimer: ReturnType<typeof setTimeout> | undefined;

  /** Shows `label` as the menu's choice for code that is no example (one disabled option, reused). */
  const showOther = (label: string): void => {
    let other = select.querySelector<HTMLOptionElement>('option[value=""]');
    if (!other) select.prepend((other = el('option', { value: '', disabled: true })));
    other.textContent = label;
    select.value = '';
    shownId = '';
  };
  const showInMenu = (id: string | undefined): void => {
    if (id === undefined) return showOther('Shared code');
    select.value = id;
    shownId = select.value;
  };
  // An opened .onnx file is no example: the menu names the file rather than the example it replaced.
  context.bus.on('opened', ({ file }) => showOther(`File: ${file}`));
  const replaceCode = (code: string): void => {
    context.setCode(code);
    void context.compile();
  };
  const loadExample = (id: string): void => {
    const example = EXAMPLES.find((e) => e.id === id) ?? DEFAULT_EXAMPLE;
    if (!context.mayReplaceCode(`the example “${example.title}”`)) {
      select.value = shownId;
      return;
    }
    showInMenu(example.id);
    clearTimeout(hashTimer);
    history.replaceState(null, '', `#example=${example.id}`);
    replaceCode(example.code);
  };
  const loadCode = (code: string): void => {
    if (!context.mayReplaceCode('the code from the link')) return;
    showInMenu(undefined);
    replaceCode(code);
  };

  select.addEventListener('change', () => loadExample(select.value));
  // A link pasted into the address bar of an open playground.
  window.addEventListener('hashchange', () => {
    void readHash(location.hash).then((next) => {
      if (next && 'example' in next) loadExample(next.example);
      else if (next) loadCode(next.code);
    });
  });
  byId('share-button').addEventListener('click', () => {
    void (async () => {
      history.replaceState(null, '', await hashOfCode(context.editor.code));
      try {
        await navigator.clipboard.writeText(location.href);
        context.setStatus('link copied: it holds this code');
      } catch {
        context.setStatus('the address bar now holds a link to this code');
      }
    })();
  });
  return {
    showInMenu,
    rememberInUrl: (code) => {
      clearTimeout(hashTimer);
      hashTimer = setTimeout(() => void hashOfCode(code).then((hash) => history.replaceState(null, '', hash)), HASH_DELAY_MS);
    },
  };
}
