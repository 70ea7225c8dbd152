import { expect } from 'chai';
import { hashName, philox4x32, randomNormal, randomUniform } from '../../compiler/random.js';

describe('Philox4x32-10', () => {
  // Known-answer vectors of the Random123 distribution (tests/kat_vectors, "philox4x32 10").
  const vectors: [[number, number, number, number], [number, number], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [counter, key, expected] of vectors) {
    it(`matches the Random123 known answer for key ${key.map((k) => k.toString(16)).join(',')}`, () => {
      expect(philox4x32(counter, key)).to.deep.equal(expected);
    });
  }

  it('gives uniform floats in [0, 1) whose mean and variance are those of U(0,1)', () => {
    const u = randomUniform([7, 11], 100000);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    const variance = u.reduce((a, b) => a + (b - mean) ** 2, 0) / u.length;
    expect(Math.min(...u)).to.be.at.least(0);
    expect(Math.max(...u)).to.be.below(1);
    expect(mean).to.be.closeTo(0.5, 0.01);
    expect(variance).to.be.closeTo(1 / 12, 0.002);
  });

  it('gives normal floats with mean 0 and variance 1, all finite', () => {
    const z = randomNormal([3, 5], 100001);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
    expect(z.every(Number.isFinite)).to.equal(true);
    expect(mean).to.be.closeTo(0, 0.02);
    expect(variance).to.be.closeTo(1, 0.02);
  });

  it('gives the same stream for the same key and a different one for another key', () => {
    expect(Array.from(randomUniform([1, 2], 10))).to.deep.equal(Array.from(randomUniform([1, 2], 10)));
    expect(Array.from(randomUniform([1, 2], 10))).to.not.deep.equal(Array.from(randomUniform([1, 3], 10)));
  });

  it('hashes names to distinct u32 keys', () => {
    expect(hashName('w1')).to.not.equal(hashName('w2'));
    expect(hashName('w1')).to.be.within(0, 0xffffffff);
  });
});
