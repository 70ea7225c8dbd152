/**
 * Fashion-MNIST's file format and batches, with no Node imports, so the playground uses
 * them in a browser too: parsing the (uncompressed) IDX files, pairing images with labels
 * into a split, and batches of examples as model inputs. fashion-mnist.ts reads the files
 * in Node and re-exports all of this.
 */

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const IMAGE_SIZE = 28 * 28;

/** An IDX array of unsigned bytes: its dims and its data in row-major order. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** IDX type code of unsigned bytes, the only type these files use. */
const UBYTE = 0x08;

/**
 * Parses an (uncompressed) IDX file: two zero bytes, a type code, the number of dims,
 * each dim as a big-endian u32, then the data.
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: not an IDX file (it must start with two zero bytes).`);
  }
  if (bytes[2] !== UBYTE) {
    throw new Error(`${name}: IDX type 0x${bytes[2]!.toString(16)} is not supported; only unsigned bytes (0x08) are.`);
  }
  const rank = bytes[3]!;
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new Error(`${name}: truncated header (${rank} dims need ${header} bytes).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new Error(`${name}: dims [${dims.join(',')}] need ${size} data bytes, found ${bytes.length - header}.`);
  }
  return { dims, data: bytes.subarray(header) };
}

export interface FashionMnistSplit {
  /** Number of examples. */
  readonly count: number;
  /** count × 784 pixels, 0 (background) to 255. */
  readonly images: Uint8Array;
  /** count class indices, 0 to 9 (see FASHION_MNIST_CLASSES). */
  readonly labels: Uint8Array;
}

/** A split from its parsed image and label files, checked to match (`split` names it in errors). */
export function fashionMnistSplit(images: IdxArray, labels: IdxArray, split: string): FashionMnistSplit {
  const count = labels.dims[0]!;
  if (images.dims.length !== 3 || images.dims[0] !== count || images.dims[1]! * images.dims[2]! !== IMAGE_SIZE) {
    throw new Error(`Fashion-MNIST ${split}: images of dims [${images.dims.join(',')}] do not match ${count} labels of 28×28 images.`);
  }
  return { count, images: images.data, labels: labels.data };
}

/** A batch for a model: pixels scaled to [0, 1] as f32 [size, 784], labels as i32 [size]. */
export type Batch = {
  readonly images: Float32Array;
  readonly labels: Int32Array;
};

/** Examples start … start+size−1 of a split, as model inputs. */
export function batchOf(split: FashionMnistSplit, start: number, size: number): Batch {
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 0 || start + size > split.count) {
    throw new Error(`batchOf: examples ${start} to ${start + size - 1} are outside the split's 0 to ${split.count - 1}.`);
  }
  return batchAt(split, Array.from({ length: size }, (_, i) => start + i), size);
}

/**
 * The examples at `indices` (a shuffled order, say) as a batch of `size` rows; rows past
 * the indices stay zero, so the last, partial batch of a split fits a fixed-shape model.
 */
export function batchAt(split: FashionMnistSplit, indices: ArrayLike<number>, size: number): Batch {
  const images = new Float32Array(size * IMAGE_SIZE);
  const labels = new Int32Array(size);
  for (let row = 0; row < indices.length; row++) {
    const example = indices[row]!;
    const pixels = split.images.subarray(example * IMAGE_SIZE, (example + 1) * IMAGE_SIZE);
    for (let p = 0; p < IMAGE_SIZE; p++) images[row * IMAGE_SIZE + p] = pixels[p]! / 255;
    labels[row] = split.labels[example]!;
  }
  return { images, labels };
}
