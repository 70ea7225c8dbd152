/**
 * The results file's shape, and its Markdown rendering (bench/results/latest.md): one
 * table per figure, systems as columns, and every figure that was not measured shown as
 * such with its reason, never as zero.
 */

import type { AdapterInfo, BenchSettings, HarnessOutput, Range, SystemInfo, SystemResult, WorkloadResult } from './harness.js';
import { AGREEMENT_TOLERANCE } from './workloads.js';

export interface BenchResults {
  readonly schema: 'kiln-bench/2';
  /** ISO time the run started. */
  readonly date: string;
  readonly mode: 'browser' | 'node';
  readonly quick: boolean;
  readonly settings: BenchSettings;
  readonly environment: {
    /** `HeadlessChrome/156…` in the browser, `Node v20… + Dawn (webgpu …)` in Node. */
    readonly runtime: string;
    readonly userAgent?: string;
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
  };
  readonly adapter: HarnessOutput['adapter'];
  /** Installed versions of kiln and every peer package. */
  readonly versions: Readonly<Record<string, string>>;
  readonly countersInstalled: boolean;
  /** Whether the benchmark page was cross-origin isolated (browser runs only). */
  readonly crossOriginIsolated?: boolean;
  readonly systems: readonly SystemInfo[];
  readonly workloads: readonly WorkloadResult[];
}

const NOT_RUN = '—';
/** A workload a system does not implement; the notes say why. */
const NOT_MEASURED = 'not measured';

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  return `${ms < 1 ? ms.toFixed(2) : ms.toPrecision(3)} ms`;
}

