import { expect } from 'chai';
import { compile } from '../../compiler/plan.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';

describe('compile', () => {
  it('keeps a kernel that two entries both make once: the training step reuses the forward layers', () => {
    const plan = compile(seedMlp({ batch: 8 }));
    const forward = plan.entries['forward']!.dispatches;
    const step = plan.entries['trainStep']!.dispatches;
    expect(step.slice(0, forward.length)).to.deep.equal([...forward]);
    const keys = plan.kernels.map((k) => `${k.wgsl}|${k.bindings.join(',')}`);
    expect(new Set(keys).size).to.equal(keys.length);
  });
});
