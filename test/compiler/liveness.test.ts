import { expect } from 'chai';
import { PlanError } from '../../compiler/errors.js';
import { BEFORE_PASS, checkMemoryPlan, liveIntervals } from '../../compiler/liveness.js';
import type { Plan, PlanBuffer } from '../../compiler/plan-format.js';
import { handPlan } from './memory-fixtures.js';

/** x → a → b → y, with a param w read by the first kernel and a const c by the last. */
function chain(): Plan {
  return handPlan(
    [
      ['x', 'input', 16],
      ['w', 'param', 16],
      ['a', 'transient', 16],
      ['b', 'transient', 16],
      ['y', 'transient', 16],
      ['c', 'const', 4],
      ['unused', 'transient', 16],
    ],
    [{ bindings: [0, 1, 2] }, { bindings: [2, 3] }, { bindings: [3, 5, 4] }],
    { forward: { inputs: { x: 0 }, outputs: { y: 4 }, dispatches: [0, 1, 2] }, firstOnly: { inputs: { x: 0 }, outputs: {}, dispatches: [0] } },
  );
}

/** The plan with its buffers' allocations set (one entry per buffer), e.g. to share memory by hand. */
function allocated(plan: Plan, allocationOf: readonly number[], bytes?: readonly number[]): Plan {
  const count = Math.max(...allocationOf) + 1;
  return {
    ...plan,
    buffers: plan.buffers.map((b): PlanBuffer => ({ ...b, allocation: allocationOf[b.id]! })),
    allocations: Array.from({ length: count }, (_, a) => ({
      bytes: bytes?.[a] ?? Math.max(...plan.buffers.filter((b) => allocationOf[b.id] === a).map((b) => b.bytes as number)),
    })),
  };
}

describe('liveIntervals', () => {
  const plan = chain();
  const live = liveIntervals(plan, plan.entries['forward']!);

  it('has a transient live from the dispatch that first binds it to the last that binds it', () => {
    expect(live.get(2)).to.deep.equal({ start: 0, end: 1 });
    expect(live.get(3)).to.deep.equal({ start: 1, end: 2 });
  });

  it('has inputs live from before the pass and outputs until after it (they are written and read there)', () => {
    expect(live.get(0)).to.deep.equal({ start: BEFORE_PASS, end: 0 });
    expect(live.get(4)).to.deep.equal({ start: 2, end: 3 });
  });

  it('has params and consts live through the whole entry, read or not', () => {
    expect(live.get(1)).to.deep.equal({ start: BEFORE_PASS, end: 3 });
    expect(live.get(5)).to.deep.equal({ start: BEFORE_PASS, end: 3 });
    expect(liveIntervals(plan, plan.entries['firstOnly']!).get(5)).to.deep.equal({ start: BEFORE_PASS, end: 1 });
  });

  it('leaves out buffers the entry never needs', () => {
    expect(live.has(6)).to.equal(false);
    expect(liveIntervals(plan, plan.entries['firstOnly']!).has(3)).to.equal(false);
  });

  it('keeps copy sources live until after the pass, and an in-place target only until its last read', () => {
    const trained = handPlan(
      [
        ['w', 'param', 16],
        ['g', 'transient', 16],
        ['w2', 'transient', 16],
        ['v2', 'transient', 16],
        ['v', 'state', 16],
      ],
      [{ bindings: [0, 1] }, { bindings: [1, 2] }, { bindings: [1, 3] }],
      { trainStep: { dispatches: [0, 1, 2], copies: [{ from: 2, to: 0 }], inPlace: [{ from: 3, to: 4 }] } },
    );
    const intervals = liveIntervals(trained, trained.entries['trainStep']!);
    expect(intervals.get(2)).to.deep.equal({ start: 1, end: 3 });
    expect(intervals.get(3)).to.deep.equal({ start: 2, end: 3 });
    expect(intervals.get(4)).to.deep.equal({ start: BEFORE_PASS, end: BEFORE_PASS });
    expect(intervals.get(0)).to.deep.equal({ start: BEFORE_PASS, end: 3 });
  });
});

