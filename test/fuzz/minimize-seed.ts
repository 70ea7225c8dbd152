/**
 * Shrinks the random graph of a failing seed to a small graph that fails the same way,
 * and prints it (for a focused regression test):
 *   npx tsx test/fuzz/minimize-seed.ts <seed>
 */

import { requestDevice } from '../../runtime/device.js';
import type { CheckOptions } from './check-graph.js';
import { FuzzFailure, checkRandomGraph } from './check-graph.js';
import { feedsFor, minimizeGraph } from './minimize.js';
import { randomGraph } from './random-graph.js';

const seed = Number(process.argv[2]);
if (!Number.isInteger(seed)) throw new Error('usage: npx tsx test/fuzz/minimize-seed.ts <seed>');
const gpu = await requestDevice();

/** The failure's category, or undefined if the graph passes. */
async function failure(random: Parameters<typeof checkRandomGraph>[1], options: CheckOptions): Promise<string | undefined> {
  try {
    await checkRandomGraph(gpu, random, options);
    return undefined;
  } catch (error) {
    if (error instanceof FuzzFailure) return error.category;
    throw error;
  }
}

const original = randomGraph(seed);
const everything: CheckOptions = { unfused: true, specMinimum: true };
const category = await failure(original, everything);
if (category === undefined) {
  console.log(`random graph ${seed} passes; nothing to minimize.`);
} else {
  console.log(`random graph ${seed} fails: ${category}; minimizing (${original.graph.nodes.length} nodes)…`);
  // A plan that does not compile fails the same way without a GPU run, which is most of the time taken.
  const options = { ...everything, run: !/does not compile|unwritten|read-only and writable/.test(category) };
  const small = await minimizeGraph(original.graph, async (graph) => (await failure({ graph, feeds: feedsFor(graph), seed }, options)) === category);
  console.log(small.toString());
  try {
    await checkRandomGraph(gpu, { graph: small, feeds: feedsFor(small), seed }, everything);
  } catch (error) {
    console.log((error as Error).message.split('\n')[0]);
  }
  console.log(`feeds: ${JSON.stringify(Object.fromEntries(Object.entries(feedsFor(small)).map(([k, v]) => [k, Array.from(v)])))}`);
}
gpu.destroy();
