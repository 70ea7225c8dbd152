import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { decodeBenchData, encodeBenchData } from '../../bench/data-format.js';
import type { BenchResults } from '../../bench/report.js';
import { renderMarkdown } from '../../bench/report.js';
import { DEFAULT_SYSTEMS } from '../../bench/systems/index.js';
import { AGREEMENT_TOLERANCE, WORKLOADS } from '../../bench/workloads.js';
import { ROOT } from '../../scripts/build.mjs';

describe('the benchmark harness (npm run bench)', () => {
  describe('--quick, end to end in headless Chromium', function () {
    this.timeout(120_000);
    let out: string;
    let results: BenchResults;
    let markdown: string;

    before(async () => {
      out = await mkdtemp(join(tmpdir(), 'kiln-bench-test-'));
      await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { cwd: ROOT, timeout: 110_000 });
      const files = await readdir(out);
      const json = files.find((f) => f.endsWith('.json'));
      expect(files).to.include('latest.md');
      expect(json, `files written: ${files.join(', ')}`).to.match(/^\d{4}-\d{2}-\d{2}\.json$/);
      results = JSON.parse(await readFile(join(out, json!), 'utf8')) as BenchResults;
      markdown = await readFile(join(out, 'latest.md'), 'utf8');
    });
    after(() => rm(out, { recursive: true, force: true }));

    it('records the run: browser, adapter, versions, settings', () => {
      expect(results).to.include({ schema: 'kiln-bench/1', mode: 'browser', quick: true });
      expect(results.environment.runtime).to.match(/Chrome/);
      expect(results.adapter).to.have.property('vendor');
      expect(results.versions).to.include({ '@tensorflow/tfjs': '4.22.0', '@jax-js/jax': '0.1.25', 'onnxruntime-web': '1.30.0' });
      expect(results.countersInstalled).to.equal(true);
      expect(results.systems.map((s) => s.id)).to.deep.equal([...DEFAULT_SYSTEMS]);
    });

    it('gives every quick workload a result from every system, and kiln measured figures', () => {
      const quick = WORKLOADS.filter((w) => !w.slow).map((w) => w.id);
      expect(results.workloads.map((w) => w.id)).to.deep.equal(quick);
      for (const workload of results.workloads) {
        expect(workload.results.map((r) => r.system).sort(), workload.id).to.deep.equal([...DEFAULT_SYSTEMS].sort());
        const kiln = workload.results.find((r) => r.system === 'kiln')!;
        expect(kiln.status, `${workload.id}: ${kiln.reason}`).to.equal('measured');
        expect(kiln.timesMs).to.have.length(results.settings.iterations);
        expect(kiln.medianMs).to.be.greaterThan(0);
        expect(kiln.firstResultMs).to.be.greaterThan(0);
        expect(kiln.dispatches!.min).to.be.at.least(1);
        expect(kiln.submits).to.deep.equal({ min: 1, max: 1 });
        expect(kiln.peakGpuBytes).to.be.greaterThan(0);
      }
    });

    it('shows that every system that ran computed the same thing as kiln', () => {
      for (const workload of results.workloads) {
        expect(workload.reference).to.equal('kiln');
        for (const result of workload.results.filter((r) => r.status === 'measured')) {
          expect(result.relativeDifference, `${workload.id}, ${result.system}`).to.be.at.most(AGREEMENT_TOLERANCE);
        }
      }
      const train = results.workloads.find((w) => w.id === 'mlp-train')!;
      const steps = 1 + results.settings.warmup + results.settings.iterations;
      for (const result of train.results.filter((r) => r.status === 'measured')) expect(result.losses).to.have.length(steps);
    });

    it('writes the Markdown tables, the pending workloads listed', () => {
      expect(markdown).to.contain('| workload | kiln WebGPU | TF.js WebGPU |');
      expect(markdown).to.contain("## kiln's time as a multiple of each peer's");
      expect(markdown).to.contain('pending: conv/attention ops (issue 8)');
    });
  });

  it('shows a figure that was not measured as such, never as zero', () => {
    const results: BenchResults = {
      schema: 'kiln-bench/1',
      date: '2026-01-01T00:00:00.000Z',
      mode: 'browser',
      quick: false,
      settings: { warmup: 1, iterations: 2, workloads: ['mlp-infer'] },
      environment: { runtime: 'Chrome/1', node: 'v20', platform: 'linux', cpus: 2, cpuModel: 'cpu' },
      adapter: { vendor: 'google', architecture: 'swiftshader', description: '', software: true },
      versions: { kiln: '0.1.0' },
      countersInstalled: true,
      systems: [
        { id: 'kiln', label: 'kiln WebGPU', processor: 'gpu', packages: ['kiln'], gpuBytes: { source: 'plan' } },
        { id: 'cpu-peer', label: 'CPU peer', processor: 'cpu', packages: [], gpuBytes: { notMeasured: 'runs on the CPU' } },
        { id: 'broken', label: 'Broken peer', loadError: 'Error: no backend' },
      ],
      workloads: [
        {
          id: 'mlp-infer',
          label: 'inference',
          reference: 'kiln',
          results: [
            { system: 'kiln', status: 'measured', firstResultMs: 5, timesMs: [1, 2], medianMs: 1.5, minMs: 1, maxMs: 2, dispatches: { min: 3, max: 3 }, submits: { min: 1, max: 1 }, peakGpuBytes: 2048, resultSum: 1, relativeDifference: 0 },
            { system: 'cpu-peer', status: 'measured', firstResultMs: 1, timesMs: [3, 3], medianMs: 3, minMs: 3, maxMs: 3, dispatches: null, submits: null, peakGpuBytes: null, resultSum: 1, relativeDifference: 0.5 },
          ],
        },
      ],
      pending: [],
    };
    const markdown = renderMarkdown(results);
    expect(markdown).to.contain('| inference | 3 / 1 | n/a (CPU) | did not start |');
    expect(markdown).to.contain('| inference | 2.05 KB | not measured | did not start |');
    expect(markdown).to.contain('| inference | 0.50× | — |');
    expect(markdown).to.contain('rel. diff 5.0e-1 ✗');
    expect(markdown).to.contain('- Broken peer did not start: Error: no backend');
    expect(markdown).to.contain('- CPU peer: not measured: runs on the CPU');
  });

  it('sends the data to the page unchanged', () => {
    const data = {
      mlpParams: { 'fc1.w': new Float32Array([1, -2.5]), 'fc1.b': new Float32Array([3]) },
      batches: [{ images: new Float32Array([0.5, 0.25]), labels: new Int32Array([7]) }],
      matmuls: { 'matmul-512': { a: new Float32Array([1]), b: new Float32Array([2, 3]) } },
    };
    const { index, bytes } = encodeBenchData(data);
    const decoded = decodeBenchData(index, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(decoded).to.deep.equal(data);
  });
});
