import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { modeSelect } from '../../../compiler/ops/mode.js';
import { sgd } from '../../../compiler/optim.js';
import { specializeModes } from '../../../compiler/passes/specialize-modes.js';
import { compile } from '../../../compiler/plan.js';
import { runEntry } from '../../../compiler/reference.js';
import { ReferenceSession } from '../../../compiler/reference-session.js';
import { trainingProgram } from '../../../compiler/train.js';
import { DTypeError, ShapeError } from '../../../compiler/errors.js';
import { expectClose } from '../../helpers.js';

/** y = x·w, scaled by 3 while training and by 1 at inference; a state counts training steps. */
function switched() {
  const graph = new Graph('modes', { seed: 1 });
  const x = graph.input('x', [2]);
  const w = graph.param('w', [2], { init: { kind: 'constant', value: 2 } });
  const y = x.mul(w);
  const out = modeSelect(y.mul(3), y);
  graph.output('y', out);
  const steps = graph.state('steps', [], { dtype: 'i32' });
  graph.assign(steps, steps.add(1));
  const program = trainingProgram(graph, { loss: out.sum(), optimizer: sgd({ lr: 0.1 }), outputs: { y: out } });
  return { graph, program };
}

describe('modeSelect and specializeModes', () => {
  it('takes the training branch in trainStep and the inference branch in forward, on the reference', () => {
    const { program } = switched();
    const session = new ReferenceSession(program);
    expectClose(session.forward({ x: [1, 2] })['y']!.data, [2, 4]);
    expectClose(session.trainStep({ x: [1, 2] })['y']!.data, [6, 12]);
    // d(sum(3·x·w))/dw = 3x: only the training branch's gradient reaches w.
    expectClose(session.params['w']!.data, [2 - 0.1 * 3, 2 - 0.1 * 6]);
  });

  it('runs the updates the graph declared before trainingProgram in every step, and none in forward', () => {
    const { program } = switched();
    expect(program.forward.assignments).to.deep.equal([]);
    const session = new ReferenceSession(program);
    session.forward({ x: [1, 2] });
    session.trainStep({ x: [1, 2] });
    session.trainStep({ x: [1, 2] });
    expect([...session.params['steps']!.data]).to.deep.equal([2]);
  });

  it('leaves no switch in the specialized program, and forward computes none of the training branch', () => {
    const { program } = switched();
    const specialized = specializeModes({ graph: program.graph, entries: { forward: program.forward, trainStep: program.trainStep } });
    expect(specialized.graph.nodes.filter((n) => n.op === 'modeSelect')).to.have.length(0);
    const forward = runEntry(specialized.graph, specialized.entries['forward']!, { feeds: { x: [1, 2] } });
    expectClose(forward.outputs['y']!.data, [2, 4]);
    const plan = compile(program, { simplify: false, fuse: false });
    const forwardOps = plan.entries['forward']!.dispatches.flatMap((k) => plan.kernels[k]!.ops);
    expect(forwardOps).to.deep.equal(['mul']);
  });

  it('returns a program without switches unchanged', () => {
    const graph = new Graph('plain');
    graph.output('y', graph.input('x', [3]).exp());
    const program = { graph, entries: { forward: { outputs: { y: 1 }, assignments: [] } } };
    expect(specializeModes(program)).to.equal(program);
  });

  it('rejects branches of different shapes or dtypes, naming both', () => {
    const graph = new Graph('bad');
    const x = graph.input('x', [2, 3]);
    expect(() => modeSelect(x, graph.input('y', [3, 2]))).to.throw(ShapeError, /modeSelect.*training branch is f32\[2,3\] but the inference branch is f32\[3,2\]/);
    expect(() => modeSelect(x, x.cast('i32'))).to.throw(DTypeError, /modeSelect.*f32 vs i32/);
  });
});
