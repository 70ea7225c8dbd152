import { expect } from 'chai';
import { compile } from '../../../../compiler/plan.js';
import { Graph } from '../../../../compiler/graph.js';
import { dimSize } from '../../../../compiler/ops/dim-size.js';
import { seedMlp } from '../../../../examples/models/seed-mlp.js';
import { fuseGraph } from './harness.js';

describe('fusion: values recomputed where they are read (CPU)', () => {
  it('a symbolic batch costs the seed MLP no dispatch: its training step has as many kernels as the static one', () => {
    const symbolic = compile(seedMlp({ batch: 'batch' }));
    const fixed = compile(seedMlp({ batch: 64 }));
    expect(symbolic.entries['trainStep']!.dispatches.length).to.equal(fixed.entries['trainStep']!.dispatches.length);
  });

  it('a chain over a size and splats, viewed through a reshape, joins its readers as an expression, with no kernel or buffer of its own', () => {
    const g = new Graph('uniform');
    const x = g.input('x', ['batch', 3]);
    const scale = g.constant(1).broadcastTo([g.dim('batch')]).div(dimSize(g, g.dim('batch'))).neg().reshape([-1, 1]);
    const y = x.mul(scale).exp();
    const { groups, ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['mul', 'exp']]);
    expect(groups[0]!.storageBuffers).to.equal(2);
    g.output('y', y);
    const plan = compile(g, { check: true });
    expect(plan.kernels.filter((k) => !k.name.startsWith('init'))).to.have.length(1);
    expect(plan.kernels.at(-1)!.wgsl).to.include('f32(kiln_dims.batch)');
  });

  it('a value read by a matmul is computed by a kernel of its own, since the matmul loads it', () => {
    const g = new Graph('read_by_matmul');
    const x = g.input('x', ['batch', 4]);
    const weights = g.constant(1).broadcastTo([4, 2]).div(dimSize(g, g.dim('batch')));
    const y = x.matmul(weights);
    const { ops } = fuseGraph(g, { outputs: [y.id] });
    expect(ops).to.deep.equal([['div'], ['matmul']]); // its own input, a broadcast splat, is recomputed inside it
  });
});
