/**
 * The playground page: the editor's code builds a graph with kiln's public API; the
 * page's worker (worker/main.ts) runs it, compiles it and lays its graph out, and the page
 * shows every stage (the graph and its gradient, the fused kernels, their WGSL, the memory
 * plan, the adapter), linked by the selected kernel, and runs it on the page's WebGPU
 * device (forward, or training with a live loss curve). The page bundle holds the runtime
 * alone: the compiler, elkjs and the user's code live in the worker.
 */

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { acquireDevice, adapterSummary, renderAdapter } from './adapter-view.js';
import type { Device } from './adapter-view.js';
import { byId, enableTabs } from './dom.js';
import { installExampleMenu } from './example-menu.js';
import type { ExampleMenu } from './example-menu.js';
import { DEFAULT_EXAMPLE, EXAMPLES } from './examples.js';
import { installGraphView } from './graph-install.js';
import { PageBus } from './page-events.js';
import { installOnnxDrop } from './onnx-drop.js';
import { measured, nextTask } from './next-task.js';
import { PageShell, requestCompile } from './page-shell.js';
import { installProfiling } from './profiling.js';
import type { Profiling } from './profiling.js';
import { installLayout } from './panes.js';
import { installRunActions } from './run-actions.js';
import { installSourceLinks } from './source-linking.js';
import { readHash } from './share.js';
import { installValues } from './values-view.js';
import { WorkerClient } from './worker-client.js';

function showDevice(page: PageShell, { gpu, problem, timestamps }: Device): void {
  renderAdapter(byId('adapter-root'), gpu, problem);
  byId('adapter-summary').textContent = gpu ? `${adapterSummary(gpu)}${timestamps ? '' : ' · no timestamp-query'}` : 'WebGPU unavailable';
  byId<HTMLButtonElement>('time-button').disabled = !gpu;
  if (!gpu) byId('adapter-summary').classList.add('error');
  void gpu?.lost.then((info) => {
    if (info.reason !== 'destroyed') page.showError(new Error(`The WebGPU device was lost (${info.message || info.reason}). Reload the page.`));
  });
}

async function start(): Promise<void> {
  // The bundle's evaluation was a task: what follows starts a new one.
  await nextTask();
  // The remembered pane sizes and the phone's tabs first, before the editor's chunk loads: the page never shows the default layout and then jumps.
  const bus = new PageBus();
  measured('install panes', () => installLayout({ bus }));
  const shared = await readHash(location.hash);
  const example = shared && 'example' in shared ? EXAMPLES.find((e) => e.id === shared.example) : undefined;
  const code = shared && 'code' in shared ? shared.code : (example ?? DEFAULT_EXAMPLE).code;
  // worker.js sits beside main.js (scripts/playground.ts builds both); this line stays in main.js, so import.meta.url is main.js's.
  const client = new WorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'kiln playground' }));
  const device = acquireDevice();
  // The first compile starts now: the worker loads and compiles while the page sets up its editor and views.
  const firstCompile = requestCompile(client, device, { kind: 'code', code }, (stage) => (byId('status').textContent = `${stage}…`));
  firstCompile.catch(() => undefined); // Its error is shown when the page takes its result (PageShell.compile).
  let menu: ExampleMenu | undefined;
  let profiling: Profiling | undefined;
  // Tasks of their own (the editor's setup is the longest): no long task, and the page paints in between.
  // CodeMirror is a chunk of its own, loaded while the worker starts: main.js evaluates sooner, and the page paints first.
  const [{ CodeEditor }, { warmUpParser }] = await Promise.all([import('./editor.js'), import('./editor-warmup.js')]);
  // Evaluating the chunk was a task; the JavaScript parser's first run (its tables, its code's first compile) is the next.
  await nextTask();
  measured('warm up the parser', () => warmUpParser(code));
  await nextTask();
  const editor = measured('set up the editor', () => new CodeEditor(byId('editor'), code, { onRun: () => void page.compile(), onChange: (text) => menu?.rememberInUrl(text) }));
  await nextTask();
  const page: PageShell = new PageShell(bus, client, editor, device, () => void profiling?.timeKernels());
  // Each feature is set up in a task of its own, measured (`kiln: install …`), so none adds to another's.
  const features: readonly [string, () => void][] = [
    ['graph', () => installGraphView(page)],
    ['run', () => installRunActions(page)],
    ['profiling', () => (profiling = installProfiling(page))],
    ['values', () => installValues(page)],
    ['onnx', () => installOnnxDrop(page)],
    ['examples', () => (menu = installExampleMenu(page))],
    ['source links', () => installSourceLinks(page)],
  ];
  for (const [name, install] of features) {
    measured(`install ${name}`, install);
    await nextTask();
  }
  menu!.showInMenu(shared && 'code' in shared ? undefined : (example ?? DEFAULT_EXAMPLE).id);
  Array.from(document.querySelectorAll<HTMLElement>('.tabs')).forEach(enableTabs);
  void device.then((found) => showDevice(page, found));
  page.adoptCompile(code, firstCompile);
  await nextTask();
  await page.compile();
}

void start();
