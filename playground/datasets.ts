/**
 * Data for models in the page, as user code sees it (`data`): Fashion-MNIST fetched from
 * the playground's own site (`data/fashion-mnist/*.gz`, put there by the build) and
 * gunzipped with DecompressionStream, shuffled batches of it, and a seeded generator for
 * synthetic data. Parsing and batching are the Node example's own (fashion-mnist-format.ts).
 */

import type { Batch, FashionMnistSplit, IdxArray } from '../examples/data/fashion-mnist-format.js';
import { FASHION_MNIST_CLASSES, batchAt, fashionMnistSplit, parseIdx } from '../examples/data/fashion-mnist-format.js';
import { seededRandom, shuffledOrder } from '../examples/data/seeded-random.js';

/** Where the build puts the dataset, relative to the page. */
export const FASHION_MNIST_PATH = 'data/fashion-mnist/';

/** The files the page fetches, by split. */
export const FASHION_MNIST_FILES: Readonly<Record<'train' | 'test', { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
};

const splits = new Map<string, Promise<FashionMnistSplit>>();

/** The training (60 000) or test (10 000) split, fetched once per page. */
function fashionMnist(split: 'train' | 'test' = 'train'): Promise<FashionMnistSplit> {
  if (split !== 'train' && split !== 'test') throw new Error(`data.fashionMnist: split must be 'train' or 'test', got ${String(split)}.`);
  let loaded = splits.get(split);
  if (!loaded) {
    const files = FASHION_MNIST_FILES[split];
    loaded = Promise.all([fetchIdx(files.images), fetchIdx(files.labels)]).then(([images, labels]) => fashionMnistSplit(images, labels, split));
    // A failed fetch is not cached: the next compile tries again.
    loaded.catch(() => splits.delete(split));
    splits.set(split, loaded);
  }
  return loaded;
}

async function fetchIdx(file: string): Promise<IdxArray> {
  const url = FASHION_MNIST_PATH + file;
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `Fashion-MNIST: GET ${url} answered ${response.status}. Fix: build the playground on a machine with the dataset ` +
        `('apt-get install dataset-fashion-mnist', or set FASHION_MNIST_DIR) so the build copies it next to the page.`,
    );
  }
  let bytes = new Uint8Array(await response.arrayBuffer());
  // A host that sends .gz with Content-Encoding: gzip has had the browser unzip it already.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return parseIdx(bytes, url);
}

/**
 * Feeds for step 0, 1, …: `{images, labels}` batches of `size` examples, a fresh shuffle
 * of the split each epoch (seeded, so runs repeat), full batches only. The split may still
 * be loading: the first step waits for it, so the page shows the compiled graph first.
 */
function batches(split: FashionMnistSplit | Promise<FashionMnistSplit>, size: number, seed = 0): (step: number) => Promise<Batch> {
  let epoch = -1;
  let order: Uint32Array = new Uint32Array(0);
  return async (step) => {
    const loaded = await split;
    const perEpoch = Math.floor(loaded.count / size);
    if (!Number.isInteger(size) || size < 1 || perEpoch < 1) throw new Error(`data.batches: batch size must be an integer from 1 to ${loaded.count}, got ${size}.`);
    const wanted = Math.floor(step / perEpoch);
    if (wanted !== epoch) {
      epoch = wanted;
      order = shuffledOrder(loaded.count, seed + epoch);
    }
    const start = (step % perEpoch) * size;
    return batchAt(loaded, order.subarray(start, start + size), size);
  };
}

/** What user code gets as `data`. */
export const playgroundData = {
  fashionMnist,
  fashionMnistClasses: FASHION_MNIST_CLASSES,
  batches,
  /** `random()` in [0, 1), the same sequence for a seed. */
  random: seededRandom,
};
