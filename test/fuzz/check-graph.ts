/**
 * Checks one random graph end to end: compiles it fused with the device's limits (and,
 * if asked, unfused, and fused for WebGPU's default 8 storage buffers per kernel), checks
 * each plan's memory assignment (`checkMemoryPlan`) and dataflow (plan-dataflow.ts), runs
 * every plan on the GPU and compares each output with the reference interpreter (f32),
 * and the fused results with the unfused ones.
 *
 * Tolerance: |actual − expected| ≤ ATOL · scale + RTOL · |expected|, where `scale` is the
 * output's error scale (error-scale.ts): the magnitude its rounding errors are relative
 * to, which after cancellation can far exceed the result. ATOL = 1e-5 is ~84 f32 ulps of
 * that magnitude: room for chains of roundings, sums in another order (tree reductions)
 * and the GPU's own exp/log/sin (a few ulps each, more on some GPUs); RTOL = 1e-4 adds
 * relative room for large results. On SwiftShader the largest error seen over 1371
 * outputs of 300 graphs was 0.6% of this allowance, while a real bug (a wrong index, a
 * missed broadcast, an unwritten buffer) is off by the values' own size.
 */

import { checkMemoryPlan } from '../../compiler/liveness.js';
import type { HostArray } from '../../compiler/ops/op.js';
import type { CompileOptions } from '../../compiler/plan.js';
import { compile } from '../../compiler/plan.js';
import type { Plan } from '../../compiler/plan-format.js';
import type { HostValue } from '../../compiler/reference.js';
import { evaluateNodes, initialParams } from '../../compiler/reference.js';
import type { KilnDevice } from '../../runtime/device.js';
import type { Feed, HostTensor } from '../../runtime/session.js';
import { Session } from '../../runtime/session.js';
import { errorScales } from './error-scale.js';
import { planDataflowProblems } from './plan-dataflow.js';
import type { RandomGraph } from './random-graph.js';

export const RTOL = 1e-4;
export const ATOL = 1e-5;

/** The plans each graph is compiled to, by name. */
export type PlanKind = 'fused' | 'unfused' | 'fused, 8 buffers';

/** Which plans besides the fused one a graph is checked with. */
export interface CheckOptions {
  /** Also compile and run it unfused, and compare the fused results with the unfused ones. */
  readonly unfused: boolean;
  /** Also compile it for WebGPU's default limits (8 storage buffers), and run that plan if it differs. */
  readonly specMinimum: boolean;
  /** Run the plans on the GPU (default true); false only compiles and checks them. */
  readonly run?: boolean;
}

/** What checking a graph found out: its plans' dispatch counts. */
export interface GraphReport {
  readonly dispatches: Readonly<Partial<Record<PlanKind, number>>>;
}

/** A check that failed: `category` says how (the same bug in a smaller graph fails the same way). */
export class FuzzFailure extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

/**
 * Runs the checks on a graph; throws a FuzzFailure naming the seed, the plan, the output
 * and the worst element, with the graph's text, at the first problem.
 */
