import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { matmul } from '../../compiler/ops/matmul.js';
import { sum } from '../../compiler/ops/reduce.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import { interpret } from '../../compiler/reference.js';
import type { HostValue } from '../../compiler/reference.js';
import type { MatmulShapeClass, MatmulVariant, TuningTable } from '../../compiler/codegen/tuning.js';
import { DEFAULT_MATMUL_VARIANT, MATMUL_CANDIDATES, adapterKey, sameVariant, variantName } from '../../compiler/codegen/tuning.js';
import { autotune } from '../../tune/autotune.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { gpu } from './harness.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A table that gives `variant` to every shape class. */
function everywhere(variant: MatmulVariant): TuningTable {
  const classes = (['small', 'skinny', 'large'] as const).flatMap((s) => (['nn', 'tn', 'nt', 'tt'] as const).map((l): MatmulShapeClass => `${s}-${l}`));
  return { format: 'kiln-tuning', version: 1, adapter: 'test', matmul: Object.fromEntries(classes.map((c) => [c, variantName(variant)])) };
}

/**
 * Products that reach every path of the template: edge blocks along m and n for every
 * block size (37, 29 and 36, 44 are not multiples of 8), each operand layout with its
 * vec4 or scalar reads, a broadcast batch, an epilogue, and a weight gradient whose bias
 * gradient is its extra row of ones (sibling fusion).
 */
function everyPath(): { graph: Graph; feeds: Record<string, number[]> } {
  const g = new Graph('variants');
  const feeds: Record<string, number[]> = {};
  const input = (name: string, shape: number[]) => {
    feeds[name] = testData(size(shape), Object.keys(feeds).length + 1);
    return g.input(name, shape);
  };
  g.output('scalar', matmul(input('a1', [37, 33]), input('b1', [33, 29])));
  g.output('vec4', matmul(input('a2', [36, 40]), input('b2', [40, 44])));
  g.output('tn', matmul(input('a3', [40, 36]), input('b3', [40, 44]), { transposeA: true }));
  g.output('nt', matmul(input('a4', [36, 40]), input('b4', [44, 40]), { transposeB: true }));
  g.output('tt', matmul(input('a5', [33, 37]), input('b5', [29, 33]), { transposeA: true, transposeB: true }));
  g.output('batch', matmul(input('a6', [2, 1, 12, 8]), input('b6', [3, 8, 20])));
  g.output('epilogue', matmul(input('a7', [21, 16]), input('b7', [16, 12])).add(input('bias', [12])).relu());
  const x = input('x', [20, 36]);
  const dy = input('dy', [20, 44]);
  g.output('dw', matmul(x, dy, { transposeA: true }));
  g.output('db', sum(dy, 0));
  return { graph: g, feeds };
}

/** Runs the plan's forward entry and compares every output with the reference interpreter. */
async function expectMatchesReference(plan: Plan, graph: Graph, feeds: Record<string, number[]>): Promise<void> {
  const { device } = await gpu();
  const session = await Session.create(device, plan);
  try {
    const actual = await session.forward(feeds);
    const expected = interpret(graph, { feeds: feeds as Record<string, HostValue> });
    // Sums of up to 40 products of values in [-1, 1): f32 accumulation errs by well under 40·2^-23.
    for (const [name, value] of Object.entries(expected)) expectClose(actual[name]!.data, value.data, 1e-5, 40 * 2 ** -23);
  } finally {
    session.destroy();
  }
}

describe('matmul variants and the autotuner (GPU)', () => {
  for (const variant of MATMUL_CANDIDATES) {
    it(`computes every layout, edge, batch and fused product right with the ${variantName(variant)} variant`, async () => {
      const { limits } = await gpu();
      const { graph, feeds } = everyPath();
      const plan = compile(graph, { limits, tuning: everywhere(variant) });
      const matmuls = plan.kernels.filter((k) => k.ops.includes('matmul'));
      expect(matmuls).to.have.length(8);
      const suffix = sameVariant(variant, DEFAULT_MATMUL_VARIANT) ? undefined : variantName(variant);
      for (const kernel of matmuls) {
        if (suffix) expect(kernel.name).to.contain(`_${suffix}`);
        else expect(kernel.name).to.not.match(/_b\dx\d_w\d+/);
      }
      await expectMatchesReference(plan, graph, feeds);
    });
  }

  it('times the candidates on this adapter, picks one per class, caches the table, and compiles correct kernels with it', async function () {
    this.timeout(30000);
    const device = await gpu();
    const options = {
      classes: ['small-nn', 'small-tn'] as const,
      candidates: [DEFAULT_MATMUL_VARIANT, { rows: 2, cols: 4, workgroupSize: 64 } as const],
      reduceClasses: ['medium-few'] as const,
      repeats: 1,
      runMs: 1,
    };
    const table = await autotune(device, options);
    expect(table.format).to.equal('kiln-tuning');
    expect(table.adapter).to.equal(adapterKey(device.adapter.info));
    expect(Object.keys(table.matmul)).to.deep.equal(['small-nn', 'small-tn']);
    expect(['b4x4_w64', 'b2x4_w64']).to.include(table.matmul['small-nn']);
    const rates = Object.values(table.measured!.matmul!['small-nn']!);
    expect(rates).to.have.length(2);
    for (const rate of rates) expect(rate).to.be.greaterThan(0);
    expect(Object.keys(table.reduce!)).to.deep.equal(['medium-few']);
    expect(['tree', 'perOutput']).to.include(table.reduce!['medium-few']);
    expect(Object.keys(table.measured!.reduce!['medium-few']!).sort()).to.deep.equal(['perOutput', 'tree']);
    // The same adapter and request: the cached table, not a new measurement.
    expect(await autotune(device, options)).to.equal(table);

    const g = new Graph('tuned');
    const feeds = { a: testData(64 * 36, 1), b: testData(36 * 40, 2), x: testData(16 * 100, 3) };
    g.output('y', matmul(g.input('a', [64, 36]), g.input('b', [36, 40])));
    g.output('rowSums', sum(g.input('x', [16, 100]), 1));
    const plan = compile(g, { limits: device.limits, tuning: JSON.parse(JSON.stringify(table)) as TuningTable });
    const chosen = table.matmul['small-nn']!;
    expect(plan.kernels.map((k) => k.name)).to.deep.equal([
      chosen === 'b4x4_w64' ? 'k2_matmul_ak4_bn4' : `k2_matmul_ak4_bn4_${chosen}`,
      table.reduce!['medium-few'] === 'tree' ? 'k4_sum_tree' : 'k4_sum',
    ]);
    await expectMatchesReference(plan, g, feeds);
  });
});