function formatRange(range: Range | null | undefined): string {
  if (!range) return 'not measured';
  return range.min === range.max ? `${range.min}` : `${range.min}–${range.max}`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  return `${(bytes / 1e3).toPrecision(3)} KB`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A cell for each run system; unsupported and failed systems get a short mark explained in the notes. */
function cells(results: BenchResults, workload: WorkloadResult, measured: (result: SystemResult) => string): string[] {
  return results.systems.map((system) => {
    const result = workload.results.find((r) => r.system === system.id);
    if (!result) return system.loadError ? 'did not start' : NOT_RUN;
    if (result.status === 'unsupported') return NOT_MEASURED;
    if (result.status === 'skipped') return 'skipped (--quick)';
    if (result.status === 'failed') return 'failed';
    return measured(result);
  });
}

function timeCell(workload: WorkloadResult) {
  return (r: SystemResult): string => {
    const time = `${formatMs(r.medianMs!)} (${formatMs(r.minMs!)}–${formatMs(r.maxMs!)})`;
    return workload.flops ? `${(workload.flops / r.medianMs! / 1e6).toPrecision(3)} GFLOP/s, ${time}` : time;
  };
}

function ratioCell(kiln: number | undefined, peer: number | undefined): string {
  return kiln === undefined || peer === undefined ? NOT_RUN : `${(kiln / peer).toFixed(2)}×`;
}

function adapterLine(adapter: BenchResults['adapter']): string {
  if ('error' in adapter) return `no adapter (${adapter.error})`;
  const info = adapter as AdapterInfo;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
  return `${name}${info.software ? ' (software: runs on the CPU)' : ''}`;
}

export function renderMarkdown(results: BenchResults): string {
  const systems = results.systems;
  const header = (first: string): string[] => [first, ...systems.map((s) => s.label)];
  const { environment: env, settings } = results;
  const sections: string[] = [
    `# kiln benchmark results${results.quick ? ' (--quick smoke run: too few iterations to quote)' : ''}`,
    [
      `- date: ${results.date}; ${results.mode === 'browser' ? 'headless Chromium' : 'Node on Dawn'}: ${env.runtime}`,
      `- adapter: ${adapterLine(results.adapter)}; machine: ${env.cpus} × ${env.cpuModel}, ${env.platform}`,
      `- versions: ${Object.entries(results.versions).map(([name, version]) => `${name} ${version}`).join(', ')}`,
      `- ${settings.iterations} timed iterations after ${settings.warmup} warm-up, systems interleaved; every iteration ends by reading its result back`,
      ...results.workloads.filter((w) => w.capped).map((w) => `- ${w.label}: ${w.iterations} timed iterations after ${w.warmup} warm-up, because ${w.capped}`),
      ...(results.crossOriginIsolated === undefined
        ? []
        : [`- page cross-origin isolated (COOP same-origin, COEP require-corp: SharedArrayBuffer, so WebAssembly threads): ${results.crossOriginIsolated ? 'yes' : 'no'}`]),
      ...systems.filter((s) => s.threads).map((s) => `- ${s.label} threads: ${s.threads}`),
    ].join('\n'),
  ];

  sections.push('## Time per iteration: median (min–max)', table(header('workload'), results.workloads.map((w) => [w.label, ...cells(results, w, timeCell(w))])));

  sections.push(
    '## Dispatches / submits per iteration',
    table(
      header('workload'),
      results.workloads.map((w) => [w.label, ...cells(results, w, (r) => (r.dispatches === null ? 'n/a (CPU)' : `${formatRange(r.dispatches)} / ${formatRange(r.submits)}`))]),
    ),
  );
  sections.push(
    '## First result: build, compile and first iteration, read back',
    table(header('workload'), results.workloads.map((w) => [w.label, ...cells(results, w, (r) => formatMs(r.firstResultMs!))])),
    'Only the first workload (the MLP training step) starts cold; later ones may reuse kernels a library cached in an earlier workload.',
  );
  sections.push(
    '## Peak GPU bytes',
    table(header('workload'), results.workloads.map((w) => [w.label, ...cells(results, w, (r) => (r.peakGpuBytes === null || r.peakGpuBytes === undefined ? 'not measured' : formatBytes(r.peakGpuBytes)))])),
    systems.map((s) => `- ${s.label}: ${!s.gpuBytes ? 'did not start' : 'source' in s.gpuBytes ? s.gpuBytes.source : `not measured: ${s.gpuBytes.notMeasured}`}`).join('\n'),
  );

  const peers = systems.filter((s) => s.id !== 'kiln');
  if (systems.some((s) => s.id === 'kiln')) {
    const find = (w: WorkloadResult, id: string): SystemResult | undefined => w.results.find((r) => r.system === id && r.status === 'measured');
    const rows = results.workloads.flatMap((w) => [
      [w.label, ...peers.map((p) => ratioCell(find(w, 'kiln')?.medianMs, find(w, p.id)?.medianMs))],
      ...(w.id === results.workloads[0]!.id ? [[`first result of ${w.label}`, ...peers.map((p) => ratioCell(find(w, 'kiln')?.firstResultMs, find(w, p.id)?.firstResultMs))]] : []),
    ]);
    sections.push("## kiln's time as a multiple of each peer's (median; below 1× kiln is faster)", table(['workload', ...peers.map((p) => p.label)], rows));
  }

  sections.push(
    '## Do they compute the same thing?',
    table(
      header('workload'),
      results.workloads.map((w) => [
        w.label,
        ...cells(results, w, (r) => {
          const value = r.losses ? `loss ${r.losses[r.losses.length - 1]!.toFixed(5)} after ${r.losses.length} steps` : `sum ${r.resultSum!.toPrecision(7)}`;
          const difference = r.system === w.reference ? 'reference' : `rel. diff ${r.relativeDifference!.toExponential(1)}${r.relativeDifference! > AGREEMENT_TOLERANCE ? ' ✗' : ''}`;
          return `${value}, ${difference}`;
        }),
      ]),
    ),
    `rel. diff: max |values − reference| / max |reference| over every step's loss (training) or the last output (logits, product); ✗ marks more than ${AGREEMENT_TOLERANCE}.`,
  );

  const notes = [
    ...systems.filter((s) => s.loadError).map((s) => `- ${s.label} did not start: ${s.loadError}`),
    ...systems.flatMap((system) => {
      const skipped = results.workloads.flatMap((w) =>
        w.results.filter((r) => r.system === system.id && (r.status === 'unsupported' || r.status === 'skipped')).map((r) => ({ workload: w.label, status: r.status, reason: r.reason ?? '' })),
      );
      const reasons = [...new Set(skipped.map((s) => s.reason))];
      return reasons.map((reason) => {
        const on = skipped.filter((s) => s.reason === reason);
        return `- ${system.label}, ${on[0]!.status === 'skipped' ? 'skipped' : 'not measured'} on ${on.map((s) => s.workload).join('; ')}: ${reason}`;
      });
    }),
    ...results.workloads.flatMap((w) =>
      w.results.filter((r) => r.status === 'failed').map((r) => `- ${w.label}, ${systems.find((s) => s.id === r.system)?.label ?? r.system} failed: ${r.reason}`),
    ),
    ...(results.countersInstalled ? [] : ['- dispatches and submits: not measured (this WebGPU has no GPUQueue class to wrap)']),
  ];
  if (notes.length) sections.push('## Notes', notes.join('\n'));
  return `${sections.join('\n\n')}\n`;
}
