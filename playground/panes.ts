/**
 * The page's layout, which index.html and style.css describe and this module makes move:
 * split panes resized by dragging their separators (or with the arrow keys once focused),
 * each size remembered in localStorage; on a phone a tab bar that shows one pane at a
 * time; and the compiler's views dimmed and labelled "last successful compile" while a
 * compile has failed, so nobody reads an old graph as the current one.
 */

import { el } from './dom.js';
import type { PageBus } from './page-events.js';

/**
 * Below this width the kernels and WGSL stack (style.css's media query has the same number);
 * below 700 px wide or 500 px high, style.css shows one pane at a time (the phone tabs).
 */
export const STACKED_QUERY = '(max-width: 1099.98px)';

/** The panes a phone shows one at a time (`data-pane` in index.html). */
export const PANE_NAMES = ['code', 'graph', 'kernels', 'wgsl', 'run'] as const;
export type PaneName = (typeof PANE_NAMES)[number];

export const STALE_LABEL = 'last successful compile';
const STORAGE_PREFIX = 'kiln-playground:split:';
/** A share is kept within this much of either end even where the panes set no minimum size. */
const SHARE_LIMIT = 0.05;
const KEY_STEP = 0.02;
const KEY_STEP_LARGE = 0.1;

type Orientation = 'row' | 'column';

/** Reads and writes the remembered sizes; a browser that refuses storage (private mode, a policy) just forgets them. */
const sizes = {
  read(key: string): number | undefined {
    try {
      const value = Number(localStorage.getItem(STORAGE_PREFIX + key) ?? Number.NaN);
      return value > 0 && value < 1 ? value : undefined;
    } catch {
      return undefined;
    }
  },
  write(key: string, share: number | undefined): void {
    try {
      if (share === undefined) localStorage.removeItem(STORAGE_PREFIX + key);
      else localStorage.setItem(STORAGE_PREFIX + key, share.toFixed(4));
    } catch {
      // Nothing to do: the size holds for this visit.
    }
  },
};

/**
 * Two panes and the separator between them (a `.split` element's three children). The first
 * pane's share of the room sets both panes' flex-grow (share and 1 − share; style.css has the
 * defaults); each pane's CSS minimum size still holds. Sizes are remembered per orientation: the kernels and WGSL panes sit side
 * by side on a wide screen and stacked on a narrower one, where a different share fits.
 */
export class SplitPane {
  readonly name: string;
  private readonly first: HTMLElement;
  private readonly second: HTMLElement;

  constructor(
    readonly container: HTMLElement,
    readonly separator: HTMLElement,
  ) {
    const [first, middle, second] = Array.from(container.children) as HTMLElement[];
    if (container.children.length !== 3 || middle !== separator || !first || !second) {
      throw new Error(`panes: .split[data-split="${container.dataset['split'] ?? ''}"] must hold exactly a pane, its .pane-split separator and a pane, in that order (index.html)`);
    }
    this.name = container.dataset['split'] ?? '';
    if (this.name === '') throw new Error('panes: a .split element has no data-split name to remember its size by (index.html)');
    this.first = first;
    this.second = second;
    separator.title ||= 'Drag to resize (or focus it and use the arrow keys); double-click for the default size';
    separator.setAttribute('aria-valuemin', '0');
    separator.setAttribute('aria-valuemax', '100');
    separator.addEventListener('pointerdown', (event) => this.startDrag(event));
    separator.addEventListener('keydown', (event) => this.onKey(event));
    separator.addEventListener('dblclick', () => this.reset());
    this.restore();
  }

  /** Row: the panes sit side by side (the separator is a vertical bar). Set by style.css, so it follows the breakpoints. */
  get orientation(): Orientation {
    return getComputedStyle(this.container).flexDirection.startsWith('column') ? 'column' : 'row';
  }

  /** The first pane's share of the room the two panes have, 0 to 1 (what is shown, minimum sizes included). */
  get share(): number {
    const [first, second] = [this.first, this.second].map((pane) => this.extent(pane.getBoundingClientRect()));
    return first! + second! > 0 ? first! / (first! + second!) : Number.NaN;
  }

  /** Sizes the panes to `share` (clamped so both keep their minimum size) and remembers it. */
  setShare(share: number): void {
    const clamped = this.clamp(share);
    this.apply(clamped);
    sizes.write(this.storageKey(), clamped);
  }

