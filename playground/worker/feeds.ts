/**
 * The worker's `feeds`: step `step`'s inputs of an entry, from the last compile's code
 * (`feeds(step)`), as typed arrays whose buffers are transferred to the page. Each is a
 * copy, so an array the code reuses between steps stays whole in the worker.
 */

import { FeedError } from '../../index.js';
import type { Feed, PlanBuffer } from '../../index.js';
import { isHostTensor } from '../../runtime/host-tensor.js';
import { reportDatasetProgressTo } from '../datasets.js';
import type { TensorData } from '../protocol.js';
import { entryFeeds } from '../user-code.js';
import type { Handled, HandlerContext } from './host.js';
import { lastCompile } from './state.js';

export async function feeds(args: { readonly entry: string; readonly step: number }, context: HandlerContext): Promise<Handled<Readonly<Record<string, TensorData>>>> {
  const { user, stages: { plan } } = lastCompile('feeds');
  const entry = plan.entries[args.entry];
  if (!entry) throw new Error(`feeds: the plan has no entry '${args.entry}' (it has ${Object.keys(plan.entries).join(', ')}).`);
  // A dataset that downloads for these feeds reports its bytes to this call (the page's status shows them).
  reportDatasetProgressTo(context.progress);
  const given = await entryFeeds(user, entry, args.step).finally(() => reportDatasetProgressTo(undefined));
  const result: Record<string, TensorData> = {};
  for (const [name, feed] of Object.entries(given)) {
    result[name] = tensorData(`feeds(${args.step}).${name}`, plan.buffers[entry.inputs[name]!]!, feed);
  }
  return { result, transfer: Object.values(result).map((tensor) => tensor.data.buffer as ArrayBuffer) };
}

/** A copy of `feed`'s values for `buffer`; the page's Session checks them against the buffer as it runs. */
function tensorData(what: string, buffer: PlanBuffer, feed: Feed): TensorData {
  if (feed === null || typeof feed !== 'object') throw new FeedError(`${what}: expected an array of numbers, a typed array or a tensor {shape, dtype, data}; got ${feed === null ? 'null' : typeof feed}.`);
  const tensor = isHostTensor(feed) ? feed : undefined;
  // The page feeds the values alone, so a tensor's shape is checked here (a symbolic dim matches any size).
  if (tensor && (tensor.shape.length !== buffer.shape.length || buffer.shape.some((size, i) => typeof size === 'number' && size !== tensor.shape[i]))) {
    throw new FeedError(`${what}: expected ${buffer.dtype}[${buffer.shape.join(',')}], got ${tensor.dtype}[${tensor.shape.join(',')}].`);
  }
  const values = tensor ? tensor.data : (feed as ArrayLike<number>);
  const shape = tensor ? [...tensor.shape] : [values.length];
  return { dtype: buffer.dtype, shape, data: copyOf(what, values) };
}

function copyOf(what: string, values: ArrayLike<number>): TensorData['data'] {
  if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint32Array || values instanceof Uint8Array || values instanceof Float64Array) return values.slice();
  if (ArrayBuffer.isView(values)) throw new FeedError(`${what}: a ${values.constructor.name} cannot be fed. Fix: give a Float32Array, an Int32Array or plain numbers.`);
  const copy = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // Anything else goes through as NaN and would pass as data: say what it is instead.
    if (typeof value !== 'number') throw new FeedError(`${what}: element ${i} is ${Array.isArray(value) ? 'an array (nested arrays are not accepted)' : typeof value}; feed a flat array of numbers in row-major order.`);
    copy[i] = value;
  }
  return copy;
}
