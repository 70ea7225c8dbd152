/**
 * Fashion-MNIST for the page: the four idx files fetched from `data/fashion-mnist/` next
 * to the page, gunzipped with the browser's DecompressionStream, and shuffled batches of
 * them as the model's inputs.
 */

export const CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export const PIXELS = 28 * 28;

/** Where the app's build or server puts the dataset, relative to the page. */
const DATA_PATH = 'data/fashion-mnist/';

const FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

export interface Split {
  readonly count: number;
  /** count × 784 bytes, 0 (background) to 255. */
  readonly images: Uint8Array;
  /** count class indices, 0 to 9 (see CLASSES). */
  readonly labels: Uint8Array;
}

export interface Batch {
  /** Pixels scaled to [0, 1], [size, 784]. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

export async function loadSplit(split: 'train' | 'test'): Promise<Split> {
  const [images, labels] = await Promise.all([fetchIdx(FILES[split].images), fetchIdx(FILES[split].labels)]);
  return { count: labels.length, images, labels };
}

/** One idx file's data bytes (its header checked and dropped). */
async function fetchIdx(file: string): Promise<Uint8Array> {
  const url = DATA_PATH + file;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: put Fashion-MNIST's .gz files in ${DATA_PATH} next to the page.`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  // A server that sends .gz with Content-Encoding: gzip has had the browser unzip it already.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  // Two zero bytes, type 0x08 (unsigned bytes), the rank, then each dim as a big-endian u32.
  const rank = bytes[3] ?? 0;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || rank < 1) throw new Error(`${url} is not an idx file of unsigned bytes.`);
  return bytes.subarray(4 + 4 * rank);
}

/** The examples at `indices` as model inputs; rows past the end of `indices` stay zero. */
export function batchOf(split: Split, indices: ArrayLike<number>, size: number): Batch {
  const images = new Float32Array(size * PIXELS);
  const labels = new Int32Array(size);
  for (let row = 0; row < Math.min(size, indices.length); row++) {
    const index = indices[row] ?? 0;
    const pixels = split.images.subarray(index * PIXELS, (index + 1) * PIXELS);
    for (let i = 0; i < PIXELS; i++) images[row * PIXELS + i] = (pixels[i] ?? 0) / 255;
    labels[row] = split.labels[index] ?? 0;
  }
  return { images, labels };
}

/** 0 … count−1 in a random order (Fisher–Yates). */
export function shuffled(count: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}