export async function checkRandomGraph(
  gpu: KilnDevice,
  { graph, feeds, seed }: Pick<RandomGraph, 'graph' | 'seed'> & { readonly feeds: Readonly<Record<string, Feed>> },
  { unfused, specMinimum, run = true }: CheckOptions,
): Promise<GraphReport> {
  const fail = (category: string, what: string): FuzzFailure =>
    new FuzzFailure(category, `random graph ${seed} (rerun: KILN_FUZZ_SEED=${seed} KILN_FUZZ_COUNT=1): ${what}\n${graph.toString()}`);
  const params = initialParams(graph);
  const computed = graph.nodes.map((n) => n.id);
  const values = new Map(evaluateNodes(graph, computed, { feeds: feeds as Record<string, HostValue>, params }).map((v, i) => [computed[i]!, v] as const));
  const scales = errorScales(graph, values);
  const outputs = [...graph.outputs].map(([name, id]) => ({ name, expected: values.get(id)!, scale: scales.get(id)! }));

  const options: Partial<Record<PlanKind, CompileOptions>> = {
    fused: { limits: gpu.limits },
    ...(unfused ? { unfused: { limits: gpu.limits, fuse: false } } : {}),
    ...(specMinimum ? { 'fused, 8 buffers': {} } : {}),
  };
  const results = new Map<PlanKind, Record<string, HostTensor>>();
  const dispatches: Partial<Record<PlanKind, number>> = {};
  const compiled: Plan[] = [];
  for (const [kind, compileOptions] of Object.entries(options) as [PlanKind, CompileOptions][]) {
    let plan: Plan;
    try {
      plan = compile(graph, compileOptions);
      checkMemoryPlan(plan);
    } catch (error) {
      throw fail(`${kind} plan does not compile: ${errorName(error)}`, `the ${kind} plan does not compile: ${message(error)}`);
    }
    const [problem] = planDataflowProblems(plan);
    if (problem) throw fail(`${kind} plan ${problem.kind}`, `the ${kind} plan ${problem.kind}: ${problem.message}`);
    dispatches[kind] = plan.entries['forward']!.dispatches.length;
    // Pipeline compilation dominates on SwiftShader: a plan identical to one already run is not run again.
    if (!run || compiled.some((other) => sameKernels(other, plan))) continue;
    compiled.push(plan);
    try {
      results.set(kind, await runOnGpu(gpu, plan, feeds, params));
    } catch (error) {
      throw fail(`${kind} plan fails on the GPU: ${errorName(error)}`, `the ${kind} plan fails on the GPU: ${message(error)}`);
    }
  }
  for (const [kind, result] of results) {
    for (const { name, expected, scale } of outputs) {
      const problem = mismatch(result[name]!, expected, scale);
      if (problem) throw fail(`${kind} plan gives wrong values`, `${kind} plan, output ${name}: ${problem} (vs the reference)`);
    }
  }
  const fusedResult = results.get('fused');
  const unfusedResult = results.get('unfused');
  for (const { name, scale } of fusedResult && unfusedResult ? outputs : []) {
    const problem = mismatch(fusedResult![name]!, unfusedResult![name]!, scale);
    if (problem) throw fail('fused plan differs from the unfused plan', `fused plan, output ${name}: ${problem} (vs the unfused plan)`);
  }
  return { dispatches };
}

function sameKernels(a: Plan, b: Plan): boolean {
  return JSON.stringify(a.kernels) === JSON.stringify(b.kernels) && JSON.stringify(a.entries) === JSON.stringify(b.entries);
}

async function runOnGpu(
  gpu: KilnDevice,
  plan: Plan,
  feeds: Readonly<Record<string, Feed>>,
  params: Readonly<Record<string, HostArray>>,
): Promise<Record<string, HostTensor>> {
  const session = await Session.create(gpu.device, plan);
  try {
    // The reference's initial values, so both sides start from identical params.
    if (Object.keys(params).length > 0) await session.setParams(params as Record<string, Feed>);
    // A plan's entry takes only the inputs its outputs need.
    const needed = Object.keys(plan.entries['forward']!.inputs);
    return await session.forward(Object.fromEntries(needed.map((name) => [name, feeds[name]!])));
  } finally {
    session.destroy();
  }
}

/** Why `actual` differs from `expected` beyond the tolerance (the worst element), or undefined. */
function mismatch(actual: HostTensor | HostArray, expected: HostTensor | HostArray, scale: number): string | undefined {
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]`;
  let worst: { i: number; excess: number } | undefined;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    // Non-finite values (a NaN or ±∞ on one side only) must match exactly.
    const excess = Number.isFinite(a) && Number.isFinite(e) ? Math.abs(a - e) / (ATOL * scale + RTOL * Math.abs(e)) : a === e ? 0 : Infinity;
    if (excess > 1 && (!worst || excess > worst.excess)) worst = { i, excess };
  }
  if (!worst) return undefined;
  const { i, excess } = worst;
  return `element ${i} is ${actual.data[i]}, expected ${expected.data[i]} (${excess.toPrecision(3)}× the tolerance at error scale ${scale.toPrecision(3)})`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
