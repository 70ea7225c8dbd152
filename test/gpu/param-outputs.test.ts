import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { ReferenceSession } from '../../compiler/reference-session.js';
import { sgd } from '../../compiler/optim.js';
import { trainingProgram } from '../../compiler/train.js';
import { Session } from '../../runtime/session.js';
import type { Feed } from '../../runtime/session.js';
import { expectClose } from '../helpers.js';
import { gpu } from './harness.js';

/** A step whose outputs name what it updates: params w and b, a reshape of w, and a state it counts in. */
function stepReturningParams() {
  const g = new Graph('param-outputs', { seed: 4 });
  const x = g.input('x', [2, 3]);
  const w = g.param('w', [3, 2], { init: 'glorotUniform' });
  const b = g.param('b', [2], { init: 'ones' });
  const seen = g.state('seen', [2]);
  g.assign(seen, seen.add(x.sum(0).slice([{ start: 0, end: 2 }])));
  const loss = x.matmul(w).add(b).square().mean();
  return trainingProgram(g, { loss, optimizer: sgd({ lr: 0.5, momentum: 0.9 }), outputs: { w, b, flatW: w.reshape([6]), seen } });
}

describe('a step output that names a param', () => {
  for (const fuse of [true, false]) {
    it(`returns the value before the step's update, as the reference does (${fuse ? 'fused' : 'unfused'})`, async function () {
      this.timeout(120000);
      const program = stepReturningParams();
      const reference = new ReferenceSession(program);
      const { device, limits } = await gpu();
      const session = await Session.create(device, compile(program, { limits, fuse }));
      try {
        session.setParams(reference.params as Record<string, Feed>);
        const feeds = { x: [1, 2, 3, -1, 0.5, 2] };
        for (let step = 0; step < 2; step++) {
          const before = (await session.getParams()) as Record<string, { data: ArrayLike<number> }>;
          const expected = reference.trainStep(feeds);
          const actual = await session.trainStep(feeds, { outputs: ['w', 'b', 'flatW', 'seen'] });
          for (const name of ['w', 'b', 'flatW', 'seen'] as const) {
            const param = name === 'flatW' ? 'w' : name;
            expect(Array.from(actual[name]!.data), `${name} at step ${step}`).to.deep.equal(Array.from(before[param]!.data));
            expectClose(actual[name]!.data, expected[name]!.data, 1e-5, 1e-6);
          }
        }
      } finally {
        session.destroy();
      }
    });
  }
});
