import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { batchOf, loadFashionMnist, parseIdx } from '../../../examples/data/fashion-mnist.js';

/** An IDX file of unsigned bytes with the given dims. */
function idx(dims: number[], data: number[]): Uint8Array {
  const header = [0, 0, 0x08, dims.length, ...dims.flatMap((d) => [(d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])];
  return Uint8Array.from([...header, ...data]);
}

describe('examples/data/fashion-mnist', () => {
  describe('parseIdx', () => {
    it('reads big-endian dims and the data after them', () => {
      const parsed = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]));
      expect(parsed.dims).to.deep.equal([2, 3]);
      expect(Array.from(parsed.data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(parseIdx(idx([300], new Array<number>(300).fill(7))).dims).to.deep.equal([300]);
    });

    it('refuses a file without the IDX magic, of another type, or of the wrong length', () => {
      expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1]), 'x.idx')).to.throw('x.idx: not an IDX file');
      expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 0]), 'x.idx')).to.throw('IDX type 0xd is not supported');
      expect(() => parseIdx(Uint8Array.from([0, 0, 8, 2, 0, 0]))).to.throw('truncated header');
      expect(() => parseIdx(idx([2, 3], [1, 2, 3]))).to.throw('dims [2,3] need 6 data bytes, found 3');
    });
  });

  describe('loadFashionMnist', () => {
    it('reads the 10 000 test images, 1 000 of each class', async () => {
      const test = await loadFashionMnist('test');
      expect(test.count).to.equal(10000);
      expect(test.images.length).to.equal(10000 * 784);
      const perClass = new Array<number>(10).fill(0);
      for (const label of test.labels) perClass[label]!++;
      expect(perClass).to.deep.equal(new Array<number>(10).fill(1000));
    });

    it('says which package to install when the files are missing', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'kiln-no-data-'));
      try {
        let caught: unknown;
        await loadFashionMnist('test', empty).catch((error: unknown) => (caught = error));
        expect((caught as Error).message).to.match(/Fashion-MNIST is missing: no .*t10k-images.*apt-get install dataset-fashion-mnist/);
      } finally {
        await rm(empty, { recursive: true });
      }
    });
  });

  describe('batchOf', () => {
    const split = { count: 3, images: Uint8Array.from({ length: 3 * 784 }, (_, i) => (i < 784 ? 0 : i < 1568 ? 255 : 51)), labels: Uint8Array.from([4, 9, 0]) };

    it('scales pixels to [0, 1] and makes i32 labels', () => {
      const batch = batchOf(split, 1, 2);
      expect(batch.images.length).to.equal(2 * 784);
      expect([batch.images[0], batch.images[784]]).to.deep.equal([1, Math.fround(0.2)]);
      expect(Array.from(batch.labels)).to.deep.equal([9, 0]);
    });

    it('refuses a range outside the split', () => {
      expect(() => batchOf(split, 2, 2)).to.throw("examples 2 to 3 are outside the split's 0 to 2");
    });
  });
});
