/**
 * The selected node, in words: its op, attributes, type, part, scope, editor line and the
 * kernel that computes it, beside the graph; and a slot for its values (the values view
 * fills it after Forward: `setValues`).
 */

import { el } from './dom.js';
import type { DagNode } from './graph-model.js';

/** What the graph knows about a node beyond the node itself. */
export interface NodeContext {
  /** The kernel that computes it in the shown entry: `trainStep · k3_matmul`. */
  readonly kernel?: string;
  /** The group it is drawn in: `∇ block0 / attn`. */
  readonly group?: string;
}

export class NodePanel {
  readonly element: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly title: HTMLElement;
  private readonly values: HTMLElement;
  private shown: number | undefined;

  constructor() {
    this.title = el('span', { class: 'node-panel-title' });
    const close = el('button', { class: 'small', title: 'Close', 'aria-label': 'Close', onclick: () => this.close() }, '×');
    this.facts = el('dl', { class: 'node-facts' });
    this.values = el('div', { class: 'node-values', id: 'node-values' });
    this.element = el('aside', { id: 'node-panel', class: 'node-panel', hidden: true }, el('div', { class: 'node-panel-bar' }, this.title, close), this.facts, this.values);
  }

  /** The node shown, if any. */
  get node(): number | undefined {
    return this.shown;
  }

  /** Shows `node` (undefined: hides the panel). Its values are cleared: they belong to the node shown before. */
  show(node: DagNode | undefined, context: NodeContext = {}): void {
    if (node?.id !== this.shown) this.values.replaceChildren();
    this.shown = node?.id;
    this.element.hidden = node === undefined;
    if (!node) return;
    this.title.textContent = node.label;
    const rows: [string, string | number | undefined][] = [
      ['op', node.op],
      ['attrs', node.attrs || '—'],
      ['type', node.type],
      ['part', node.part],
      ['assigns', node.assigns],
      ['scope', node.scope ?? '—'],
      ['line', node.line ?? '—'],
      ['kernel', context.kernel ?? 'none in this entry'],
      ['group', context.group],
    ];
    this.facts.replaceChildren(
      ...rows.flatMap(([name, value]) => (value === undefined ? [] : [el('dt', {}, name), el('dd', { 'data-fact': name }, String(value))])),
    );
  }

  /** Puts `element` in the values slot (undefined: empties it). */
  setValues(element: HTMLElement | undefined): void {
    this.values.replaceChildren(...(element ? [element] : []));
  }

  private close(): void {
    this.show(undefined);
  }
}