  /** Back to the page's default sizes (style.css), forgetting the remembered one. */
  reset(): void {
    this.applyDefault();
    sizes.write(this.storageKey(), undefined);
  }

  /** Applies the size remembered for the current orientation, or the default. */
  restore(): void {
    const share = sizes.read(this.storageKey());
    if (share === undefined) this.applyDefault();
    else this.apply(share);
    this.separator.setAttribute('aria-orientation', this.orientation === 'row' ? 'vertical' : 'horizontal');
    this.describe();
  }

  private storageKey(): string {
    return `${this.name}:${this.orientation}`;
  }

  private apply(share: number): void {
    this.first.style.flexGrow = share.toFixed(4);
    this.second.style.flexGrow = (1 - share).toFixed(4);
    this.describe();
  }

  private applyDefault(): void {
    this.first.style.removeProperty('flex-grow');
    this.second.style.removeProperty('flex-grow');
    this.describe();
  }

  private describe(): void {
    const share = this.share;
    if (Number.isFinite(share)) this.separator.setAttribute('aria-valuenow', String(Math.round(share * 100)));
  }

  private extent(rect: DOMRect): number {
    return this.orientation === 'row' ? rect.width : rect.height;
  }

  /** The room the two panes share: the container's extent less the separator and padding. */
  private room(): number {
    return this.extent(this.first.getBoundingClientRect()) + this.extent(this.second.getBoundingClientRect());
  }

  private clamp(share: number): number {
    const room = this.room();
    const min = (pane: HTMLElement): number => {
      const style = getComputedStyle(pane);
      return Number.parseFloat(this.orientation === 'row' ? style.minWidth : style.minHeight) || 0;
    };
    const low = Math.max(SHARE_LIMIT, room > 0 ? min(this.first) / room : 0);
    const high = Math.min(1 - SHARE_LIMIT, room > 0 ? 1 - min(this.second) / room : 1);
    return low > high ? 0.5 : Math.min(high, Math.max(low, share));
  }

  private startDrag(event: PointerEvent): void {
    if (event.button !== 0) return;
    event.preventDefault();
    const orientation = this.orientation;
    // Where the first pane starts and how much room both have, fixed for the drag: only the share moves.
    const start = orientation === 'row' ? this.first.getBoundingClientRect().left : this.first.getBoundingClientRect().top;
    const room = this.room();
    const half = this.extent(this.separator.getBoundingClientRect()) / 2;
    this.separator.setPointerCapture(event.pointerId);
    this.separator.classList.add('dragging');
    document.body.classList.add('resizing', `resizing-${orientation}`);
    const move = (moved: PointerEvent): void => {
      const at = orientation === 'row' ? moved.clientX : moved.clientY;
      if (room > 0) this.setShare((at - half - start) / room);
    };
    const end = (): void => {
      this.separator.removeEventListener('pointermove', move);
      this.separator.removeEventListener('pointerup', end);
      this.separator.removeEventListener('pointercancel', end);
      this.separator.classList.remove('dragging');
      document.body.classList.remove('resizing', `resizing-${orientation}`);
    };
    this.separator.addEventListener('pointermove', move);
    this.separator.addEventListener('pointerup', end);
    this.separator.addEventListener('pointercancel', end);
  }

  /** Arrow keys move the separator (Shift: in larger steps), Home and End move it to either end, Enter restores the default. */
  private onKey(event: KeyboardEvent): void {
    const step = event.shiftKey ? KEY_STEP_LARGE : KEY_STEP;
    const back = this.orientation === 'row' ? 'ArrowLeft' : 'ArrowUp';
    const forward = this.orientation === 'row' ? 'ArrowRight' : 'ArrowDown';
    const share = this.share;
    if (event.key === back) this.setShare(share - step);
    else if (event.key === forward) this.setShare(share + step);
    else if (event.key === 'Home') this.setShare(0);
    else if (event.key === 'End') this.setShare(1);
    else if (event.key === 'Enter') this.reset();
    else return;
    event.preventDefault();
  }
}

/** The phone's tab bar: one button per pane (`data-pane`); the pane of the active one is shown, the others hidden (style.css, below 700 px wide or 500 px high). */
export class PhoneTabs {
  private readonly buttons: HTMLButtonElement[];
  private current: PaneName = 'code';

