import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { USAGE } from '../../scripts/kiln-cli.js';
import { cli } from './run-cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = 'test/scripts/inspect-fixture.ts';

describe('kiln CLI', () => {
  it('runs as bin/kiln.mjs: `kiln inspect seed-mlp` prints the report of the training program', async function () {
    this.timeout(30_000);
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'kiln.mjs'), 'inspect', 'seed-mlp'], { cwd: ROOT });
    const lines = stdout.split('\n');
    expect(lines[0]).to.equal('report seed_mlp (simplify, fuse, memory)');
    expect(lines).to.include('entry trainStep: 10 dispatches');
    expect(lines.filter((line) => /^  \d  k\d+_\w+\s+(epilogue|row|single|sibling|loop|input)\s+workgroups/.test(line)).length).to.equal(3 + 10);
  });

  it('prints the report as JSON with --json', async () => {
    const { status, out } = await cli('inspect', 'seed-mlp-forward', '--json');
    expect(status).to.equal(0);
    const report = JSON.parse(out) as { entries: { name: string; kernels: unknown[] }[]; graph: string };
    expect(report.entries.map((e) => [e.name, e.kernels.length])).to.deep.equal([
      ['init', 2],
      ['forward', 3],
    ]);
    // The forward example is the graph without its training updates.
    expect(report.graph).to.not.include('assign');
  });

  it('adds every kernel’s WGSL with --wgsl, and compiles one kernel per op with --unfused', async () => {
    const fused = await cli('inspect', 'seed-mlp', '--wgsl');
    expect(fused.out.split('@compute').length - 1).to.equal(2 + 3 + 10);
    const unfused = await cli('inspect', 'seed-mlp', '--unfused');
    expect(unfused.out.split('\n')[0]).to.equal('report seed_mlp (simplify, no fuse, memory)');
    expect(unfused.out).to.not.include('entry trainStep: 10 dispatches');
  });

  it('prints one stage with --stage: the fusion groups of each entry, or the graph after simplification', async () => {
    const fusion = await cli('inspect', 'seed-mlp', '--stage', 'fusion');
    expect(fusion.status).to.equal(0);
    expect(fusion.out.split('\n')).to.include.members(['entry forward: 3 groups', 'entry trainStep: 10 groups']);
    expect(fusion.out).to.include('in place: ');
    const simplified = await cli('inspect', 'seed-mlp', '--stage', 'simplified');
    expect(simplified.out).to.match(/^entry trainStep \(train\): outputs loss = %\d+; updates fc1\.kernel\.momentum/m);
  });

  it('refuses a --stage that does not exist, listing the stages', async () => {
    const { status, err } = await cli('inspect', 'seed-mlp', '--stage', 'lowering');
    expect(status).to.equal(2);
    expect(err).to.include("--stage takes one of written, specialized, simplified, fusion, kernels, memory, plan, got 'lowering'");
    expect((await cli('inspect', 'seed-mlp', '--stage')).err).to.include('--stage takes one of');
  });

  it('inspects a module given by path whose default export builds a graph', async () => {
    const { status, out } = await cli('inspect', FIXTURE);
    expect(status).to.equal(0);
    expect(out).to.include('report scale_and_shift (simplify, fuse, memory)');
    expect(out).to.match(/^  0  k\d+_fused\s+loop\s+workgroups 1×1×1 of \d+$/m);
  });

  it('prints the usage with no arguments or --help', async () => {
    expect(await cli()).to.deep.equal({ status: 0, out: USAGE, err: '' });
    expect((await cli('inspect', 'seed-mlp', '--help')).out).to.equal(USAGE);
  });

  it('rejects an unknown example, command or option with exit status 2 and the usage', async () => {
    const unknown = await cli('inspect', 'resnet');
    expect(unknown.status).to.equal(2);
    expect(unknown.err).to.equal(`kiln: no example named 'resnet' (examples: seed-mlp, seed-mlp-forward, lenet, char-transformer)\n\n${USAGE}`);
    expect((await cli('explain', 'seed-mlp')).err).to.match(/^kiln: unknown command 'explain'/);
    expect((await cli('inspect', 'seed-mlp', '--fast')).err).to.match(/^kiln: unknown option --fast/);
  });

  it('rejects a module whose default export is not a graph, with exit status 2', async () => {
    const { status, err } = await cli('inspect', 'test/helpers.ts');
    expect(status).to.equal(2);
    expect(err).to.match(/^kiln: test\/helpers\.ts: the default export must be a Graph or a TrainingProgram .*, got no default export\n/);
  });

  it('fails with exit status 1 when the module cannot be loaded', async () => {
    const { status, err } = await cli('inspect', 'test/scripts/no-such-module.ts');
    expect(status).to.equal(1);
    expect(err).to.match(/^kiln: .*no-such-module/);
  });
});
