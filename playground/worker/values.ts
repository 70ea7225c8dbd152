/**
 * The worker's values of graph nodes, for the node panel after Forward. The page sends
 * what Forward ran on and gave (`valuesContext`): the feeds, the session's params and state
 * as they are on the GPU, and the outputs it read back. The worker evaluates with the CPU
 * reference interpreter from the same values, says how far its forward outputs are from
 * the GPU's (they agree to rounding when the kernels are right), and then summarizes any
 * node clicked (`values`). Inputs Forward does not read (labels, which gradient nodes
 * need) come from the code's `feeds(0)`. Values are the reference's, not read from the
 * GPU: a fused kernel never writes most intermediate tensors to memory.
 */

import { evaluateNodes } from '../../compiler/reference.js';
import type { HostValue } from '../../compiler/reference.js';
import type { Graph } from '../../compiler/graph.js';
import type { ForwardCheck, TensorData, ValuesContextArgs } from '../protocol.js';
import type { Handled } from './host.js';
import { lastCompile } from './state.js';
import type { LastCompile } from './state.js';
import { maxAbsDifference, summarizeValues } from './value-summary.js';
import type { ValueSummary } from './value-summary.js';

interface Context {
  readonly compile: LastCompile;
  readonly feeds: Readonly<Record<string, HostValue>>;
  readonly params: Readonly<Record<string, HostValue>>;
  readonly summaries: Map<number, ValueSummary>;
}

let context: Context | undefined;

export async function valuesContext(args: ValuesContextArgs): Promise<Handled<ForwardCheck>> {
  const compile = lastCompile('values');
  const { graph, entries } = compile.stages.simplified;
  const forward = entries['forward'];
  if (!forward) throw new Error(`values: the compiled program has no forward entry (it has ${Object.keys(entries).join(', ')}).`);
  const feeds = await graphFeeds(compile, graph, args.feeds);
  const params = Object.fromEntries(Object.entries(args.params).map(([name, tensor]) => [name, hostValue(tensor)]));
  context = { compile, feeds, params, summaries: new Map() };
  const names = Object.keys(forward.outputs).filter((name) => args.outputs[name] !== undefined);
  const reference = evaluateNodes(graph, names.map((name) => forward.outputs[name]!), { feeds, params });
  const outputs = names.map((name, i) => ({ name, maxAbsDifference: maxAbsDifference(reference[i]!, args.outputs[name]!) }));
  return { result: { outputs, maxAbsDifference: Math.max(0, ...outputs.map((o) => o.maxAbsDifference)) } };
}

export function values(args: { readonly node: number }): Handled<ValueSummary> {
  const current = context;
  if (!current || current.compile !== lastCompile('values')) throw new Error('values: run Forward first: values are computed from the params it used and step 0’s feeds.');
  let summary = current.summaries.get(args.node);
  if (!summary) {
    summary = nodeSummary(current.compile.stages.simplified.graph, args.node, current);
    current.summaries.set(args.node, summary);
  }
  return { result: summary };
}

/** Node `id`'s values by the reference interpreter, summarized. */
function nodeSummary(graph: Graph, id: number, given: { readonly feeds: Readonly<Record<string, HostValue>>; readonly params: Readonly<Record<string, HostValue>> }): ValueSummary {
  return summarizeValues(evaluateNodes(graph, [id], { feeds: given.feeds, params: given.params })[0]!);
}

/**
 * A value for every input of `graph` there is one for: Forward's, then step 0's from the
 * code for the rest (labels: gradient nodes read them). The code is asked only when needed,
 * as a `feeds` that draws random numbers gives new ones at each call.
 */
async function graphFeeds(compile: LastCompile, graph: Graph, forward: ValuesContextArgs['feeds']): Promise<Record<string, HostValue>> {
  const names = graph.nodesOfRole('input').map((node) => node.name!);
  const missing = names.filter((name) => forward[name] === undefined);
  const step0 = missing.length > 0 && compile.user.feeds ? await compile.user.feeds(0) : {};
  const feeds: Record<string, HostValue> = {};
  for (const name of names) {
    const value = forward[name] ?? step0[name];
    if (value !== undefined) feeds[name] = value as HostValue;
  }
  return feeds;
}

/** A tensor from the page as the interpreter takes it: with its shape and dtype, so both are checked against the node. */
function hostValue(tensor: TensorData): HostValue {
  return tensor.dtype === 'u32' ? tensor.data : ({ shape: [...tensor.shape], dtype: tensor.dtype, data: tensor.data } as HostValue);
}
