import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { CompileError } from '../../compiler/errors.js';
import { STAGE_NAMES, compile, compileStages } from '../../compiler/plan.js';
import { compileReport } from '../../compiler/report.js';
import { checkStage } from '../../compiler/stage-checks.js';
import { printStage } from '../../compiler/stages-print.js';
import { trainingProgram } from '../../compiler/train.js';
import { adam } from '../../compiler/optim.js';
import { batchNormLayer } from '../../compiler/ops/norm.js';
import { dropout } from '../../compiler/ops/random.js';
import { softmaxCrossEntropy } from '../../compiler/ops/nn.js';
import type { TrainingProgram } from '../../compiler/train.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { leNet } from '../../examples/models/lenet.js';
import { charTransformer } from '../../examples/models/char-transformer.js';

/** An MLP with batch norm and dropout: its entries differ in mode, so the stages differ per entry. */
function dropoutBatchNormMlp(): TrainingProgram {
  const g = new Graph('dropout_bn');
  const x = g.input('x', [6, 5]);
  const labels = g.input('labels', [6], 'i32');
  const w1 = g.param('w1', [5, 7], { init: 'linearDefault' });
  const bn = batchNormLayer(g, 'bn', 7);
  const w2 = g.param('w2', [7, 3], { init: 'linearDefault' });
  const logits = dropout(bn(x.matmul(w1)).relu(), 0.5).matmul(w2);
  g.output('logits', logits);
  return trainingProgram(g, { loss: softmaxCrossEntropy(logits, labels), optimizer: adam({ lr: 1e-3 }) });
}

describe('compileStages', () => {
  it('returns every stage in pipeline order, and compile returns its last one', () => {
    const stages = compileStages(seedMlp({ batch: 16 }));
    expect(STAGE_NAMES.every((name) => name in stages)).to.equal(true);
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
