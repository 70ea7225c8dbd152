/**
 * The playground's datasets load on demand (playground/datasets.ts): asking for a split at
 * compile fetches nothing, the first batch fetches it once, streamed, reporting bytes of the
 * total to whoever waits for it, and a failed download is tried again next time. `fetch` is
 * stubbed with the Debian package's files, served in small chunks as a server would.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FASHION_MNIST_DIR } from '../../examples/data/fashion-mnist.js';
import { FASHION_MNIST_PATH, playgroundData, reportDatasetProgressTo } from '../../playground/datasets.js';

const CHUNK = 256 * 1024;

/** A response streaming `bytes` in CHUNK-byte pieces, with its Content-Length. */
function chunkedResponse(bytes: Uint8Array): Response {
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
  return new Response(body, { headers: { 'content-length': String(bytes.length), 'content-type': 'application/gzip' } });
}

describe('playground datasets: loaded when the first batch needs them', () => {
  const realFetch = globalThis.fetch;
  let requested: string[];
  let failing: boolean;

  beforeEach(() => {
    requested = [];
    failing = false;
    globalThis.fetch = (async (input: string | URL | Request) => {
      const url = String(input);
      requested.push(url);
      if (failing) return new Response('missing', { status: 404 });
      return chunkedResponse(readFileSync(join(FASHION_MNIST_DIR, url.slice(FASHION_MNIST_PATH.length))));
    }) as typeof fetch;
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
    reportDatasetProgressTo(undefined);
  });

  it('fetches nothing when asked for a split, streams it once at the first batch, with bytes of the total', async function () {
    this.timeout(30000);
    const split = playgroundData.fashionMnist('test');
    const batches = playgroundData.batches(split, 4);
    expect(requested, 'nothing fetched at compile').to.deep.equal([]);
    const reports: { stage: string; fraction: number | undefined }[] = [];
    reportDatasetProgressTo((stage, fraction) => reports.push({ stage, fraction }));
    const first = await batches(0);
    expect(first.images.length).to.equal(4 * 784);
    expect(requested.sort()).to.deep.equal([`${FASHION_MNIST_PATH}t10k-images-idx3-ubyte.gz`, `${FASHION_MNIST_PATH}t10k-labels-idx1-ubyte.gz`]);
    expect(reports.length, 'progress while the body streams').to.be.at.least(2);
    expect(reports.at(-1)).to.deep.equal({ stage: 'downloading Fashion-MNIST test: 4.4 of 4.4 MB', fraction: 1 });
    expect(reports.every(({ stage }) => /^downloading Fashion-MNIST test: \d+\.\d( of \d+\.\d)? MB$/.test(stage))).to.equal(true);
    const fractions = reports.flatMap(({ fraction }) => (fraction === undefined ? [] : [fraction]));
    expect(fractions.some((f) => f > 0 && f < 1), 'a report part way').to.equal(true);
    await playgroundData.batches(playgroundData.fashionMnist('test'), 2)(5);
    expect(requested.length, 'fetched once per page').to.equal(2);
  });

  it('a failed download rejects the batch with the fix, and the next batch tries again', async () => {
    failing = true;
    const batches = playgroundData.batches(playgroundData.fashionMnist('train'), 4);
    let error: unknown;
    await batches(0).catch((e: unknown) => (error = e));
    expect(String(error)).to.contain(`Fashion-MNIST: GET ${FASHION_MNIST_PATH}train-images-idx3-ubyte.gz answered 404. Fix: build the playground on a machine with the dataset`);
    const before = requested.length;
    await batches(0).catch(() => undefined);
    expect(requested.length, 'fetched again').to.be.above(before);
  });

  it('refuses a split that does not exist, at once', () => {
    expect(() => playgroundData.fashionMnist('validation' as 'train')).to.throw("data.fashionMnist: split must be 'train' or 'test', got validation.");
  });
});
