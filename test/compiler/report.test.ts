import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { memoryReport } from '../../compiler/memory.js';
import { programOf } from '../../compiler/passes/program.js';
import { simplify } from '../../compiler/passes/simplify.js';
import { compileReport } from '../../compiler/report.js';
import { printReport } from '../../compiler/report-print.js';
import type { CompileReport, EntryReport } from '../../compiler/report.js';
import type { Plan } from '../../compiler/plan-format.js';
import { verify } from '../../compiler/verify.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';

const entry = (report: CompileReport, name: string): EntryReport => report.entries.find((e) => e.name === name)!;

describe('compileReport', () => {
  let plan: Plan;
  let report: CompileReport;
  let trainStep: EntryReport;
  before(() => {
    ({ plan, report } = compileReport(seedMlp({ batch: 128 })));
    trainStep = entry(report, 'trainStep');
  });

  it('reports every entry of the plan in the plan’s order, with its dispatches in dispatch order', () => {
    expect(report.entries.map((e) => e.name)).to.deep.equal(Object.keys(plan.entries));
    for (const e of report.entries) expect(e.kernels.map((k) => k.kernel)).to.deep.equal(plan.entries[e.name]!.dispatches);
    expect(trainStep.kernels.map((k) => k.position)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('names the fusion rule of each of the seed MLP’s 10 trainStep kernels', () => {
    expect(trainStep.kernels.map((k) => k.kind)).to.deep.equal([
      'epilogue', // fc1: matmul + bias + relu
      'epilogue', // fc2
      'epilogue', // fc3: logits
      'row', // softmax cross-entropy and its gradient
      'single', // the mean loss
      'epilogue', // fc3 input gradient + relu mask
      'epilogue', // fc2 input gradient + relu mask
      'sibling', // fc3 weight and bias gradients and their momentum updates
      'sibling', // fc2
      'sibling', // fc1
    ]);
    for (const k of trainStep.kernels) expect(k.reason, k.name).to.match(k.kind === 'single' ? /^\w+: / : new RegExp(`^${k.kind} fusion: `));
  });

  it('marks init kernels as init and says what each fills', () => {
    const init = entry(report, 'init');
    expect(init.kernels.every((k) => k.kind === 'init')).to.equal(true);
    // 12 buffers, 8 per kernel (WebGPU's minimum storage-buffer limit): two kernels.
    expect(init.kernels.map((k) => k.reason)).to.deep.equal([
      'fills param fc1.kernel (linearDefault), param fc1.bias (linearDefault), param fc2.kernel (linearDefault), param fc2.bias (linearDefault), ' +
        'param fc3.kernel (linearDefault), param fc3.bias (linearDefault), state fc1.kernel.momentum (zeros), state fc1.bias.momentum (zeros) with their initializers',
      'fills state fc2.kernel.momentum (zeros), state fc2.bias.momentum (zeros), state fc3.kernel.momentum (zeros), state fc3.bias.momentum (zeros) with their initializers',
    ]);
  });

  it('names each kernel’s ops by node ids of the simplified graph it prints', () => {
    const simplified = simplify(programOf(seedMlp({ batch: 128 }))).graph;
    verify(simplified);
    expect(report.graph).to.equal(simplified.toString());
    for (const k of trainStep.kernels) {
      for (const { op, node } of k.ops) expect(simplified.node(node).op, `${k.name} %${node}`).to.equal(op);
    }
    expect(trainStep.kernels[0]!.ops.map((o) => o.op)).to.deep.equal(['matmul', 'add', 'relu']);
  });

  it('gives each kernel its WGSL, workgroups and workgroup size', () => {
    for (const k of trainStep.kernels) {
      expect(k.wgsl).to.equal(plan.kernels[k.kernel]!.wgsl);
      expect(k.workgroups).to.deep.equal(plan.kernels[k.kernel]!.workgroups);
      expect(k.wgsl).to.include(`@workgroup_size(${k.workgroupSize![0]}`);
    }
  });

  it('lists each binding with its buffer, role, bytes and the access its WGSL declares', () => {
    const first = trainStep.kernels[0]!;
    expect(first.bindings.map((b) => [b.binding, b.name, b.role, b.access])).to.deep.equal([
      [0, 'images', 'input', 'read'],
      [1, 'fc1.kernel', 'param', 'read'],
      [2, 'fc1.bias', 'param', 'read'],
      [3, '%10', 'transient', 'read_write'],
    ]);
    expect(first.bindings[0]!.bytes).to.equal(128 * 784 * 4);
    // The last kernel updates fc1's weight, bias and their momenta in place: it writes them.
    const last = trainStep.kernels[9]!;
    expect(last.bindings.filter((b) => b.access === 'read_write').map((b) => b.name)).to.have.members(['fc1.kernel', 'fc1.bias', 'fc1.kernel.momentum', 'fc1.bias.momentum']);
  });

  it('gives each buffer the entry touches its first and last position, matching the dispatches that bind it', () => {
    const n = trainStep.kernels.length;
    for (const b of trainStep.buffers.filter((b) => b.role === 'transient')) {
      const binders = trainStep.kernels.filter((k) => k.bindings.some((binding) => binding.buffer === b.buffer)).map((k) => k.position);
      expect(b.first, b.name).to.equal(binders[0]);
      const readAfter = Object.values(trainStep.outputs).includes(b.buffer) || trainStep.inPlace.some((u) => u.from === b.buffer);
      expect(b.last, b.name).to.equal(readAfter ? n : binders[binders.length - 1]);
    }
    const images = trainStep.buffers.find((b) => b.name === 'images')!;
    expect([images.first, images.last]).to.deep.equal([-1, 9]);
    expect(trainStep.buffers.find((b) => b.name === 'fc1.kernel')).to.include({ first: -1, last: n });
  });

  it('leaves out of an entry the buffers it never touches', () => {
    const names = entry(report, 'forward').buffers.map((b) => b.name);
    expect(names).to.include.members(['images', 'fc1.kernel', '%15']);
    expect(names).to.not.include('fc1.kernel.momentum');
    expect(names).to.not.include('labels');
  });

  it('never shares an allocation between buffers live at the same time', () => {
    for (const e of report.entries) {
      for (const a of e.buffers) {
        for (const b of e.buffers) {
          if (a.buffer < b.buffer && a.allocation === b.allocation) expect(a.last < b.first || b.last < a.first, `${a.name} and ${b.name}`).to.equal(true);
        }
      }
    }
  });

  it('reports peak against naive transient memory as the memory planner measures it', () => {
    expect(report.memory).to.deep.include(memoryReport(plan));
    expect(report.memory.peakTransientBytes).to.be.at.most(report.memory.naiveTransientBytes);
    expect(report.memory.buffers).to.equal(plan.buffers.length);
    expect(report.memory.allocations).to.equal(plan.allocations!.length);
  });

  it('is plain data: it survives a JSON round trip', () => {
    expect(JSON.parse(JSON.stringify(report))).to.deep.equal(report);
  });

  it('reports an unfused compile as one single-op kernel per dispatch', () => {
    const unfused = compileReport(seedMlp({ batch: 128 }), { fuse: false }).report;
    const kernels = entry(unfused, 'trainStep').kernels;
    expect(unfused.stages).to.deep.equal({ simplify: true, fuse: false, memory: true });
    expect(kernels.length).to.be.greaterThan(10);
    expect(kernels.every((k) => k.kind === 'single' && k.ops.length === 1 && k.reason === `${k.ops[0]!.op}: unfused`)).to.equal(true);
  });

  it('prints the unsimplified graph when simplification is off', () => {
    const g = new Graph('tiny');
    const x = g.input('x', [4]);
    g.output('y', x.mul(1).add(x.neg().neg()));
    const { report: raw } = compileReport(g, { simplify: false });
    expect(raw.graph).to.equal(g.toString());
    expect(entry(raw, 'forward').kernels).to.have.length(1);
    expect(entry(raw, 'forward').kernels[0]!.kind).to.equal('loop');
  });
});

describe('printReport', () => {
  let report: CompileReport;
  let text: string;
  let lines: string[];
  before(() => {
    report = compileReport(seedMlp({ batch: 128 })).report;
    text = printReport(report);
    lines = text.split('\n');
  });

  it('starts with the stages, dispatch counts and transient memory', () => {
    const { naiveTransientBytes: naive, peakTransientBytes: peak } = report.memory;
    expect(lines[0]).to.equal('report seed_mlp (simplify, fuse, memory)');
    expect(lines[1]).to.equal('  dispatches  init 2, forward 3, trainStep 10');
    expect(lines[2]).to.match(new RegExp(`^  transient   naive ${naive} B, peak ${peak} B \\(\\d+\\.\\d% of naive\\), allocated \\d+ B`));
  });

  it('prints the simplified graph', () => {
    expect(lines).to.include('graph (simplified)');
    expect(lines).to.include('  graph seed_mlp {');
    expect(lines).to.include('    let   %8:f32[128,128] = matmul images fc1.kernel');
  });

  it('prints each trainStep dispatch with its kind, reason, ops and bindings', () => {
    const start = lines.indexOf('entry trainStep: 10 dispatches');
    expect(start).to.be.greaterThan(0);
    const kernel = lines.slice(start).findIndex((line) => /^  0  k8_matmul\w*\s+epilogue\s+workgroups \d+×1×1 of \d+$/.test(line));
    expect(kernel, 'the first dispatch line').to.be.greaterThan(0);
    expect(lines.slice(start + kernel + 1, start + kernel + 7)).to.deep.equal([
      '     why    epilogue fusion: add, relu applied as matmul stores each element',
      '     ops    matmul %8, add %9, relu %10',
      '     binds  @0 read #12 images (input, 401408 B)',
      '            @1 read #0 fc1.kernel (param, 401408 B)',
      '            @2 read #1 fc1.bias (param, 512 B)',
      '            @3 write #13 %10 (transient, 65536 B)',
    ]);
    expect(lines.slice(start).some((line) => /^  3  k\d+_rows\s+row\s+workgroups/.test(line))).to.equal(true);
    expect(lines.slice(start).filter((line) => /^  [7-9]  k\d+_matmul\w*\s+sibling\s+workgroups/.test(line))).to.have.length(3);
  });

  it('draws each buffer’s lifetime over before, the dispatches and after', () => {
    expect(lines).to.include('  buffers (live: before the pass, dispatches 0…9, after it)');
    const images = lines.filter((line) => /^\s+#12\s+images\s+input/.test(line));
    expect(images.at(-1)).to.match(/  ███████████·  before … 9$/);
    const loss = lines.find((line) => /^\s+#\d+\s+%24\s+transient\s+f32\[\]/.test(line));
    expect(loss).to.match(/  ·····███████  4 … after$/);
  });

  it('prints WGSL only when asked', () => {
    const count = (s: string): number => s.split('@compute').length - 1;
    expect(count(text)).to.equal(0);
    const kernels = report.entries.reduce((n, e) => n + e.kernels.length, 0);
    expect(count(printReport(report, { wgsl: true }))).to.equal(kernels);
  });

  it('leaves the graph out when asked', () => {
    expect(printReport(report, { graph: false })).to.not.include('graph seed_mlp {');
  });
});