describe('checkMemoryPlan', () => {
  const expectRejected = (plan: Plan, message: RegExp): void => {
    expect(() => checkMemoryPlan(plan)).to.throw(PlanError, message);
  };

  it('accepts a plan without allocations (every buffer its own memory)', () => {
    expect(() => checkMemoryPlan(chain())).not.to.throw();
  });

  it('accepts transients that share memory at disjoint times', () => {
    // a (dispatches 0–1) and y (2–after) never overlap.
    expect(() => checkMemoryPlan(allocated(chain(), [0, 1, 2, 3, 2, 4, 5]))).not.to.throw();
  });

  it('rejects transients sharing memory while both are live, naming them, the entry and the dispatch', () => {
    expectRejected(
      allocated(chain(), [0, 1, 2, 2, 3, 4, 5]),
      /memory plan of 'hand': in entry 'forward', #2 \(a\) and #3 \(b\) share allocation @2 but are both live at dispatch 1 \(k1\) \(live 0…1 and 1…2\)/,
    );
  });

  it('rejects sharing that is safe in one entry but not in another', () => {
    const plan = handPlan(
      [
        ['a', 'transient', 16],
        ['b', 'transient', 16],
      ],
      [{ bindings: [0] }, { bindings: [1] }, { bindings: [0, 1] }],
      { apart: { dispatches: [0, 1] }, together: { dispatches: [2] } },
    );
    expect(() => checkMemoryPlan(allocated(plan, [0, 0], [16]))).to.throw(PlanError, /in entry 'together', #0 \(a\) and #1 \(b\)/);
  });

  it('rejects two persistent buffers in one allocation, even when a transient would fit there', () => {
    expectRejected(allocated(chain(), [0, 0, 1, 2, 3, 4, 5]), /#0 \(x\) and #1 \(w\) share allocation @0, but only transient values share memory/);
  });

  it('rejects a transient in a param’s memory unless it is that param’s in-place update', () => {
    expectRejected(allocated(chain(), [0, 1, 2, 3, 1, 4, 5]), /#4 \(y\) shares allocation @1 with param #1 \(w\) without being its in-place update/);
  });

  it('rejects a buffer larger than its allocation, and an allocation that holds nothing', () => {
    expectRejected(allocated(chain(), [0, 1, 2, 3, 4, 5, 6], [16, 16, 8, 16, 16, 4, 16]), /buffer #2 \(a\) needs 16 bytes, more than allocation @2 has \(8\)/);
    expectRejected(allocated(chain(), [0, 1, 2, 3, 4, 5, 7]), /allocation @6 holds no buffer/);
  });

  it('rejects allocations named by buffers of a plan that has none, and in-place updates without allocations', () => {
    const plan = chain();
    expectRejected({ ...plan, buffers: plan.buffers.map((b) => ({ ...b, allocation: 0 })) }, /buffer #0 \(x\) names allocation 0, but the plan has no allocations/);
    const updated = { ...plan, entries: { ...plan.entries, forward: { ...plan.entries['forward']!, inPlace: [{ from: 4, to: 1 }] } } };
    expectRejected(updated, /entry 'forward' updates #1 \(w\) in place, which needs planned allocations/);
  });

  it('rejects an in-place update whose target is still read after its value is first written', () => {
    // Kernel 1 writes w2 into w's memory, then kernel 2 reads the old w: it would see the update.
    const plan = handPlan(
      [
        ['w', 'param', 16],
        ['w2', 'transient', 16],
        ['y', 'transient', 16],
      ],
      [{ bindings: [0] }, { bindings: [1] }, { bindings: [0, 2] }],
      { trainStep: { dispatches: [0, 1, 2], outputs: { y: 2 }, inPlace: [{ from: 1, to: 0 }] } },
    );
    expectRejected(allocated(plan, [0, 0, 1]), /in entry 'trainStep', #0 \(w\) and #1 \(w2\) share allocation @0 but are both live at dispatch 1 \(k1\)/);
    const reordered = { ...plan, entries: { ...plan.entries, trainStep: { ...plan.entries['trainStep']!, dispatches: [0, 2, 1] } } };
    expect(() => checkMemoryPlan(allocated(reordered, [0, 0, 1]))).not.to.throw();
  });

  it('rejects an in-place update that is also copied, or whose value is no transient', () => {
    const plan = handPlan(
      [
        ['w', 'param', 16],
        ['w2', 'transient', 16],
        ['x', 'input', 16],
      ],
      [{ bindings: [0] }, { bindings: [1] }],
      { trainStep: { dispatches: [0, 1], copies: [{ from: 1, to: 0 }], inPlace: [{ from: 1, to: 0 }] } },
    );
    expectRejected(allocated(plan, [0, 0, 1]), /entry 'trainStep' updates #0 \(w\) in place from #1 \(w2\) and also copies into it/);
    const fromInput = { ...plan, entries: { ...plan.entries, trainStep: { ...plan.entries['trainStep']!, copies: [], inPlace: [{ from: 2, to: 0 }] } } };
    expectRejected(allocated(fromInput, [0, 1, 0]), /updates #0 \(w\) in place from #2 \(x\), which is input, not transient/);
  });
});
