/** A small element builder for the playground's views (no framework: the page is a handful of panes). */

type Child = Node | string | number | null | undefined | false;

/** `el('td', {class: 'num', title: 'bytes'}, '128')`: attributes set as attributes, `on*` functions as listeners. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string | number | boolean | EventListener | undefined>> = {},
  ...children: readonly Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string | number | boolean | EventListener | undefined>> = {},
  ...children: readonly Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element: Element, attributes: Readonly<Record<string, string | number | boolean | EventListener | undefined>>): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(element: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}

/** The element with this id; the page's HTML declares every one the script uses. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`playground: the page has no element #${id}`);
  return element as T;
}

/** `1.2 KB`, `3.4 MB`: bytes for people. */
/** A plan size in bytes as the page shows it: `3.1 KB`, or the symbolic size (`3136*batch B`). */
export function formatPlanBytes(bytes: number | string): string {
  return typeof bytes === 'number' ? formatBytes(bytes) : `${bytes} B`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** Buttons with `data-tab` show the panel of that id and hide their siblings'. */
export function enableTabs(bar: HTMLElement): void {
  const buttons = Array.from(bar.querySelectorAll<HTMLButtonElement>('button[data-tab]'));
  for (const button of buttons) {
    button.addEventListener('click', () => {
      for (const other of buttons) {
        other.classList.toggle('active', other === button);
        byId(other.dataset['tab']!).hidden = other !== button;
      }
    });
  }
}
