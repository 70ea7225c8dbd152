/**
 * Compiler bugs found by the random-graph fuzzer (test/gpu/fuzz.test.ts), each shrunk to a
 * focused repro (test/fuzz/minimize-seed.ts) and kept as a regression test once fixed; the
 * seed that found it is named beside each.
 */

import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { checkMemoryPlan } from '../../compiler/liveness.js';
import { compile } from '../../compiler/plan.js';
import { testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from './harness.js';

describe('fuzz regressions (GPU)', () => {
  // Fuzz seeds 63, 124 (81 of seeds 1–3000 in all). When a matmul's or reduction's
  // output has the shape of an operand made by elementwise work, that work is put in the
  // anchor's epilogue group — sunk there (relu(x)·W with a square W), or merged through a
  // node reading both (a − sum(a) over a size-1 axis) — and the anchor then reads the
  // operand's buffer, which no kernel writes.
  it('a square layer after an activation reads the activation, not an unwritten buffer', async () => {
    const g = new Graph('activation, then a square layer');
    const x = g.input('x', [4, 8]);
    const w = g.input('w', [8, 8]);
    g.output('y', x.relu().matmul(w));
    await expectGpuMatchesReference(g, { x: testData(32, 60), w: testData(64, 61) });
  });

  // Fuzz seeds 185, 248.
  it('a reduction over size-1 axes reads the value it reduces, not an unwritten buffer, when a consumer of both fuses with it', async () => {
    const g = new Graph('size-one reduction');
    const x = g.input('x', [4, 1]);
    const a = x.abs();
    g.output('y', a.sub(a.sum(1, true)));
    await expectGpuMatchesReference(g, { x: [-1, -2, -3, -4] });
  });

  // The fuser does not count the unwritten buffer the reduction binds.
  it('the same fusion stays within 8 storage buffers', () => {
    const g = new Graph('size-one reduction, many inputs');
    const xs = Array.from({ length: 7 }, (_, i) => g.input(`x${i}`, [5, 1]));
    const a = xs.slice(0, 6).reduce((acc, t) => acc.add(t));
    g.output('y', a.sub(a.sum(1, true)).add(xs[6]!));
    const plan = compile(g);
    checkMemoryPlan(plan);
    for (const kernel of plan.kernels) expect(kernel.bindings.length, kernel.name).to.be.at.most(8);
  });

  // Fuzz seeds 233, 656 (and 447, 737 for a·aᵀ). The fuser counts each distinct buffer
  // once, but a kernel binds the anchor's operands and then the epilogue's inputs, so a
  // buffer read twice (x here) is bound twice, and the kernel exceeds the limit.
  it('an epilogue reading the anchor\'s own input stays within 8 storage buffers', () => {
    const g = new Graph('anchor input in the epilogue');
    const x = g.input('x', [5, 5]);
    const w = g.input('w', [5, 5]);
    const extras = Array.from({ length: 5 }, (_, i) => g.input(`e${i}`, [5, 5]));
    g.output('y', extras.reduce((acc, e) => acc.add(e), x.matmul(w).add(x.abs())));
    const plan = compile(g);
    for (const kernel of plan.kernels) expect(kernel.bindings.length, kernel.name).to.be.at.most(8);
  });

  it('a matmul of a value with itself (a·aᵀ) and an epilogue stays within 8 storage buffers', () => {
    const g = new Graph('self product with an epilogue');
    const a = g.input('a', [5, 5]);
    const extras = Array.from({ length: 6 }, (_, i) => g.input(`e${i}`, [5, 5]));
    g.output('y', extras.reduce((acc, e) => acc.add(e), a.matmul(a, { transposeB: true })));
    const plan = compile(g);
    for (const kernel of plan.kernels) expect(kernel.bindings.length, kernel.name).to.be.at.most(8);
  });

  // Fuzz seeds 74, 225, 296, 566. Each fused group is checked to be acyclic on its
  // own, but a multi-output group can feed one group and read another that depends on the
  // first: here {abs, div} → sum(abs) → matmul + add epilogue → sum(matmul) → div. Ordering
  // the groups then finds none ready and crashes with a TypeError.
  it('fusion never makes groups that depend on each other in a cycle', async () => {
    const g = new Graph('group cycle');
    const m = g.input('m', [5, 17]);
    const x = g.input('x', [5, 3]);
    const z = g.input('z', [2, 3]);
    const product = m.matmul(x, { transposeA: true });
    const magnitude = z.abs();
    g.output('ratio', product.sum(0, true).div(magnitude));
    g.output('y', m.matmul(magnitude.sum(0, true).add(product)));
    await expectGpuMatchesReference(g, { m: testData(85, 50), x: testData(15, 51), z: testData(6, 52) }, { rtol: 1e-5, atol: 1e-5 });
  });

  // Fuzz seeds 199, 482, 1820: the same under WebGPU's default 8 storage buffers, in
  // elementwise work only (the limit splits loop groups into ones that depend on each other).
  it('fusion under 8 storage buffers never makes elementwise groups that depend on each other in a cycle', async () => {
    const g = new Graph('elementwise group cycle');
    const [p, a, b, c] = ['p', 'a', 'b', 'c'].map((name) => g.input(name, [7]));
    const negated = p!.neg();
    const magnitude = p!.abs();
    const shifted = magnitude.add(a!);
    const sign = p!.sign();
    g.output('log', shifted.log());
    g.output('product', negated.mul(b!));
    g.output('mix', c!.div(magnitude).mul(negated.div(magnitude)).mul(sign).add(shifted.mul(sign)).add(negated));
    const plan = compile(g);
    checkMemoryPlan(plan);
    const feeds = Object.fromEntries(['p', 'a', 'b', 'c'].map((name, i) => [name, testData(7, 40 + i, 0.5, 2)]));
    await expectGpuMatchesReference(g, feeds, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('fuzz regressions (GPU): row kernels', () => {
  // Fuzz seed 1447 of the generator as it first drew layer ops (its graph has changed
  // since), in the gradient of a global average pool. Row fusion admits a reduction along
  // axis 1 by its output shape [rows, 1] alone, so a sum over a size-1 axis ([3,1] → [3,1])
  // joins a row kernel over [3,17], which sums the broadcast [3,1] value 17 times. Since
  // row kernels start only where the row is walked again after a reduction, the sum alone
  // no longer makes one; subtracting from a's row does.
  it('a row kernel sums a size-1 axis once, not once per element of its rows', async () => {
    const g = new Graph('row sums of different lengths');
    const a = g.input('a', [3, 17]);
    const b = g.input('b', [3, 1]);
    g.output('sums', a.sum(1, true).add(b.sum(1, true)));
    g.output('centred', a.sub(a.sum(1, true).add(b.sum(1, true))));
    await expectGpuMatchesReference(g, { a: testData(51, 80), b: testData(3, 81) });
  });
});

describe('fuzz regressions (GPU): prologues and merged groups', () => {
  // Fuzz seed 740 (1 of seeds 1–6000 after the fixes above). When a group with an anchor
  // merges into another, some members keep pointing at the old group, which is lowered too:
  // the sum runs in two kernels, and the stale one reads a comparison (u < e) that it no
  // longer computes and no kernel writes.
  it('fuses each node into exactly one kernel when a reduction\'s epilogue group merges into another group', async () => {
    const g = new Graph('stale epilogue group');
    const x = g.input('x', [1, 1, 1]);
    const [t, c, b, u] = ['t', 'c', 'b', 'u'].map((name) => g.input(name, []));
    const y = g.input('y', [2, 1, 1]);
    const mask = g.input('mask', [1, 1, 1], 'bool');
    const [a, z] = ['a', 'z'].map((name) => g.input(name, [1, 1, 1]));
    const e = x.exp();
    const total = y.where(e.greaterEqual(t!), c!).sum(0, true);
    g.output('out', a!.where(mask, b!).add(total.where(e.greater(u!), z!).mul(e)));
    const plan = compile(g, { limits: (await gpu()).limits });
    const lowered = plan.entries['forward']!.dispatches.flatMap((k) => plan.kernels[k]!.nodes);
    expect(lowered, 'nodes lowered more than once').to.have.length(new Set(lowered).size);
    const feeds = { x: [0.3], t: [1.2], c: [-0.5], b: [1.5], u: [1.1], y: [0.7, -1.3], mask: [0], a: [0.25], z: [-2] };
    await expectGpuMatchesReference(g, feeds);
  });

  // Fuzz seed 1336: a group cycle the checks above still miss. A comparison shared by a
  // `where` over [5,3] (an output) and a `where` inside a reduction's prologue, with the
  // reduction's epilogue reading the compared value again; ordering the groups throws.
  it('fusion never makes groups that depend on each other in a cycle through a reduction\'s prologue', async () => {
    const g = new Graph('prologue group cycle');
    const [x, p] = ['x', 'p'].map((name) => g.input(name, [1, 3]));
    const [wide, other] = ['wide', 'other'].map((name) => g.input(name, [5, 3]));
    const [t, c] = ['t', 'c'].map((name) => g.input(name, []));
    const d = x!.sub(p!);
    const below = d.less(t!);
    g.output('picked', d.where(below, wide!));
    g.output('y', x!.abs().add(other!.where(below, c!).sum(0, true).mul(d.square())));
    const feeds = { x: testData(3, 70), p: testData(3, 71), wide: testData(15, 72), other: testData(15, 73), t: [0.1], c: [0.5] };
    await expectGpuMatchesReference(g, feeds);
  });
});
