/**
 * Finding a node in a large graph: a search box over the nodes' labels, ops and scopes. Typing
 * counts the matches; Enter picks the next one (the view opens its group and selects it).
 */

import { el } from './dom.js';
import type { DagModel } from './graph-model.js';

/** The nodes whose label (`%12`, `fc1.kernel`), op or scope contains `query`, any case; `%12` also finds node 12 by id. */
export function matchNodes(model: DagModel, query: string): number[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return [];
  return model.nodes
    .filter((node) => [node.label, node.op, node.scope ?? '', `%${node.id}`].some((text) => text.toLowerCase().includes(needle)))
    .map((node) => node.id);
}

export class GraphSearch {
  readonly input: HTMLInputElement;
  private readonly count: HTMLElement;
  private matches: number[] = [];
  /** The match Enter picked last (-1: none yet). */
  private picked = -1;

  constructor(
    private readonly find: (query: string) => number[],
    private readonly onPick: (id: number) => void,
  ) {
    this.input = el('input', { id: 'graph-search', type: 'search', placeholder: 'find a node', title: 'Find a node by its label (%12, fc1.kernel), op or scope; Enter selects the next match', spellcheck: 'false' });
    this.count = el('span', { id: 'graph-search-count', class: 'search-count' });
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      this.pickNext(event.shiftKey ? -1 : 1);
    });
  }

  /** The box and its count, for the graph's bar. */
  elements(): HTMLElement[] {
    return [this.input, this.count];
  }

  /** Searches again (a new graph). */
  update(): void {
    this.matches = this.find(this.input.value);
    this.picked = -1;
    this.showCount();
  }

  private pickNext(step: 1 | -1): void {
    if (this.matches.length === 0) return;
    this.picked = (this.picked + step + this.matches.length) % this.matches.length;
    this.showCount();
    this.onPick(this.matches[this.picked]!);
  }

  private showCount(): void {
    const total = this.matches.length;
    const query = this.input.value.trim();
    this.count.textContent = query === '' ? '' : total === 0 ? 'none found' : this.picked < 0 ? `${total} found` : `${this.picked + 1} of ${total}`;
  }
}
