/**
 * The check every symbolic-batch layer test makes: ONE plan compiled with `batch`
 * symbolic, in one Session, run at several batch sizes (1, a few, one past a workgroup
 * of 64), must match (a) the reference interpreter and (b) the static plan compiled for
 * that size, bit for bit for the outputs whose sums run in the same order in both.
 */

import { expect } from 'chai';
import type { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { HostValue } from '../../compiler/reference.js';
import { initialParams, interpret } from '../../compiler/reference.js';
import type { Feed } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { expectClose } from '../helpers.js';
import { gpu } from './harness.js';

export const SIZES = [1, 3, 67];

/**
 * The values with −0 as +0: a static kernel's unrolled first product may be folded into
 * its zero accumulator by the shader compiler (0 + x → x, keeping a −0 product) where the
 * symbolic kernel's loop adds it; every other value is compared bit for bit.
 */
const unsigned = (data: ArrayLike<number>): number[] => Array.from(data, (v) => (v === 0 ? 0 : v));

export interface LayerCheck {
  /** The graph with its batch given: a size (a static plan) or `'batch'` (symbolic). */
  readonly build: (batch: number | string) => Graph;
  readonly feedsAt: (n: number) => Record<string, number[]>;
  /** Outputs the static plan sums in another order (a tree split by the batch's size): compared to rounding. */
  readonly reordered?: readonly string[];
  readonly rtol?: number;
  readonly atol?: number;
}

async function sessionOf(graph: Graph, params: Readonly<Record<string, Feed>>): Promise<Session> {
  const { device } = await gpu();
  const session = await Session.create(device, compile(graph, { limits: device.limits }));
  if (Object.keys(params).length > 0) await session.setParams(params);
  return session;
}

export async function checkLayerAtSizes(c: LayerCheck): Promise<void> {
  const graph = c.build('batch');
  const params = initialParams(graph) as Record<string, Feed>;
  const symbolic = await sessionOf(graph, params);
  try {
    for (const n of SIZES) {
      const feeds = c.feedsAt(n);
      const got = await symbolic.forward(feeds);
      const reference = interpret(c.build(n), { feeds: feeds as Record<string, HostValue>, params: params as Record<string, HostValue> });
      const fixed = await sessionOf(c.build(n), params);
      try {
        const want = await fixed.forward(feeds);
        for (const [name, expected] of Object.entries(reference)) {
          const actual = got[name]!;
          expect(actual.shape, `shape of ${name} at batch ${n}`).to.deep.equal([...expected.shape]);
          expectClose(actual.data, expected.data, c.rtol ?? 1e-5, c.atol ?? 1e-5);
          if (c.reordered?.includes(name)) expectClose(actual.data, want[name]!.data, 1e-5, 1e-6);
          else expect(unsigned(actual.data), `${name} at batch ${n}: symbolic vs static plan`).to.deep.equal(unsigned(want[name]!.data));
        }
      } finally {
        fixed.destroy();
      }
    }
  } finally {
    symbolic.destroy();
  }
}
