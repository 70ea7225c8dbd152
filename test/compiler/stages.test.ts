import { expect } from 'chai';
import { ancestorsOf } from '../../compiler/graph.js';
import { CompileError } from '../../compiler/errors.js';
import { STAGE_NAMES, compile, compileStages } from '../../compiler/plan.js';
import { compileReport } from '../../compiler/report.js';
import { checkStage } from '../../compiler/stage-checks.js';
import { printStage } from '../../compiler/stages-print.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { leNet } from '../../examples/models/lenet.js';
import { charTransformer } from '../../examples/models/char-transformer.js';
import { dropoutBatchNormMlp as smallDropoutBatchNormMlp } from '../../examples/models/dropout-bn-mlp.js';

/** The replay's dropout + batch norm MLP, small: its entries differ in mode, so the stages differ per entry. */
const dropoutBatchNormMlp = (): TrainingProgram => smallDropoutBatchNormMlp({ batch: 6, features: 5, hidden: 7, classes: 3, rate: 0.5 });

describe('compileStages', () => {
  it('returns every stage in pipeline order, and compile returns its last one', () => {
    const stages = compileStages(seedMlp({ batch: 16 }));
    expect(STAGE_NAMES.every((name) => name in stages)).to.equal(true);
    // The kernel stage is the plan before memory planning: the memory stage's allocations are what tell them apart.
    expect(stages.kernels.allocations).to.equal(undefined);
    expect(stages.plan.allocations).to.deep.equal(stages.memory.allocations);
    expect(stages.memory.allocations.length).to.be.lessThan(stages.plan.buffers.length);
    expect(JSON.stringify(compile(seedMlp({ batch: 16 })))).to.equal(JSON.stringify(stages.plan));
    expect(Object.keys(stages.fusion)).to.deep.equal(['forward', 'trainStep']);
    expect(Object.keys(stages.plan.entries)).to.deep.equal(['init', 'forward', 'trainStep']);
  });

  it('specializes modes per entry: the forward entry of a dropout model draws no random numbers', () => {
    const stages = compileStages(dropoutBatchNormMlp());
    const { graph, entries } = stages.specialized;
    const opsOf = (entry: 'forward' | 'trainStep'): string[] => {
      const program = stages.simplified;
      const groups = stages.fusion[entry]!;
      return groups.flatMap((group) => [...(group.prologue?.nodes ?? []), ...group.nodes].map((id) => program.graph.node(id).op));
    };
    expect(stages.written.graph.nodes.some((n) => n.op === 'modeSelect')).to.equal(true);
    expect(entries['forward']!.mode).to.equal('infer');
    expect(graph.nodes.length).to.be.greaterThan(0);
    // Specialized: nothing the forward entry computes still switches on the mode.
    const forwardNodes = ancestorsOf(graph, Object.values(entries['forward']!.outputs));
    expect(graph.nodes.filter((n) => forwardNodes.has(n.id)).map((n) => n.op)).to.not.include('modeSelect');
    expect(opsOf('forward')).to.not.include('randomUniform');
    expect(opsOf('trainStep')).to.include('randomUniform');
  });

  it('names in every kernel only nodes of the simplified graph that its fusion group computes', () => {
    for (const source of [seedMlp({ batch: 8 }), dropoutBatchNormMlp(), leNet({ batch: 4 })]) {
      const stages = compileStages(source);
      const grouped = new Set(Object.values(stages.fusion).flatMap((groups) => groups.flatMap((g) => [...(g.prologue?.nodes ?? []), ...g.nodes])));
      for (const kernel of stages.plan.kernels) {
        if (kernel.kind === 'init') continue;
        for (const [i, id] of kernel.nodes.entries()) {
          expect(grouped.has(id), `${kernel.name} names %${id}`).to.equal(true);
          expect(stages.simplified.graph.node(id).op).to.equal(kernel.ops[i]);
        }
      }
    }
  });

  it('passes its own checks after every stage for the examples (check: true)', function () {
    this.timeout(60_000);
    for (const source of [seedMlp({ batch: 8 }), dropoutBatchNormMlp(), leNet({ batch: 4 }), charTransformer({ vocab: 11, batch: 2 })]) {
      expect(() => compileStages(source, { check: true })).to.not.throw();
      expect(() => compileStages(source, { check: true, fuse: false, simplify: false, memory: false })).to.not.throw();
    }
  });

  it('reports the stage that broke an invariant: a node in two fusion groups, a group run before its producer', () => {
    const stages = compileStages(seedMlp({ batch: 8 }));
    const groups = stages.fusion['forward']!;
    const doubled = { ...stages.fusion, forward: [...groups, groups[0]!] };
    expect(() => checkStage({ stage: 'fusion', program: stages.simplified, fusion: doubled }))
      .to.throw(CompileError, /the fusion stage broke an invariant .*node %\d+ is in groups 0 and 3/);
    const reversed = { ...stages.fusion, forward: [...groups].reverse() };
    expect(() => checkStage({ stage: 'fusion', program: stages.simplified, fusion: reversed })).to.throw(CompileError, /computes later/);
    const missing = { ...stages.fusion, forward: groups.slice(1) };
    expect(() => checkStage({ stage: 'fusion', program: stages.simplified, fusion: missing })).to.throw(CompileError, /is needed but in no group/);
  });

  it('reports a graph stage whose entry names a node the graph does not have', () => {
    const stages = compileStages(seedMlp({ batch: 8 }));
    const broken = { ...stages.simplified, entries: { forward: { outputs: { logits: 10_000 }, assignments: [] } } };
    expect(() => checkStage({ stage: 'simplified', program: broken })).to.throw(CompileError, /output 'logits' names node %10000/);
  });

  it('prints every stage as text', () => {
    const stages = compileStages(dropoutBatchNormMlp());
    for (const name of STAGE_NAMES) expect(printStage(stages, name).length, name).to.be.greaterThan(20);
    expect(printStage(stages, 'written')).to.include('modeSelect');
    expect(printStage(stages, 'fusion')).to.match(/^entry trainStep: \d+ groups$/m);
    expect(printStage(stages, 'memory')).to.match(/^transient bytes: naive \d+, peak in use \d+, allocated \d+$/m);
  });

  it('backs compileReport: the report shows the simplified graph the kernels name', () => {
    const source = dropoutBatchNormMlp();
    const { report } = compileReport(source);
    expect(report.graph).to.equal(compileStages(source).simplified.graph.toString());
  });
});
