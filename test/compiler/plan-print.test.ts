import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { printPlan } from '../../compiler/plan-print.js';
import { trainingProgram } from '../../compiler/train.js';
import { scalePlan } from '../scale-plan.js';

const plan = scalePlan();

describe('printPlan', () => {
  const text = printPlan(plan);
  const lines = text.split('\n');

  it('starts with a summary line', () => {
    expect(lines[0]).to.equal('plan scale (kiln-plan v3): 6 buffers, 2 kernels, entries init, forward, trainStep');
  });

  it('lists every buffer with id, name, role, type and bytes (right-aligned), and const values', () => {
    expect(lines).to.include.members([
      'buffers',
      '  #0  x     input      f32[3]  12 B',
      '  #3  %3    const      f32[]    4 B  = 0.5 (splat)',
      '  #4  %4    const      i32[6]  24 B  = [1, 2, 3, 4, … 2 more]',
      '  #5  step  state      i32[]    4 B',
    ]);
  });

  it('lists every kernel with the nodes it implements, its workgroups and what it binds', () => {
    expect(lines).to.include.members([
      'kernels',
      '  [0]  init_1_w  param %1        workgroups 1×1×1  bindings #1 w',
      '  [1]  k2_mul    mul %2, mul %3  workgroups 1×1×1  bindings #0 x, #1 w, #3 %3, #2 %2',
    ]);
  });

  it('shows each entry: inputs, outputs (with views), dispatches in order and copies', () => {
    const forward = lines.indexOf('  forward');
    expect(lines.slice(forward, forward + 6)).to.deep.equal([
      '  forward',
      '    inputs            x = #0 f32[3]',
      '    outputs           y = #2 f32[3]',
      '                      y2d = #2 f32[3] viewed as [1,3]',
      '    dispatches (1)    k2_mul',
      '    copies            none',
    ]);
    expect(lines).to.include.members(['    dispatches (2)    k2_mul k2_mul', '    copies            #2 %2 → #1 w', '    inputs            none']);
  });

  it('ends with totals: kernels, dispatches per entry and bytes by role', () => {
    expect(lines.slice(-5)).to.deep.equal([
      'totals',
      '  kernels     2',
      '  dispatches  init 1, forward 1, trainStep 2',
      '  bytes       input 12, param 12, state 4, const 28, transient 12, total 68',
      '',
    ]);
  });

  it('prints a compiled training plan, naming an optimizer update as a copy into its state', () => {
    const g = new Graph('printed');
    const x = g.input('x', [2, 3]);
    const w = g.param('w', [3], { init: 'normal' });
    const program = trainingProgram(g, { loss: x.mul(w).sum(), optimizer: sgd({ lr: 0.1, momentum: 0.9 }) });
    // Unplanned, the new momentum is copied into its state: the param update reads it too, so it
    // cannot be written in place (the param's own update is, so it has no copy to print).
    const printed = printPlan(compile(program, { fuse: false, memory: false }));
    expect(printed).to.match(/^plan printed \(kiln-plan v3\): \d+ buffers, \d+ kernels, entries init, forward, trainStep$/m);
    expect(printed).to.match(/^ {2}#\d+ +w +param +f32\[3\] +12 B$/m);
    expect(printed).to.match(/^ {4}copies {12}#\d+ %\d+ → #\d+ w\.momentum$/m);
  });
});
