/**
 * Source linking on the page, as in Compiler Explorer: hovering an editor line lights the
 * graph nodes it built (`.node.hl`, or the collapsed group holding them: `.group.hl`, by
 * GraphView.preview, which neither opens groups nor moves the view), the kernel rows computing them (`tr.linked`) and
 * their lines in the WGSL shown (`.code-line.hl`); clicking it selects the first such
 * kernel. Hovering a node, a kernel row or a WGSL line marks the editor lines that made
 * it (`.cm-linked-line`), and the selection's lines stay marked (`.cm-selected-line`).
 * The index is source-links.ts's, over the kernels the kernels pane lists (fused or not).
 *
 * Installed with the Stages tab, the fused/unfused toggle and the view kept in the link
 * (entry, kernel, node, stage, fused), which all read and change the same selection.
 */

import type { KernelReport } from '../index.js';
import './source-links.css';
import { byId } from './dom.js';
import { installKernelPlans } from './kernel-plans.js';
import type { KernelPlans } from './kernel-plans.js';
import type { KernelsView } from './kernels-view.js';
import type { PageContext } from './page-context.js';
import { provideShareView, viewOfHash, withView } from './share.js';
import type { ShareView } from './share.js';
import { SourceLinks } from './source-links.js';
import { isStageView } from './stage-names.js';
import { installStageView } from './stage-view.js';
import type { StagesTab } from './stage-view.js';
import { WgslView } from './wgsl-view.js';

/** The page as source linking needs it: the context, and the kernels table the shell drew. */
export interface LinkedPage extends PageContext {
  readonly kernels: KernelsView;
}

export function installSourceLinks(page: LinkedPage): void {
  const wgsl = WgslView.of(byId('wgsl-root'));
  const plans = installKernelPlans(page, page.kernels, wgsl);
  const stages = installStageView(page);
  const links = linkIndex(page, plans);
  const { editor } = page;

  /** The nodes selected: the selected kernel's (fused or unfused), or the node clicked. */
  const selectedNodes = (): number[] => {
    const kernel = plans.selected();
    if (kernel) return [...(links()?.nodesOfKernel(kernel.position) ?? [])];
    const node = page.selection().node;
    return node === undefined ? [] : [node];
  };
  const markRows = (positions: readonly number[]): void => {
    const lit = new Set(positions);
    for (const row of Array.from(byId('kernels-root').querySelectorAll<HTMLElement>('tr[data-position]'))) row.classList.toggle('linked', lit.has(Number(row.dataset['position'])));
  };
  /** The kernel the WGSL pane shows, when it is one of the kernels listed (so the index knows its lines). */
  const shownKernel = (): KernelReport | undefined => (wgsl.kernel && plans.kernels().includes(wgsl.kernel) ? wgsl.kernel : undefined);
  const endHover = (): void => {
    page.graph.preview(undefined);
    markRows([]);
    wgsl.markLines([]);
  };
  const markSelection = (): void => editor.markLines('selected', links()?.linesOfNodes(selectedNodes()) ?? []);

  editor.onLineHover((line) => {
    const index = links();
    const nodes = line === undefined || !index ? [] : index.nodesOfLine(line);
    if (nodes.length === 0) return endHover();
    page.graph.preview(new Set(nodes));
    markRows(index!.kernelsOfNodes(nodes));
    const kernel = shownKernel();
    wgsl.markLines(kernel ? index!.wgslLinesOfNodes(kernel.position, nodes) : [], true);
  });
  editor.onLineClick((line) => {
    const index = links();
    const nodes = index?.nodesOfLine(line) ?? [];
    if (nodes.length === 0) return;
    const [first] = index!.kernelsOfNodes(nodes);
    if (first !== undefined) plans.select(first);
    else page.selectNode(nodes[0]!);
  });

  const markEditor = (nodes: readonly number[]): void => editor.markLines('linked', links()?.linesOfNodes(nodes) ?? [], nodes.length > 0);
  wgsl.onLineHover((line) => {
    const kernel = shownKernel();
    markEditor(kernel && line !== undefined ? (links()?.nodesOfWgslLine(kernel.position, line) ?? []) : []);
  });
  hoverTargets(byId('dag-root'), '[data-node]', (target) => markEditor(target ? [Number(target.dataset['node'])] : []));
  // The Stages tab's text: the simplified graph's lines, and the fusion groups' and kernels' (their ids are the simplified graph's too).
  hoverTargets(byId('ssa-pane'), '.code-line', (target) => {
    const idsAreSimplified = target?.closest('#ssa-root') || ['fusion', 'fused', 'unfused'].includes(stages.stage());
    markEditor(target && idsAreSimplified ? nodesOfTextLine(target.textContent ?? '') : []);
  });
  hoverTargets(byId('kernels-root'), 'tr[data-position]', (target) => {
    const position = target ? Number(target.dataset['position']) : undefined;
    markEditor(position === undefined ? [] : [...(links()?.nodesOfKernel(position) ?? [])]);
  });

  page.bus.on('selection', markSelection);
  plans.onChange(markSelection);
  keepViewInLink(page, plans, stages);
}

