import { expect } from 'chai';
import { formatCount } from '../../runtime/profile.js';
import { wgslShape } from '../../scripts/kiln-profile.js';
import { compile } from '../../compiler/plan.js';
import { requestDevice } from '../../runtime/device.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { cli } from '../scripts/run-cli.js';

const FIXTURE = 'test/cli/profile-fixture.ts';

/** A kernel row of `kiln profile`: ms, share, GFLOP/s, GB/s, FLOPs, bytes, name. */
const ROW = /^\s*(\d+\.\d{3})\s+(\d+\.\d)%\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(k\d+_\w+) \[/;

describe('kiln profile', () => {
  it('times every kernel of a training step, slowest first, with FLOPs, bytes, GFLOP/s, GB/s and the totals', async function () {
    this.timeout(60_000);
    const { status, out } = await cli('profile', 'seed-mlp');
    expect(status).to.equal(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).to.match(/: seed_mlp trainStep$/);
    expect(lines[1]).to.match(/^\s+ms\s+share\s+GFLOP\/s\s+GB\/s\s+FLOPs\s+bytes\s+kernel \[workgroups\] ops$/);
    const rows = lines.slice(2, -1).map((line) => ROW.exec(line));
    expect(rows).to.have.length(10);
    expect(rows.every((row) => row !== null)).to.equal(true);
    const times = rows.map((row) => Number(row![1]));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    // fc1's forward matmul: 128×784 · 784×128 with its bias and ReLU, and its three bindings and output.
    const fc1 = rows.find((row) => lines.find((line) => line.includes(row![7]!))!.endsWith('matmul add relu') && row![5] === '25.7M');
    expect(fc1, out).to.not.equal(undefined);
    expect(fc1![6]).to.equal(formatCount(4 * (128 * 784 + 784 * 128 + 128 + 128 * 128)));
    expect(lines.at(-1)).to.match(/^\s*\d+\.\d{3} ms total over 10 kernels: \d+(\.\d+)?M FLOPs at \d+\.\d+ GFLOP\/s, \d+(\.\d+)?M bytes at \d+\.\d+ GB\/s$/);
    expect((await cli('profile', 'seed-mlp-forward', '--wgsl')).err).to.match(/^kiln: unknown option --wgsl/);
  });

  it('profiles a symbolic plan at its planning sizes, or at the sizes --dims gives', async function () {
    this.timeout(60_000);
    const planned = await cli('profile', FIXTURE);
    expect(planned.status, planned.err).to.equal(0);
    expect(planned.out.split('\n')[0]).to.match(/: symbolic_linear forward at batch=64$/);
    // matmul 2·64·5·7, bias and ReLU 64·7 each, the row sum 64·7.
    expect(planned.out).to.include(`${formatCount(2 * 64 * 5 * 7 + 3 * 64 * 7)} FLOPs at`);
    const three = await cli('profile', FIXTURE, '--dims', 'batch=3');
    expect(three.out.split('\n')[0]).to.match(/ at batch=3$/);
    expect(three.out).to.include(`${2 * 3 * 5 * 7 + 3 * 3 * 7} FLOPs at`);
    expect((await cli('profile', FIXTURE, '--dims', 'seq=3')).err).to.include("--dims: plan 'symbolic_linear' has no dim seq (its dims: batch)");
    const malformed = await cli('profile', FIXTURE, '--dims', 'batch');
    expect(malformed.status).to.equal(2);
    expect(malformed.err).to.match(/^kiln: --dims takes sizes such as batch=64,seq=8, got 'batch'/);
  });

  it('--compile times each kernel’s pipeline once, slowest first, with its WGSL’s size and shape', async function () {
    this.timeout(60_000);
    const { status, out, err } = await cli('profile', 'seed-mlp', '--compile');
    expect(status, err).to.equal(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).to.match(/: seed_mlp, every kernel's pipeline made alone$/);
    expect(lines[1]).to.match(/^\s+total ms\s+module\s+pipeline\s+bytes\s+lines\s+loops\s+barriers\s+fns\s+unused\s+calls\s+same body\s+kernel ops$/);
    const rows = lines.slice(2, -1).map((line) => /^\s*(\d+\.\d)\s+\d+\.\d\s+\d+\.\d\s+\S+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+×\d+\s+(\w+) /.exec(line));
    expect(rows.every((row) => row !== null), out).to.equal(true);
    // Every kernel of the plan compiled for this adapter (init, forward and trainStep's), each once.
    const gpu = await requestDevice();
    const kernels = new Set(compile(seedMlp({ batch: 128 }), { limits: gpu.limits }).kernels.map((k) => k.name));
    gpu.destroy();
    expect(rows.map((row) => row![2]).sort()).to.deep.equal([...kernels].sort());
    const times = rows.map((row) => Number(row![1]));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    expect(lines.at(-1)).to.match(new RegExp(`^\\s*\\d+\\.\\d ms total over ${kernels.size} kernels, made one at a time; \\d+ distinct bodies`));
  });

  it('reads a WGSL’s shape: size, loops, barriers, helpers and the ones never called, its body without comments', () => {
    const wgsl = ['// kiln kernel k1', 'fn used(x: f32) -> f32 { return x; }', 'fn unused() {}', '@compute @workgroup_size(64) fn main() {', '  for (var i = 0u; i < 4u; i++) { workgroupBarrier(); }', '  let y = used(1.0); // why', '}'].join('\n');
    const shape = wgslShape(wgsl);
    expect({ ...shape, body: undefined }).to.deep.equal({ bytes: wgsl.length, lines: 7, loops: 1, barriers: 1, helpers: 2, unusedHelpers: 1, calls: 1, body: undefined });
    expect(shape.body).to.not.include('kiln kernel');
    expect(wgslShape(`// another header\n${wgsl.split('\n').slice(1).join('\n')}`).body).to.equal(shape.body);
    expect([0, 999, 1000, 25_690_112, 1.5e9].map(formatCount)).to.deep.equal(['0', '999', '1.00K', '25.7M', '1.50G']);
  });
});
