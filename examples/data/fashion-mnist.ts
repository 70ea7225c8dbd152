/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) from the gzipped IDX files that Debian's
 * `dataset-fashion-mnist` package installs: 60 000 training and 10 000 test images of
 * 28×28 grey pixels, in 10 clothing classes.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FashionMnistSplit, IdxArray } from './fashion-mnist-format.js';
import { fashionMnistSplit, parseIdx } from './fashion-mnist-format.js';

export * from './fashion-mnist-format.js';

/** Where the files are: `$FASHION_MNIST_DIR`, or where the Debian package puts them. */
export const FASHION_MNIST_DIR = process.env['FASHION_MNIST_DIR'] ?? '/usr/share/datasets/fashion-mnist';

/** Reads the training (60 000) or test (10 000) split. */
export async function loadFashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): Promise<FashionMnistSplit> {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = await readIdx(join(dir, `${prefix}-images-idx3-ubyte.gz`));
  const labels = await readIdx(join(dir, `${prefix}-labels-idx1-ubyte.gz`));
  return fashionMnistSplit(images, labels, split);
}

async function readIdx(path: string): Promise<IdxArray> {
  let compressed: Buffer;
  try {
    compressed = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(
      `Fashion-MNIST is missing: no ${path}. Fix: on Debian/Ubuntu run 'apt-get install dataset-fashion-mnist' ` +
        `(or 'bash setup.sh'); elsewhere download the four *-ubyte.gz files and set FASHION_MNIST_DIR to their folder.`,
    );
  }
  return parseIdx(gunzipSync(compressed), path);
}
