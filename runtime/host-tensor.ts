/**
 * Values on the host and the bytes device buffers hold: feeds are checked against their
 * buffer (dtype, shape, length, integer and 0/1 values) and converted to those bytes, and
 * read-back bytes become tensors. f32 data is copied bit for bit (NaN payloads, -0).
 */

import { FeedError } from '../compiler/errors.js';
import type { PlanBuffer, PlanDType } from '../compiler/plan-format.js';
import { fromPlanNumber } from '../compiler/plan-format.js';

/** A tensor's values on the host, as a session returns them (bool as 0/1 bytes). */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly dtype: PlanDType;
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/** A value fed to an input (or given for a param): flat row-major numbers, or a tensor. */
export type Feed = ArrayLike<number> | HostTensor;

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** A plan buffer as one run sees it: sizes at the run's dims (a static plan's buffers are these already). */
export type SizedBuffer = Omit<PlanBuffer, 'shape' | 'bytes'> & { readonly shape: readonly number[]; readonly bytes: number };

/** `f32[3,17]`, `f32[batch,784]` */
export function describeBuffer(buffer: Pick<PlanBuffer, 'dtype' | 'shape'>): string {
  return `${buffer.dtype}[${buffer.shape.join(',')}]`;
}

export function elementCount(buffer: { readonly shape: readonly number[] }): number {
  return buffer.shape.reduce((a, b) => a * b, 1);
}

export function isHostTensor(feed: object): feed is HostTensor {
  return 'data' in feed && 'shape' in feed && 'dtype' in feed;
}

/**
 * Validates a feed against its buffer and converts it to the bytes the buffer holds (a
 * copy: the caller may reuse its array at once). `what` names the value in errors.
 * `checked` (a run's `checkFeeds`) also rejects NaN and ±Infinity in f32 values and values
 * outside the buffer's declared `valueRange`, which the graph would use without an error.
 */
export function feedBytes(what: string, buffer: SizedBuffer, feed: Feed, checked = false): ArrayBuffer {
  const expected = describeBuffer(buffer);
  if (feed === null || typeof feed !== 'object' || (typeof (feed as { length?: unknown }).length !== 'number' && !isHostTensor(feed))) {
    throw new FeedError(`${what}: expected ${expected} as an array of numbers, a typed array or a tensor {shape, dtype, data}; got ${feed === null ? 'null' : typeof feed}.`);
  }
  let values: ArrayLike<number>;
  if (isHostTensor(feed)) {
    const given = describeBuffer(feed);
    if (given !== expected) throw new FeedError(`${what}: expected ${expected}, got ${given}.`);
    values = feed.data;
  } else {
    values = feed;
  }
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    throw new FeedError(`${what}: expected ${expected} as numbers; got a ${values.constructor.name}. Convert it first, e.g. Int32Array.from(values, Number).`);
  }
  const count = elementCount(buffer);
  if (values.length !== count) {
    throw new FeedError(`${what}: expected ${count} values for ${expected}, got ${values.length}. Feed a flat array in row-major order.`);
  }
  if (!ArrayBuffer.isView(values)) {
    for (let i = 0; i < count; i++) {
      if (typeof values[i] !== 'number') {
        throw new FeedError(`${what}: expected numbers for ${expected}; element ${i} is ${describeElement(values[i])}. Feed a flat array in row-major order.`);
      }
    }
  }
  if (checked) checkFeedValues(what, buffer, values);
  const bytes = new ArrayBuffer(Math.max(4, count * 4));
  if (buffer.dtype === 'f32') {
    // Float32Array → Float32Array copies bits, so NaN payloads survive.
    new Float32Array(bytes).set(values);
    return bytes;
  }
  const target = buffer.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    const ok = buffer.dtype === 'i32' ? Number.isInteger(v) && v >= I32_MIN && v <= I32_MAX : v === 0 || v === 1;
    if (!ok) {
      const rule = buffer.dtype === 'i32' ? `integers in [${I32_MIN}, ${I32_MAX}]` : '0 or 1';
      throw new FeedError(`${what}: ${expected} values must be ${rule}; element ${i} is ${v}.`);
    }
    target[i] = v;
  }
  return bytes;
}

/** The checks of `checkFeeds`: finite f32 values, and values inside the buffer's declared range. */
function checkFeedValues(what: string, buffer: SizedBuffer, values: ArrayLike<number>): void {
  const range = buffer.valueRange;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (buffer.dtype === 'f32' && !Number.isFinite(v)) {
      throw new FeedError(`${what}: element ${i} is ${v}; checkFeeds rejects NaN and ±Infinity in f32 feeds. Fix the data, or run without checkFeeds to feed them on purpose.`);
    }
    if (range && (v < range.min || v > range.max)) {
      throw new FeedError(
        `${what}: element ${i} is ${v}, outside [${range.min}, ${range.max}] (the ${range.reason}), where the graph would ignore it without an error. Fix the data.`,
      );
    }
  }
}

function describeElement(value: unknown): string {
  if (Array.isArray(value)) return 'an array (nested arrays are not accepted)';
  return value === undefined ? 'missing' : `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
}

/** The bytes of a const buffer: its data, or its one value repeated. */
export function constantBytes(buffer: SizedBuffer): ArrayBuffer {
  const data = buffer.data!.map(fromPlanNumber);
  const values = data.length === 1 ? new Array<number>(elementCount(buffer)).fill(data[0]!) : data;
  return feedBytes(`const buffer #${buffer.id} (${buffer.name})`, buffer, values);
}

/** A buffer's read-back bytes as a tensor of its shape, or of `viewShape` (bool from u32 to 0/1 bytes). */
export function toHost(buffer: SizedBuffer, bytes: ArrayBuffer, viewShape: readonly number[] = buffer.shape): HostTensor {
  const count = elementCount(buffer);
  const shape = [...viewShape];
  if (buffer.dtype === 'f32') return { shape, dtype: 'f32', data: new Float32Array(bytes, 0, count) };
  if (buffer.dtype === 'i32') return { shape, dtype: 'i32', data: new Int32Array(bytes, 0, count) };
  return { shape, dtype: 'bool', data: Uint8Array.from(new Uint32Array(bytes, 0, count)) };
}
