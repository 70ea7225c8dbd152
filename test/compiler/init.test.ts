import { expect } from 'chai';
import { ArgumentError } from '../../compiler/errors.js';
import { fans, initialValue, normalizeInit } from '../../compiler/init.js';
import type { InitSpec } from '../../compiler/init.js';
import { Graph } from '../../compiler/graph.js';
import { initialParams } from '../../compiler/reference.js';

function stats(data: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  const values = Array.from(data);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, min: Math.min(...values), max: Math.max(...values) };
}

describe('initializers', () => {
  const value = (shape: number[], spec: InitSpec) => initialValue('w', shape, 'f32', spec, 0).data;

  it('fills zeros, ones and constants', () => {
    expect(Array.from(value([2, 2], { kind: 'zeros' }))).to.deep.equal([0, 0, 0, 0]);
    expect(Array.from(value([3], { kind: 'ones' }))).to.deep.equal([1, 1, 1]);
    expect(Array.from(value([2], { kind: 'constant', value: 0.5 }))).to.deep.equal([0.5, 0.5]);
  });

  it('draws Glorot-uniform weights within ±√(6/(fanIn+fanOut)) with the matching spread', () => {
    const bound = Math.sqrt(6 / (300 + 100));
    const s = stats(value([300, 100], { kind: 'glorotUniform' }));
    expect(s.min).to.be.at.least(-bound);
    expect(s.max).to.be.at.most(bound);
    expect(s.std).to.be.closeTo(bound / Math.sqrt(3), 0.003);
  });

  it('draws He-normal weights with std √2/√fanIn', () => {
    const s = stats(value([200, 300], { kind: 'heNormal' }));
    expect(s.mean).to.be.closeTo(0, 0.003);
    expect(s.std).to.be.closeTo(Math.SQRT2 / Math.sqrt(200), 0.002);
  });

  it("draws PyTorch nn.Linear's default U(±1/√fanIn), taking a bias's fan-in from the spec", () => {
    const w = stats(value([64, 32], { kind: 'linearDefault' }));
    expect(w.max).to.be.at.most(1 / 8);
    expect(w.min).to.be.at.least(-1 / 8);
    const b = stats(value([32], { kind: 'linearDefault', fanIn: 64 }));
    expect(b.max).to.be.at.most(1 / 8);
  });

  it('takes conv fans from the PyTorch layout [out, in, kh, kw]', () => {
    expect(fans('x', [6, 3, 5, 5], {})).to.deep.equal({ fanIn: 75, fanOut: 150 });
  });

  it('refuses a fan-based initializer on a bias without fanIn, and says how to fix it', () => {
    expect(() => value([10], { kind: 'glorotUniform' })).to.throw(ArgumentError, /pass \{fanIn\}/);
  });

  it('refuses unknown kinds and random kinds on integer tensors', () => {
    expect(() => normalizeInit('param w', 'xavier' as never, 'f32')).to.throw(ArgumentError, /unknown initializer 'xavier'/);
    expect(() => normalizeInit('param w', 'normal', 'i32')).to.throw(ArgumentError, /needs a float dtype/);
  });

  it('is reproducible from the graph seed and the name, and changes with either', () => {
    const build = (seed: number, extra: boolean) => {
      const g = new Graph('g', { seed });
      if (extra) g.param('a', [5], { init: 'normal' });
      g.param('w', [4, 3], { init: 'glorotNormal' });
      return Array.from(initialParams(g)['w']!.data);
    };
    expect(build(1, false)).to.deep.equal(build(1, false));
    expect(build(1, false), 'adding a param leaves the others alone').to.deep.equal(build(1, true));
    expect(build(1, false)).to.not.deep.equal(build(2, false));
  });
});
