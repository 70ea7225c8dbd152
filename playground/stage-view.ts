/**
 * The Stages tab (was "SSA text"): the compiler's own stages of the shown compile, as
 * `kiln inspect --stage` prints them: the graph as written (with gradients and updates),
 * with modes specialized (train/eval), simplified (the graph the kernels compute, linked
 * to them by GraphView), the fusion groups, the fused kernels, and the kernels without
 * fusion (one per op). The worker prints a stage when it is first shown (`stages`), once
 * per compile.
 */

import { byId, el } from './dom.js';
import type { PageContext } from './page-context.js';
import { STAGE_VIEWS } from './stage-names.js';
import type { StageView } from './stage-names.js';

export interface StagesTab {
  /** The stage shown. */
  stage(): StageView;
  /** Shows `stage` (fetching its text if needed). */
  show(stage: StageView): Promise<void>;
  /** Calls `listener` after the stage shown changes. */
  onChange(listener: (stage: StageView) => void): void;
}

/**
 * Puts `#stage-select` in the Stages tab's bar and `#stage-text` beside the linked
 * simplified text (`#ssa-root`, which GraphView writes); "as written" is a stage like the others.
 */
export function installStageView(context: PageContext): StagesTab {
  const pane = byId('ssa-pane');
  const tab = document.querySelector<HTMLElement>('[data-tab="ssa-pane"]');
  if (tab) tab.textContent = 'Stages';
  const select = el('select', { id: 'stage-select', title: 'The compiler’s stage to show' }, ...STAGE_VIEWS.map(({ stage, label }) => el('option', { value: stage }, label)));
  const note = el('span', { class: 'pane-note', id: 'stage-note' });
  const text = el('pre', { class: 'code ssa', id: 'stage-text', hidden: true });
  const bar = pane.querySelector('.pane-bar') ?? pane.insertBefore(el('div', { class: 'pane-bar' }), pane.firstChild);
  bar.append(select, note);
  pane.append(text);
  select.value = 'simplified';
  const texts = new Map<StageView, string>();
  const listeners = new Set<(stage: StageView) => void>();
  /** Counts requests, so a slow stage that a newer choice overtook does not replace it. */
  let request = 0;

  const show = async (stage: StageView): Promise<void> => {
    select.value = stage;
    const mine = ++request;
    const linked = stage === 'simplified';
    byId('ssa-root').hidden = !linked;
    text.hidden = linked;
    note.textContent = '';
    for (const listener of listeners) listener(stage);
    if (linked || !context.compiled()) return;
    let shown = texts.get(stage);
    if (shown === undefined) {
      note.textContent = 'printing…';
      try {
        shown = (await context.client.call('stages', { stage })).text;
      } catch (error) {
        if (mine === request) note.textContent = error instanceof Error ? error.message : String(error);
        return;
      }
      texts.set(stage, shown);
    }
    if (mine !== request) return;
    note.textContent = `${shown.split('\n').length} lines`;
    text.replaceChildren(...shown.split('\n').map((line) => el('div', { class: 'code-line' }, line || '\n')));
  };

  select.addEventListener('change', () => void show(select.value as StageView));
  context.bus.on('compiled', () => {
    texts.clear();
    void show(select.value as StageView);
  });
  return {
    stage: () => select.value as StageView,
    show,
    onChange: (listener) => void listeners.add(listener),
  };
}
