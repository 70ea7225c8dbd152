import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { decodeBenchData, encodeBenchData, lenetBatch } from '../../bench/data-format.js';
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
      expect(results).to.include({ schema: 'kiln-bench/2', mode: 'browser', quick: true });
      expect(results.environment.runtime).to.match(/Chrome/);
      expect(results.adapter).to.have.property('vendor');
      expect(results.versions).to.include({ '@tensorflow/tfjs': '4.22.0', '@jax-js/jax': '0.1.25', 'onnxruntime-web': '1.30.0' });
      expect(results.countersInstalled).to.equal(true);
      expect(results.systems.map((s) => s.id)).to.deep.equal([...DEFAULT_SYSTEMS]);
    });

    it('serves the page cross-origin isolated and records the WebAssembly peers\' threads', () => {
      expect(results.crossOriginIsolated).to.equal(true);
      for (const id of ['tfjs-wasm', 'jax-wasm', 'ort-webgpu']) {
        expect(results.systems.find((s) => s.id === id)!.threads, id).to.match(/^\d+ /);
      }
      expect(markdown).to.contain('- page cross-origin isolated (COOP same-origin, COEP require-corp: SharedArrayBuffer, so WebAssembly threads): yes');
      expect(markdown).to.match(/- TF\.js wasm \(CPU\) threads: \d+ \(getThreadsCount\(\), the threaded build/);
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
      const steps = 1 + results.settings.warmup + results.settings.iterations;
      for (const id of ['mlp-train', 'lenet-train', 'transformer-block']) {
        const measured = results.workloads.find((w) => w.id === id)!.results.filter((r) => r.status === 'measured');
        expect(measured.map((r) => r.system), id).to.include.members(['kiln', 'jax-webgpu', 'jax-wasm']);
        for (const result of measured) expect(result.losses, `${id}, ${result.system}`).to.have.length(steps);
      }
    });

    it('says why a system is not measured on a workload, and what --quick left out', () => {
      const result = (workload: string, system: string) => results.workloads.find((w) => w.id === workload)!.results.find((r) => r.system === system)!;
      expect(result('lenet-train', 'tfjs-wasm')).to.deep.include({ status: 'unsupported' });
      expect(result('lenet-train', 'tfjs-wasm').reason).to.contain('no Conv2DBackpropFilter kernel');
      expect(result('transformer-block', 'tfjs-wasm').status).to.equal('measured');
      for (const workload of ['lenet-train', 'transformer-block']) {
        expect(result(workload, 'tfjs-webgpu').status, workload).to.equal('skipped');
        expect(result(workload, 'tfjs-webgpu').reason, workload).to.match(/^left out of --quick runs: /);
      }
      expect(markdown).to.match(/\| LeNet-style CNN train step, batch 64 \| [^|]+ \| skipped \(--quick\) \| [^|]+ \| not measured \| not measured \|/);
      expect(markdown).to.contain('- TF.js wasm (CPU), not measured on LeNet-style CNN train step, batch 64: tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel');
    });

    it('writes the Markdown tables', () => {
      expect(markdown).to.contain('| workload | kiln WebGPU | TF.js WebGPU |');
      expect(markdown).to.contain("## kiln's time as a multiple of each peer's");
    });
  });

  it('shows a figure that was not measured as such, never as zero', () => {
    const results: BenchResults = {
      schema: 'kiln-bench/2',
      date: '2026-01-01T00:00:00.000Z',
      mode: 'browser',
      quick: false,
      settings: { warmup: 1, iterations: 2, workloads: ['mlp-infer'] },
      environment: { runtime: 'Chrome/1', node: 'v20', platform: 'linux', cpus: 2, cpuModel: 'cpu' },
      adapter: { vendor: 'google', architecture: 'swiftshader', description: '', software: true },
      versions: { kiln: '0.1.0' },
      countersInstalled: true,
      crossOriginIsolated: false,
      systems: [
        { id: 'kiln', label: 'kiln WebGPU', processor: 'gpu', packages: ['kiln'], gpuBytes: { source: 'plan' } },
        { id: 'cpu-peer', label: 'CPU peer', processor: 'cpu', packages: [], gpuBytes: { notMeasured: 'runs on the CPU' }, threads: '1 (no SharedArrayBuffer)' },
        { id: 'broken', label: 'Broken peer', loadError: 'Error: no backend' },
      ],
      workloads: [
        {
          id: 'mlp-infer',
          label: 'inference',
          warmup: 1,
          iterations: 2,
          reference: 'kiln',
          results: [
            { system: 'kiln', status: 'measured', firstResultMs: 5, timesMs: [1, 2], medianMs: 1.5, minMs: 1, maxMs: 2, dispatches: { min: 3, max: 3 }, submits: { min: 1, max: 1 }, peakGpuBytes: 2048, resultSum: 1, relativeDifference: 0 },
            { system: 'cpu-peer', status: 'measured', firstResultMs: 1, timesMs: [3, 3], medianMs: 3, minMs: 3, maxMs: 3, dispatches: null, submits: null, peakGpuBytes: null, resultSum: 1, relativeDifference: 0.5 },
          ],
        },
        {
          id: 'lenet-train',
          label: 'cnn',
          warmup: 0,
          iterations: 1,
          capped: 'its peer is slow',
          reference: 'kiln',
          results: [
            { system: 'kiln', status: 'skipped', reason: 'left out of --quick runs: slow' },
            { system: 'cpu-peer', status: 'unsupported', reason: 'no conv gradient' },
          ],
        },
        { id: 'transformer-block', label: 'block', warmup: 1, iterations: 2, results: [{ system: 'cpu-peer', status: 'unsupported', reason: 'no conv gradient' }] },
      ],
    };
    const markdown = renderMarkdown(results);
    expect(markdown).to.contain('| inference | 3 / 1 | n/a (CPU) | did not start |');
    expect(markdown).to.contain('| inference | 2.05 KB | not measured | did not start |');
    expect(markdown).to.contain('| inference | 0.50× | — |');
    expect(markdown).to.contain('rel. diff 5.0e-1 ✗');
    expect(markdown).to.contain('- Broken peer did not start: Error: no backend');
    expect(markdown).to.contain('- CPU peer: not measured: runs on the CPU');
    expect(markdown).to.contain('| cnn | skipped (--quick) | not measured | did not start |');
    expect(markdown).to.contain('- CPU peer, not measured on cnn; block: no conv gradient');
    expect(markdown).to.contain('- kiln WebGPU, skipped on cnn: left out of --quick runs: slow');
    expect(markdown).to.contain('- page cross-origin isolated (COOP same-origin, COEP require-corp: SharedArrayBuffer, so WebAssembly threads): no');
    expect(markdown).to.contain('- CPU peer threads: 1 (no SharedArrayBuffer)');
    expect(markdown).to.contain('- cnn: 1 timed iterations after 0 warm-up, because its peer is slow');
    expect(markdown).not.to.contain('- inference: 2 timed');
  });

  it('sends the data to the page unchanged', () => {
    const data = {
      params: {
        mlp: { 'fc1.w': new Float32Array([1, -2.5]), 'fc1.b': new Float32Array([3]) },
        lenet: { 'conv1.w': new Float32Array([4, 5]) },
        block: { 'norm1.gamma': new Float32Array([6]) },
      },
      batches: [{ images: new Float32Array([0.5, 0.25]), labels: new Int32Array([7]) }],
      blockInputs: [new Float32Array([8, 9]), new Float32Array([10])],
      matmuls: { 'matmul-512': { a: new Float32Array([1]), b: new Float32Array([2, 3]) } },
    };
    const { index, bytes } = encodeBenchData(data);
    const decoded = decodeBenchData(index, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(decoded).to.deep.equal(data);
  });

  it('gives LeNet each half of each MLP batch in turn, then starts over', () => {
    const pixels = 784;
    const batches = [0, 1].map((b) => ({
      images: Float32Array.from({ length: 128 * pixels }, (_, i) => b * 1e6 + i),
      labels: Int32Array.from({ length: 128 }, (_, i) => b * 1000 + i),
    }));
    const data = { params: { mlp: {}, lenet: {}, block: {} }, batches, blockInputs: [], matmuls: {} };
    const firsts = [0, 1, 2, 3, 4].map((step) => {
      const batch = lenetBatch(data, step);
      expect(batch.images.length, `step ${step}`).to.equal(64 * pixels);
      expect(batch.labels.length, `step ${step}`).to.equal(64);
      expect(batch.images[pixels]! - batch.images[0]!, `step ${step}: image 1 follows image 0`).to.equal(pixels);
      return [batch.labels[0], batch.images[0]];
    });
    expect(firsts).to.deep.equal([[0, 0], [64, 64 * pixels], [1000, 1e6], [1064, 1e6 + 64 * pixels], [0, 0]]);
  });
});
