/**
 * Data for models in the page, as user code sees it (`data`): Fashion-MNIST fetched from
 * the playground's own site (`data/fashion-mnist/*.gz`, put there by the build) when its
 * first batch is needed, the body streamed so the page shows the bytes arriving, and
 * gunzipped with DecompressionStream; shuffled batches of it, and a seeded generator for
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

/** How a download is going, for the page's status: what (`Fashion-MNIST train: 3.1 of 26.4 MB`) and how far (0..1) when the size is known. */
export type DatasetProgress = (stage: string, fraction?: number) => void;

let progressSink: DatasetProgress | undefined;

/**
 * Where downloads report their progress from now on: the worker points it at the call that
 * is waiting for data (feeds), so the page shows the bytes arriving; `undefined` stops it.
 */
export function reportDatasetProgressTo(sink: DatasetProgress | undefined): void {
  progressSink = sink;
}

/** Progress reports at most this often (a 26 MB file arrives in hundreds of chunks). */
const PROGRESS_INTERVAL_MS = 100;

const splits = new Map<string, Promise<FashionMnistSplit>>();

/**
 * The training (60 000) or test (10 000) split, fetched once per page, and only when first
 * awaited: `data.fashionMnist('train')` at compile costs nothing, `data.batches` awaits it
 * when the first feeds are asked for, so a graph shows before its data downloads.
 */
function fashionMnist(split: 'train' | 'test' = 'train'): PromiseLike<FashionMnistSplit> {
  if (split !== 'train' && split !== 'test') throw new Error(`data.fashionMnist: split must be 'train' or 'test', got ${String(split)}.`);
  return { then: (onLoaded, onFailed) => loadSplit(split).then(onLoaded, onFailed) };
}

function loadSplit(split: 'train' | 'test'): Promise<FashionMnistSplit> {
  let loaded = splits.get(split);
  if (!loaded) {
    const files = FASHION_MNIST_FILES[split];
    const progress = new DownloadProgress(`downloading Fashion-MNIST ${split}`);
    loaded = Promise.all([fetchIdx(files.images, progress), fetchIdx(files.labels, progress)]).then(([images, labels]) => fashionMnistSplit(images, labels, split));
    // A failed fetch is not cached: the next request tries again.
    loaded.catch(() => splits.delete(split));
    splits.set(split, loaded);
  }
  return loaded;
}

/** The bytes of a split's files so far, of their total (from Content-Length, when the server sends it). */
class DownloadProgress {
  private readonly loaded = new Map<string, number>();
  private readonly totals = new Map<string, number | undefined>();
  private lastReport = -Infinity;

  constructor(private readonly what: string) {}

  update(file: string, loaded: number, total: number | undefined, done = false): void {
    this.loaded.set(file, loaded);
    this.totals.set(file, total);
    const now = performance.now();
    if (!done && now - this.lastReport < PROGRESS_INTERVAL_MS) return;
    this.lastReport = now;
    const bytes = [...this.loaded.values()].reduce((a, b) => a + b, 0);
    const sizes = [...this.totals.values()];
    const all = sizes.every((size) => size !== undefined) ? sizes.reduce((a, b) => a! + b!, 0)! : undefined;
    progressSink?.(`${this.what}: ${megabytes(bytes)}${all === undefined ? '' : ` of ${megabytes(all)}`} MB`, all ? Math.min(bytes / all, 1) : undefined);
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

async function fetchIdx(file: string, progress: DownloadProgress): Promise<IdxArray> {
  const url = FASHION_MNIST_PATH + file;
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `Fashion-MNIST: GET ${url} answered ${response.status}. Fix: build the playground on a machine with the dataset ` +
        `('apt-get install dataset-fashion-mnist', or set FASHION_MNIST_DIR) so the build copies it next to the page.`,
    );
  }
  let bytes = await streamedBody(response, file, progress);
  // A host that sends .gz with Content-Encoding: gzip has had the browser unzip it already.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return parseIdx(bytes, url);
}

/**
 * The response's body, counted as it streams in to report the bytes so far. Counted on its
 * way through (a TransformStream) and read whole by the Response: a worker's fetch read
 * with a reader of its own ends as net::ERR_ABORTED in Chromium's request log although
 * every byte arrived, which the browser tests rightly count as a failed request.
 */
async function streamedBody(response: Response, file: string, progress: DownloadProgress): Promise<Uint8Array> {
  // Content-Length counts the bytes sent; with Content-Encoding the body read is larger, so there is no total.
  const length = response.headers.get('content-encoding') ? null : response.headers.get('content-length');
  const total = length === null ? undefined : Number(length);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  let loaded = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        loaded += chunk.length;
        progress.update(file, loaded, total);
        controller.enqueue(chunk);
      },
    }),
  );
  const bytes = new Uint8Array(await new Response(counted).arrayBuffer());
  progress.update(file, loaded, total, true);
  return bytes;
}

/**
 * Feeds for step 0, 1, …: `{images, labels}` batches of `size` examples, a fresh shuffle
 * of the split each epoch (seeded, so runs repeat), full batches only. The split is
 * awaited at the first step, which starts its download: compiling never waits for data.
 */
function batches(split: FashionMnistSplit | PromiseLike<FashionMnistSplit>, size: number, seed = 0): (step: number) => Promise<Batch> {
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