  constructor(
    bar: HTMLElement,
    private readonly root: ParentNode,
  ) {
    this.buttons = Array.from(bar.querySelectorAll<HTMLButtonElement>('button[data-pane]'));
    for (const button of this.buttons) {
      const name = button.dataset['pane'];
      if (!isPaneName(name)) throw new Error(`panes: the phone tab '${button.textContent ?? ''}' names no pane (data-pane="${name ?? ''}"); use one of ${PANE_NAMES.join(', ')}`);
      if (!root.querySelector(`[data-pane="${name}"]:not(button)`)) throw new Error(`panes: the phone tab '${name}' has no pane with data-pane="${name}" to show (index.html)`);
      button.addEventListener('click', () => this.show(name));
    }
    bar.addEventListener('keydown', (event) => this.onKey(event));
    this.show(this.current);
  }

  get shown(): PaneName {
    return this.current;
  }

  show(name: PaneName): void {
    this.current = name;
    for (const button of this.buttons) {
      const active = button.dataset['pane'] === name;
      button.classList.toggle('active', active);
      button.setAttribute('aria-selected', String(active));
      button.tabIndex = active ? 0 : -1;
    }
    for (const pane of Array.from(this.root.querySelectorAll<HTMLElement>('[data-pane]:not(button)'))) {
      pane.classList.toggle('phone-shown', pane.dataset['pane'] === name);
    }
  }

  /** Left and right arrows move between tabs, as in any tab list. */
  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const index = PANE_NAMES.indexOf(this.current);
    const next = PANE_NAMES[(index + (event.key === 'ArrowRight' ? 1 : PANE_NAMES.length - 1)) % PANE_NAMES.length]!;
    this.show(next);
    this.buttons.find((button) => button.dataset['pane'] === next)?.focus();
    event.preventDefault();
  }
}

function isPaneName(name: string | undefined): name is PaneName {
  return (PANE_NAMES as readonly (string | undefined)[]).includes(name);
}

/**
 * Dims the panes marked `data-stale-able` (graph, kernels, WGSL) while the last compile has
 * failed and an older one is still shown, with a label saying so; a successful compile
 * clears them. Nothing is dimmed before the first success: then the panes are empty.
 */
export class StaleMarkers {
  private readonly panes: HTMLElement[];
  private anyCompiled = false;

  constructor(root: ParentNode) {
    this.panes = Array.from(root.querySelectorAll<HTMLElement>('[data-stale-able]'));
    for (const pane of this.panes) {
      pane.append(el('div', { class: 'stale-badge', title: 'The last compile failed (see the error under the code): this pane still shows the one before it.' }, STALE_LABEL));
    }
  }

  get stale(): boolean {
    return this.panes.some((pane) => pane.classList.contains('stale'));
  }

  compiled(): void {
    this.anyCompiled = true;
    this.mark(false);
  }

  failed(): void {
    this.mark(this.anyCompiled);
  }

  private mark(stale: boolean): void {
    for (const pane of this.panes) {
      pane.classList.toggle('stale', stale);
      if (stale) pane.setAttribute('aria-description', STALE_LABEL);
      else pane.removeAttribute('aria-description');
    }
  }
}

export interface Layout {
  readonly splits: readonly SplitPane[];
  readonly tabs: PhoneTabs;
  readonly stale: StaleMarkers;
}

/**
 * Makes the page's skeleton (index.html) live: every `.split`, the phone tabs, and the stale
 * markers following the bus. Takes the part of the page's context it needs, so any holder of
 * the bus can install it.
 */
export function installLayout(context: { readonly bus: PageBus }, root: Document = document): Layout {
  const splits = Array.from(root.querySelectorAll<HTMLElement>('.split')).map((container) => {
    const separator = Array.from(container.children).find((child) => child.classList.contains('pane-split'));
    if (!(separator instanceof HTMLElement)) throw new Error(`panes: .split[data-split="${container.dataset['split'] ?? ''}"] has no .pane-split separator (index.html)`);
    return new SplitPane(container, separator);
  });
  // The stacked breakpoint turns the kernels | WGSL split from a row into a column: its remembered size is another.
  root.defaultView?.matchMedia(STACKED_QUERY).addEventListener('change', () => splits.forEach((split) => split.restore()));
  const bar = root.getElementById('phone-tabs');
  if (!bar) throw new Error('panes: index.html has no #phone-tabs bar');
  const tabs = new PhoneTabs(bar, root);
  const stale = new StaleMarkers(root);
  context.bus.on('compiled', () => stale.compiled());
  context.bus.on('failed', () => stale.failed());
  return { splits, tabs, stale };
}
