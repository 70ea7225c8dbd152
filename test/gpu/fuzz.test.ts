/**
 * Random-graph fuzzing: seeded random graphs (test/fuzz/random-graph.ts) of elementwise,
 * broadcast, comparison, reduction, matmul, layout and softmax ops, and layer ops
 * (pooling, cumsum, tril/triu, attention, layer/RMS norm, convolutions), a third of
 * them with gradients, each compiled fused with the device's limits, checked (memory
 * plan, dataflow), run on the GPU and compared with the reference interpreter; every fourth is
 * also run unfused (and the fused results compared with those), and every fourth other
 * one is compiled for WebGPU's default 8 storage buffers (test/fuzz/check-graph.ts).
 *
 * Each test names its seed. Rerun one graph, fuzz further (every plan for every graph
 * with KILN_FUZZ_ALL_PLANS=1), or shrink a failure to a small graph with
 *   KILN_FUZZ_SEED=<seed> KILN_FUZZ_COUNT=1 npx mocha test/gpu/fuzz.test.ts
 *   KILN_FUZZ_SEED=100000 KILN_FUZZ_COUNT=2000 KILN_FUZZ_ALL_PLANS=1 npx mocha test/gpu/fuzz.test.ts
 *   npx tsx test/fuzz/minimize-seed.ts <seed>
 */

import { expect } from 'chai';
import type { CheckOptions, GraphReport } from '../fuzz/check-graph.js';
import { checkRandomGraph } from '../fuzz/check-graph.js';
import { randomGraph } from '../fuzz/random-graph.js';
import { gpu } from './harness.js';

const FIRST_SEED = Number(process.env['KILN_FUZZ_SEED'] ?? 1);
/** About 20 s on SwiftShader here (2 CPU cores), most of it compiling pipelines. */
const COUNT = Number(process.env['KILN_FUZZ_COUNT'] ?? 200);

/** Check every graph with every plan (slower), not the shares below. */
const ALL_PLANS = process.env['KILN_FUZZ_ALL_PLANS'] === '1';

/** Which extra plans a seed is checked with: an unfused plan costs twice the fused one to compile, so a share each. */
function optionsFor(seed: number): CheckOptions {
  return { unfused: ALL_PLANS || seed % 4 === 0, specMinimum: ALL_PLANS || seed % 4 === 2 };
}

function describePlans({ unfused, specMinimum }: CheckOptions): string {
  return ['fused', ...(unfused ? ['unfused'] : []), ...(specMinimum ? ['fused within 8 storage buffers'] : [])].join(', ');
}

describe('random-graph fuzzing (GPU)', function () {
  this.timeout(60000);
  const reports: GraphReport[] = [];

  for (let seed = FIRST_SEED; seed < FIRST_SEED + COUNT; seed++) {
    const options = optionsFor(seed);
    it(`random graph ${seed} gives the reference's results (${describePlans(options)})`, async () => {
      reports.push(await checkRandomGraph(await gpu(), randomGraph(seed), options));
    });
  }

  it('fuses: over all graphs checked unfused too, the fused plans dispatch fewer kernels', function () {
    const both = reports.filter((r) => r.dispatches.unfused !== undefined);
    if (both.length === 0) this.skip();
    const total = (kind: 'fused' | 'unfused'): number => both.reduce((sum, r) => sum + r.dispatches[kind]!, 0);
    expect(total('fused')).to.be.below(total('unfused'));
  });
});