/** The index over the shown compile's nodes and the kernels listed, rebuilt when either changes. */
function linkIndex(page: PageContext, plans: KernelPlans): () => SourceLinks | undefined {
  let built: { readonly nodes: unknown; readonly kernels: readonly KernelReport[]; readonly links: SourceLinks } | undefined;
  return () => {
    const compiled = page.compiled();
    if (!compiled) return undefined;
    const kernels = plans.kernels();
    if (built?.nodes !== compiled.model.nodes || built.kernels !== kernels) built = { nodes: compiled.model.nodes, kernels, links: new SourceLinks(compiled.model.nodes, kernels) };
    return built.links;
  };
}

/** The nodes a line of printed stage text names: the one it defines (`%12:f32[…] = …`), else every `%N` in it. */
export function nodesOfTextLine(text: string): number[] {
  const defined = /^\s*%(\d+)\b/.exec(text);
  if (defined) return [Number(defined[1])];
  return [...new Set(Array.from(text.matchAll(/%(\d+)\b/g), (match) => Number(match[1])))];
}

/** Calls `hover` with the element matching `selector` under the pointer in `root` when it changes (undefined when none). */
function hoverTargets(root: HTMLElement, selector: string, hover: (target: HTMLElement | undefined) => void): void {
  let current: HTMLElement | undefined;
  const update = (target: HTMLElement | undefined): void => {
    if (target === current) return;
    current = target;
    hover(target);
  };
  root.addEventListener('mouseover', (event) => update((event.target as Element | null)?.closest<HTMLElement>(selector) ?? undefined));
  root.addEventListener('mouseleave', () => update(undefined));
}

/**
 * The address bar keeps the view beside the code (`&entry=…&kernel=…&stage=…&fused=0`), and
 * a link's view is restored once its first compile shows.
 */
function keepViewInLink(page: PageContext, plans: KernelPlans, stages: StagesTab): void {
  let pending: ShareView | undefined = viewOfHash(location.hash);
  const view = (): ShareView => {
    const { entry, kernel, node } = page.selection();
    const selected = plans.selected();
    return {
      entry,
      ...(selected ? { kernel: selected.position } : kernel === undefined ? {} : { kernel }),
      ...(node === undefined ? {} : { node }),
      ...(stages.stage() === 'simplified' ? {} : { stage: stages.stage() }),
      ...(plans.fused() ? {} : { fused: false }),
    };
  };
  provideShareView(view);
  const remember = (): void => {
    if (pending || !page.compiled()) return;
    history.replaceState(history.state, '', withView(location.hash, view()));
  };
  page.bus.on('selection', remember);
  plans.onChange(remember);
  stages.onChange(remember);
  // A link pasted into the address bar of an open page: the example menu compiles its code, and its view is restored then.
  window.addEventListener('hashchange', () => {
    const view = viewOfHash(location.hash);
    if (Object.keys(view).length > 0) pending = view;
  });
  page.bus.on('compiled', () => {
    const restore = pending;
    pending = undefined;
    if (restore) void restoreView(page, plans, stages, restore).then(remember);
  });
}

async function restoreView(page: PageContext, plans: KernelPlans, stages: StagesTab, view: ShareView): Promise<void> {
  const entries = Object.keys(page.compiled()?.plan.entries ?? {});
  const entry = view.entry !== undefined && entries.includes(view.entry) ? view.entry : page.entry();
  if (view.stage !== undefined && isStageView(view.stage)) void stages.show(view.stage);
  if (view.fused === false) {
    if (entry !== page.entry()) page.switchEntry(entry, 0);
    await plans.setFused(false);
    if (view.kernel !== undefined && view.kernel < plans.kernels().length) plans.select(view.kernel);
    return;
  }
  const kernels = page.compiled()?.report.entries.find((e) => e.name === entry)?.kernels.length ?? 0;
  const kernel = view.kernel !== undefined && view.kernel < kernels ? view.kernel : undefined;
  if (entry !== page.entry()) page.switchEntry(entry, kernel ?? 0);
  if (kernel !== undefined) page.selectKernel(kernel, { zoom: true, ...(view.node === undefined ? {} : { focusNode: view.node }) });
  else if (view.node !== undefined) page.selectNode(view.node);
}
