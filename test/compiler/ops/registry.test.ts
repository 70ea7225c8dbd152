import { expect } from 'chai';
import '../../../index.js';
import { getOp, registeredOps } from '../../../compiler/ops/op.js';
import { SOURCE_OPS } from '../../../compiler/ops/source.js';

describe('the op registry', () => {
  // Test files may register test-only ops (named test…); every real op must be complete.
  const ops = registeredOps().filter((name) => !name.startsWith('test') && !SOURCE_OPS.has(name));

  it('has every op of the public API', () => {
    expect(ops.length).to.be.at.least(60);
  });

  // Resolved by a pass before lowering (specializeModes), so it has no WGSL of its own.
  const resolvedBeforeLowering = new Set(['modeSelect']);

  for (const name of ops) {
    it(`gives ${name} a shape rule, a reference, a VJP rule and a WGSL lowering`, () => {
      const def = getOp(name);
      expect(def.infer, 'infer').to.be.a('function');
      expect(def.evaluate, 'evaluate').to.be.a('function');
      expect(def.vjp, 'vjp').to.be.a('function');
      if (resolvedBeforeLowering.has(name)) expect(def.lower, 'lower').to.equal(undefined);
      else expect(def.lower, 'lower').to.be.an('object');
    });
  }
});
