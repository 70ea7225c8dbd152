/**
 * GPU test harness: one shared device for all GPU tests (SwiftShader here, a real GPU
 * elsewhere), and helpers that compile a graph, run it on the GPU and compare it with
 * the CPU reference interpreter.
 */

import { expect } from 'chai';
import type { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import type { CompileOptions } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import type { HostValue } from '../../compiler/reference.js';
import { initialParams, interpret } from '../../compiler/reference.js';
import { requestDevice } from '../../runtime/device.js';
import type { KilnDevice } from '../../runtime/device.js';
import type { Feed, HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { expectClose } from '../helpers.js';

let shared: Promise<KilnDevice> | undefined;

/** The device every GPU test shares (created once per test run). */
export function gpu(): Promise<KilnDevice> {
  shared ??= requestDevice();
  return shared;
}

/** Compiles `graph` for the shared device (with `options` on top) and opens a session on it. */
export async function sessionFor(graph: Graph, options: CompileOptions = {}): Promise<{ session: Session; plan: Plan }> {
  const { device } = await gpu();
  const plan = compile(graph, { limits: device.limits, ...options });
  return { session: await Session.create(device, plan), plan };
}

export interface ReferenceCheck {
  rtol?: number;
  atol?: number;
  /** Compile options on top of the device's limits (e.g. `{limits: {}}` for WebGPU's minimums). */
  compile?: CompileOptions;
}

/**
 * Runs the graph's outputs on the GPU and on the reference interpreter (f32) with the same
 * feeds and parameters (the reference's initial values are uploaded to the GPU, so both
 * start from identical weights) and asserts every output agrees.
 */
export async function expectGpuMatchesReference(
  graph: Graph,
  feeds: Readonly<Record<string, number[] | Float32Array | Int32Array>>,
  check: ReferenceCheck = {},
): Promise<Record<string, HostTensor>> {
  return (await expectPlanMatchesReference(graph, feeds, check)).outputs;
}

/** As expectGpuMatchesReference, also returning the plan that ran (for kernel-count checks). */
export async function expectPlanMatchesReference(
  graph: Graph,
  feeds: Readonly<Record<string, number[] | Float32Array | Int32Array>>,
  check: ReferenceCheck = {},
): Promise<{ outputs: Record<string, HostTensor>; plan: Plan }> {
  const { session, plan } = await sessionFor(graph, check.compile);
  const tolerance = check;
  try {
    const params = initialParams(graph);
    if (Object.keys(params).length > 0) await session.setParams(params as Record<string, Feed>);
    const gpuOut = await session.forward(feeds);
    const reference = interpret(graph, { feeds: feeds as Record<string, HostValue>, params });
    for (const [name, expected] of Object.entries(reference)) {
      const actual = gpuOut[name]!;
      expect(actual.shape, `shape of ${name}`).to.deep.equal([...expected.shape]);
      expect(actual.dtype, `dtype of ${name}`).to.equal(expected.dtype);
      expectClose(actual.data, expected.data, tolerance.rtol ?? 1e-5, tolerance.atol ?? 1e-6);
    }
    return { outputs: gpuOut, plan };
  } finally {
    session.destroy();
  }
}
