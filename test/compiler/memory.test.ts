import { expect } from 'chai';
import { DeviceLimitError, PlanError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { checkMemoryPlan, liveIntervals, overlaps } from '../../compiler/liveness.js';
import { memoryReport, planMemory } from '../../compiler/memory.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { bindsBuffer } from '../../compiler/plan-format.js';
import { trainingProgram } from '../../compiler/train.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';
import { printPlan } from '../../compiler/plan-print.js';
import { checkPlanFitsDevice, validatePlan } from '../../compiler/plan-check.js';
import type { BufferRow, EntryRow, KernelRow } from './memory-fixtures.js';
import { elementwiseWgsl, handPlan } from './memory-fixtures.js';

/** Plans memory and checks the result with the validator, as every test here does. */
function planned(plan: Plan): Plan {
  const result = planMemory(plan);
  checkMemoryPlan(result);
  return result;
}

function sharing(plan: Plan, a: number, b: number): boolean {
  return plan.buffers[a]!.allocation === plan.buffers[b]!.allocation;
}

describe('planMemory: sharing transient memory', () => {
  it('puts transients with disjoint lives in one allocation, sized for the largest', () => {
    // a → b → y: a dies when b is written; y is written after a's last read.
    const plan = planned(
      handPlan(
        [
          ['x', 'input', 16],
          ['a', 'transient', 64],
          ['b', 'transient', 32],
          ['y', 'transient', 16],
        ],
        [{ bindings: [0, 1] }, { bindings: [1, 2] }, { bindings: [2, 3] }],
        { forward: { inputs: { x: 0 }, outputs: { y: 3 }, dispatches: [0, 1, 2] } },
      ),
    );
    expect(sharing(plan, 1, 3)).to.equal(true);
    expect(sharing(plan, 1, 2) || sharing(plan, 2, 3)).to.equal(false);
    expect(plan.allocations![plan.buffers[1]!.allocation!]!.bytes).to.equal(64);
    expect(memoryReport(plan)).to.deep.equal({ naiveTransientBytes: 112, peakTransientBytes: 96, allocationBytes: 96 });
  });

  it('never shares between transients bound by the same dispatch (one read while the other is written)', () => {
    const plan = planned(
      handPlan(
        [
          ['a', 'transient', 16],
          ['b', 'transient', 16],
        ],
        [{ bindings: [0] }, { bindings: [0, 1] }],
        { forward: { outputs: { b: 1 }, dispatches: [0, 1] } },
      ),
    );
    expect(sharing(plan, 0, 1)).to.equal(false);
  });

  const twoEntries = (entries: Readonly<Record<string, EntryRow>>): Plan =>
    handPlan(
      [
        ['a', 'transient', 16],
        ['b', 'transient', 16],
      ],
      [{ bindings: [0] }, { bindings: [1] }, { bindings: [0, 1] }],
      entries,
    );

  it('shares only when the lives are disjoint in every entry that uses both', () => {
    expect(sharing(planned(twoEntries({ apart: { dispatches: [0, 1] } })), 0, 1)).to.equal(true);
    expect(sharing(planned(twoEntries({ apart: { dispatches: [0, 1] }, together: { dispatches: [2] } })), 0, 1)).to.equal(false);
  });

  it('shares between transients of different entries even when they run at the same position', () => {
    expect(sharing(planned(twoEntries({ first: { dispatches: [0] }, second: { dispatches: [1] } })), 0, 1)).to.equal(true);
  });

  it('gives inputs, params, state and consts their own memory, even when a dead one would fit a transient', () => {
    const rows: BufferRow[] = [
      ['x', 'input', 64],
      ['w', 'param', 64],
      ['v', 'state', 64],
      ['c', 'const', 64],
      ['t', 'transient', 64],
    ];
    const plan = planned(handPlan(rows, [{ bindings: [0, 1, 2, 3] }, { bindings: [4] }], { forward: { inputs: { x: 0 }, outputs: { t: 4 }, dispatches: [0, 1] } }));
    expect(new Set(plan.buffers.map((b) => b.allocation)).size).to.equal(5);
  });

  it('assigns best fit, largest first: a small value takes the smallest free allocation that holds it', () => {
    // big and mid die at dispatch 0; small, written at 1, fits both and takes mid's.
    const plan = planned(
      handPlan(
        [
          ['big', 'transient', 64],
          ['mid', 'transient', 32],
          ['small', 'transient', 16],
        ],
        [{ bindings: [0, 1] }, { bindings: [2] }],
        { forward: { outputs: { small: 2 }, dispatches: [0, 1] } },
      ),
    );
    expect(sharing(plan, 1, 2)).to.equal(true);
    expect(plan.allocations!.map((a) => a.bytes)).to.deep.equal([64, 32]);
  });

  it('gives a plan planned twice the same memory (the pass is idempotent)', () => {
    const once = planMemory(compile(seedMlp({ batch: 8 }), { fuse: false }));
    expect(planMemory(once)).to.deep.equal(once);
  });
});

describe('planMemory: in-place updates', () => {
  /** w ← w − 0.1·Σx (SGD on loss = Σ x·w): unfused, the update is an elementwise `sub` reading w. */
  function sgdProgram() {
    const g = new Graph('sgd');
    const x = g.input('x', [2, 3]);
    const w = g.param('w', [3], { init: 'normal' });
    return trainingProgram(g, { loss: x.mul(w).sum(), optimizer: sgd({ lr: 0.1 }) });
  }

  it('leaves an update whose writer reads the param to fusion: unfused, the SGD kernel writes w in place and no copy is left', () => {
    const plan = compile(sgdProgram(), { fuse: false, memory: false });
    const entry = plan.entries['trainStep']!;
    expect(entry.copies).to.deep.equal([]);
    const w = plan.buffers.findIndex((b) => b.name === 'w');
    const writer = plan.kernels.find((k) => k.ops.length === 1 && k.ops[0] === 'sub' && bindsBuffer(k, w))!;
    expect(writer.wgsl).to.match(/^@group\(0\) @binding\(0\) var<storage, read_write> out: array<f32>;$/m);
    expect(writer.wgsl).to.match(/let (v\d+): f32 = out\[i\] - in0\[i\];\n\s*out\[i\] = \1;/);
    expect(planned(plan).kernels).to.deep.equal(plan.kernels);
  });

  /** w ← u(w, g) by kernel 1 (reading w), optionally followed by kernel 2 reading w. */
  const update = (writer: KernelRow, entry: Partial<EntryRow> = {}, extraKernels: KernelRow[] = []): Plan =>
    handPlan(
      [
        ['w', 'param', 16],
        ['g', 'transient', 16],
        ['w2', 'transient', 16],
        ['y', 'transient', 16],
      ],
      [{ bindings: [0, 1] }, writer, ...extraKernels],
      { trainStep: { dispatches: [0, 1], copies: [{ from: 2, to: 0 }], ...entry } },
    );
  const elementwiseWriter: KernelRow = { bindings: [0, 1, 2], writes: [2], elementwise: true, wgsl: elementwiseWgsl(2) };
  const copiesOf = (plan: Plan): readonly { from: number; to: number }[] => plan.entries['trainStep']!.copies;

  it('keeps the copy when the writer reads the param, even elementwise, and never edits its WGSL (in-place kernels are fusion’s)', () => {
    const plan = update(elementwiseWriter);
    const result = planned(plan);
    expect(copiesOf(result)).to.deep.equal([{ from: 2, to: 0 }]);
    expect(result.kernels).to.deep.equal(plan.kernels);
  });

  const otherWriter: KernelRow = { bindings: [1, 2] };

  it('moves the value into the param’s memory when its writer does not bind the param', () => {
    expect(copiesOf(planned(update(otherWriter)))).to.deep.equal([]);
  });

  it('keeps the copy when a later kernel reads the param’s old value', () => {
    expect(copiesOf(planned(update(otherWriter, { dispatches: [0, 1, 2] }, [{ bindings: [0, 3] }])))).to.deep.equal([{ from: 2, to: 0 }]);
  });

  it('keeps the copy when the param is read back after the pass (outputs show the step’s old values)', () => {
    expect(copiesOf(planned(update(otherWriter, { outputs: { w: 0 } })))).to.have.length(1);
  });

  it('keeps the copy when another entry computes the value without updating the param', () => {
    const plan = update(otherWriter);
    const withEval = { ...plan, entries: { ...plan.entries, evaluate: { inputs: {}, outputs: { w2: 2 }, dispatches: [0, 1], copies: [] } } };
    expect(copiesOf(planned(withEval))).to.have.length(1);
  });

  it('moves a value whose writer does not read the param into its memory unchanged (momentum: v ← μv + g)', () => {
    // Kernel 0 reads v (μv), kernel 1 writes v2 = μv + g without binding v.
    const plan = handPlan(
      [
        ['v', 'state', 16],
        ['mv', 'transient', 16],
        ['v2', 'transient', 16],
      ],
      [{ bindings: [0, 1] }, { bindings: [1, 2] }],
      { trainStep: { dispatches: [0, 1], copies: [{ from: 2, to: 0 }] } },
    );
    const result = planned(plan);
    expect(result.entries['trainStep']!.inPlace).to.deep.equal([{ from: 2, to: 0 }]);
    expect(result.kernels).to.deep.equal(plan.kernels);
  });
});

describe('planMemory on compiled plans', () => {
  it('plans the seed MLP training step (unfused): no update copies, transients in at most half the naive bytes', () => {
    const plan = planned(compile(seedMlp({ batch: 128 }), { fuse: false }));
    const report = memoryReport(plan);
    expect(plan.entries['trainStep']!.copies).to.deep.equal([]);
    // Fusion writes the 6 param updates in place (their kernels read the params); the 6
    // momenta live in their state's memory (their writers do not bind the state).
    expect(plan.entries['trainStep']!.inPlace).to.have.length(6);
    expect(report.allocationBytes).to.be.at.most(report.naiveTransientBytes / 2);
    expect(report.peakTransientBytes).to.be.at.most(report.allocationBytes);
  });

  it('plans the fused seed MLP training step within its naive bytes', () => {
    const unplanned = compile(seedMlp({ batch: 128 }));
    const report = memoryReport(planned(unplanned));
    expect(report.allocationBytes).to.be.below(report.naiveTransientBytes);
    // No assignment beats the most bytes live at once; best fit comes within 20% of it here.
    expect(report.allocationBytes).to.be.at.least(memoryReport(unplanned).peakTransientBytes);
    expect(report.allocationBytes).to.be.at.most(1.2 * memoryReport(unplanned).peakTransientBytes);
  });

  it('plans a forward-only chain of elementwise ops in two alternating allocations', () => {
    const g = new Graph('chain');
    const x = g.input('x', [4, 8]);
    g.output('y', x.exp().neg().abs().sqrt().sin());
    const plan = planned(compile(g, { fuse: false }));
    const transients = plan.buffers.filter((b) => b.role === 'transient');
    expect(transients).to.have.length(5);
    expect(new Set(transients.map((b) => b.allocation)).size).to.equal(2);
    expect(plan.entries['forward']!.inPlace).to.equal(undefined);
    expect(memoryReport(plan)).to.deep.equal({ naiveTransientBytes: 640, peakTransientBytes: 256, allocationBytes: 256 });
  });

  it('survives a JSON round trip and passes the runtime’s plan check', () => {
    const plan = planned(compile(seedMlp({ batch: 4 }), { fuse: false }));
    const loaded: unknown = JSON.parse(JSON.stringify(plan));
    expect(() => validatePlan(loaded)).not.to.throw();
    expect(loaded).to.deep.equal(plan);
  });

  it('is rejected by the runtime’s plan check when two shared buffers would be live at once', () => {
    const plan = planned(compile(seedMlp({ batch: 4 }), { fuse: false }));
    // The first two transients: an activation and its consumer's result, live together.
    const [a, b] = plan.buffers.filter((buffer) => buffer.role === 'transient');
    const corrupted = { ...plan, buffers: plan.buffers.map((buffer) => (buffer.id === b!.id ? { ...buffer, allocation: a!.allocation! } : buffer)) };
    expect(() => validatePlan(JSON.parse(JSON.stringify(corrupted)))).to.throw(PlanError, /memory plan of 'seed_mlp': in entry '\w+', #\d+ \(%\d+\) and #\d+ \(%\d+\) share allocation/);
  });
});

describe('loading a planned plan at runtime', () => {
  /** x → a → b, and w updated in place from w2. */
  const plan = (): Plan =>
    planned(
      handPlan(
        [
          ['x', 'input', 16],
          ['w', 'param', 16],
          ['a', 'transient', 64],
          ['b', 'transient', 32],
          ['w2', 'transient', 16],
        ],
        [{ bindings: [0, 2] }, { bindings: [2, 3] }, { bindings: [3, 4] }],
        { trainStep: { inputs: { x: 0 }, outputs: { b: 3 }, dispatches: [0, 1, 2], copies: [{ from: 4, to: 1 }] } },
      ),
    );

  it('rejects malformed allocations and in-place lists by where they are', () => {
    const base = plan();
    const cases: readonly [unknown, RegExp][] = [
      [{ ...base, allocations: {} }, /invalid plan: allocations: must be an array of \{bytes\}/],
      [{ ...base, allocations: [...base.allocations!.slice(0, -1), { bytes: 6 }] }, /allocations\[3\]\.bytes: must be a multiple of 4, at least 4, got 6/],
      [{ ...base, buffers: base.buffers.map((b) => ({ ...b, allocation: b.id === 2 ? 'one' : b.allocation })) }, /buffer #2 \(a\) has allocation "one", not one of the plan's 4/],
      [{ ...base, entries: { ...base.entries, trainStep: { ...base.entries['trainStep']!, inPlace: {} } } }, /entries\.trainStep\.inPlace: must be an array of \{from, to\}/],
      [{ ...base, entries: { ...base.entries, trainStep: { ...base.entries['trainStep']!, inPlace: [{ from: 9, to: 1 }] } } }, /entries\.trainStep\.inPlace\[0\]\.from: buffer id 9 does not exist/],
      [{ ...base, entries: { ...base.entries, trainStep: { ...base.entries['trainStep']!, inPlace: [{ from: 3, to: 1 }] } } }, /entries\.trainStep\.inPlace\[0\]: #3 \(b, 32 bytes\) and #1 \(w, 16 bytes\) differ in size/],
    ];
    for (const [corrupted, message] of cases) expect(() => validatePlan(corrupted), String(message)).to.throw(PlanError, message);
  });

  it('rejects an allocation larger than the device’s largest buffer', () => {
    const limits = { maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8, maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 1 << 20 };
    const base = plan();
    expect(() => checkPlanFitsDevice(base, limits)).not.to.throw();
    const huge = { ...base, allocations: base.allocations!.map((a, i) => (i === 2 ? { bytes: 1 << 21 } : a)) };
    expect(() => checkPlanFitsDevice(huge, limits)).to.throw(DeviceLimitError, /allocation @2 needs 2097152 bytes, over this device's maxBufferSize of 1048576/);
  });

  it('prints shared allocations, in-place updates and the transient bytes', () => {
    const lines = printPlan(plan()).split('\n');
    expect(lines).to.include.members([
      '    copies            none',
      '    in place          #4 w2 → #1 w',
      'memory: 4 allocations for 5 buffers; shared:',
      '  @1 16 B           #1 w, #4 w2',
      '  transient bytes: naive 112, peak 96, allocated 96 (85.7% of naive)',
    ]);
  });
});

describe('planMemory on random plans', () => {
  /** A seeded plan: random bindings, entries of random dispatch orders, outputs and update copies. */
  function randomPlan(seed: number): Plan {
    let state = seed;
    const next = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    const rows: BufferRow[] = [
      ['x', 'input', 64],
      ['w', 'param', 64],
      ['v', 'state', 64],
      ...Array.from({ length: 4 + next(10) }, (_, i): BufferRow => [`t${i}`, 'transient', next(3) === 0 ? 64 : 4 * (1 + next(16))]),
    ];
    const kernels: KernelRow[] = Array.from({ length: 3 + next(8) }, () => ({ bindings: [...new Set(Array.from({ length: 1 + next(4) }, () => next(rows.length)))] }));
    const transients = rows.map((_, id) => id).filter((id) => rows[id]![1] === 'transient');
    const entries = Object.fromEntries(
      Array.from({ length: 1 + next(3) }, (_, e): [string, EntryRow] => {
        const dispatches = Array.from({ length: 1 + next(8) }, () => next(kernels.length));
        // Update copies need a value of the param's size.
        const values = transients.filter((id) => rows[id]![2] === 64 && dispatches.some((k) => kernels[k]!.bindings.includes(id)));
        const update = values[next(values.length + 1)];
        return [
          `e${e}`,
          {
            inputs: { x: 0 },
            outputs: { out: transients[next(transients.length)]! },
            dispatches,
            copies: update === undefined ? [] : [{ from: update, to: 1 + next(2) }],
          },
        ];
      }),
    );
    return handPlan(rows, kernels, entries);
  }

  it('never puts two values live at once in one allocation (checked on 300 plans), and the check would catch it', () => {
    let caught = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const plan = planned(randomPlan(seed));
      expect(memoryReport(plan).allocationBytes).to.be.at.most(memoryReport(plan).naiveTransientBytes);
      // Merge two transients live together somewhere (if any): the validator must reject it.
      const inPlace = new Set(Object.values(plan.entries).flatMap((entry) => (entry.inPlace ?? []).map(({ from }) => from)));
      const transients = plan.buffers.filter((b) => b.role === 'transient' && !inPlace.has(b.id));
      const lives = Object.values(plan.entries).map((entry) => liveIntervals(plan, entry));
      const pair = transients
        .flatMap((a) => transients.map((b) => [a, b] as const))
        .find(([a, b]) => a.id < b.id && !sharing(plan, a.id, b.id) && lives.some((live) => live.has(a.id) && live.has(b.id) && overlaps(live.get(a.id)!, live.get(b.id)!)));
      if (!pair) continue;
      const [a, b] = pair;
      const merged = { ...plan, buffers: plan.buffers.map((buffer) => (buffer.id === b.id ? { ...buffer, allocation: a.allocation! } : buffer)) };
      const big = Math.max(a.bytes as number, b.bytes as number);
      const allocations = plan.allocations!.map((allocation, i) => (i === a.allocation ? { bytes: Math.max(allocation.bytes, big) } : allocation));
      const stillUsed = new Set(merged.buffers.map((buffer) => buffer.allocation));
      if (!stillUsed.has(b.allocation)) continue; // b's allocation would hold nothing: a different error
      expect(() => checkMemoryPlan({ ...merged, allocations }), `seed ${seed}`).to.throw(PlanError, /are both live/);
      caught++;
    }
    expect(caught).to.be.at.least(100);
  });
});

describe('memoryReport', () => {
  it('reports an unplanned plan’s allocation as its naive sum, and its peak as the most bytes live at once', () => {
    const plan = handPlan(
      [
        ['a', 'transient', 8],
        ['b', 'transient', 16],
        ['c', 'transient', 32],
      ],
      [{ bindings: [0, 1] }, { bindings: [1, 2] }],
      { forward: { outputs: { c: 2 }, dispatches: [0, 1] } },
    );
    expect(memoryReport(plan)).to.deep.equal({ naiveTransientBytes: 56, peakTransientBytes: 48, allocationBytes: 56 });
  });

  it('counts a value updated in place as no transient memory: it lives in its param’s', () => {
    const plan = planned(
      handPlan(
        [
          ['v', 'state', 16],
          ['v2', 'transient', 16],
        ],
        [{ bindings: [1] }],
        { trainStep: { dispatches: [0], copies: [{ from: 1, to: 0 }] } },
      ),
    );
    expect(memoryReport(plan)).to.deep.equal({ naiveTransientBytes: 16, peakTransientBytes: 0, allocationBytes: 0 });
  });
});
