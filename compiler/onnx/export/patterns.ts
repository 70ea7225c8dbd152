/**
 * Groups of kiln nodes written as one ONNX op. kiln builds layer norm and batch norm from
 * primitives (compiler/ops/norm.ts); ONNX has a node for each, which other engines run as
 * one kernel, so the exporter recognizes the exact shapes norm.ts builds and writes
 * LayerNormalization (opset 17 on) and BatchNormalization (inference form). A node the
 * patterns do not claim is written op by op, which means the same thing.
 */

import type { Graph, Node } from '../../graph.js';
import type { Shape } from '../../shape.js';
import { sameShape } from '../../shape.js';
import type { OpExporter } from './context.js';

export interface PatternMatch {
  /** The kiln values the ONNX op reads, in the exporter's order. */
  readonly reads: readonly number[];
  readonly emit: OpExporter;
}

type Pattern = (graph: Graph, node: Node, opset: number) => PatternMatch | undefined;

/** Input `i` of `node` when it is an `op` node. */
function operand(graph: Graph, node: Node | undefined, i: number, op: string): Node | undefined {
  const id = node?.inputs[i];
  if (id === undefined) return undefined;
  const found = graph.node(id);
  return found.op === op ? found : undefined;
}

/** The value of a scalar constant, or undefined. */
function scalarConstant(graph: Graph, id: number | undefined): number | undefined {
  if (id === undefined) return undefined;
  const node = graph.node(id);
  const value = node.attrs['value'] as readonly number[] | undefined;
  return node.op === 'const' && node.shape.length === 0 && value?.length === 1 ? value[0] : undefined;
}

const sameAxes = (a: Node, b: Node): boolean => a.attrs['keepdims'] === true && b.attrs['keepdims'] === true && (a.attrs['axes'] as number[]).join() === (b.attrs['axes'] as number[]).join();

/** mul(d, rsqrt(add(v, ε))): the standardized value, its deviation d = x − mean(x) and variance v = mean(d²) over the same axes. */
function standardized(graph: Graph, node: Node | undefined): { x: number; axes: readonly number[]; epsilon: number; deviation: Node; variance: Node } | undefined {
  if (node?.op !== 'mul') return undefined;
  const deviation = operand(graph, node, 0, 'sub');
  const shifted = operand(graph, operand(graph, node, 1, 'rsqrt'), 0, 'add');
  const epsilon = scalarConstant(graph, shifted?.inputs[1]);
  const variance = operand(graph, shifted, 0, 'mean');
  if (!deviation || !shifted || epsilon === undefined || !variance) return undefined;
  return { x: deviation.inputs[0]!, axes: variance.attrs['axes'] as number[], epsilon, deviation, variance };
}

/** `spread(x, p, axes)` in norm.ts: a reshape of p (or p itself) that broadcasts against x; the node p is read. */
function spreadOperand(graph: Graph, id: number, wanted: Shape): number | undefined {
  const node = graph.node(id);
  const source = node.op === 'reshape' ? graph.node(node.inputs[0]!) : node;
  return sameShape(source.shape, wanted) && source.dtype === 'f32' ? source.id : undefined;
}

/**
 * layerNorm: mul(x − mean(x), rsqrt(mean((x − mean(x))²) + ε)), then ·gamma, + beta, over
 * the trailing axes (LayerNormalization normalizes from `axis` to the end).
 */
const layerNormalization: Pattern = (graph, node, opset) => {
  if (opset < 17) return undefined;
  let [scaleOf, biasOf]: (number | undefined)[] = [undefined, undefined];
  let core: Node | undefined = node;
  if (node.op === 'add') {
    biasOf = node.inputs[1];
    core = graph.node(node.inputs[0]!);
  }
  if (core.op === 'mul' && !standardized(graph, core)) {
    scaleOf = core.inputs[1];
    core = graph.node(core.inputs[0]!);
  }
  const found = standardized(graph, core);
  if (!found) return undefined;
  const { x, axes, epsilon, deviation } = found;
  const rank = graph.node(x).shape.length;
  const mean = operand(graph, deviation, 1, 'mean');
  const trailing = axes.length > 0 && axes.every((a, i) => a === rank - axes.length + i);
  if (!mean || mean.inputs[0] !== x || !sameAxes(mean, found.variance) || !trailing) return undefined;
  if (operand(graph, found.variance, 0, 'square')?.inputs[0] !== deviation.id) return undefined;
  const normalized = graph.node(x).shape.slice(rank - axes.length);
  const scale = scaleOf === undefined ? undefined : spreadOperand(graph, scaleOf, normalized);
  const bias = biasOf === undefined ? undefined : spreadOperand(graph, biasOf, normalized);
  if ((scaleOf !== undefined && scale === undefined) || (biasOf !== undefined && bias === undefined)) return undefined;
  const reads = [x, ...(scale === undefined ? [] : [scale]), ...(bias === undefined ? [] : [bias])];
  return {
    reads,
    emit: (ctx) => {
      const gamma = scale === undefined ? ctx.constant(1, 'f32', ctx.staticShape(normalized, 'LayerNormalization without a scale gets a constant one of the normalized shape')) : ctx.input(1);
      const inputs = [ctx.input(0), gamma, ...(bias === undefined ? [] : [ctx.input(reads.length - 1)])];
      return ctx.op('LayerNormalization', inputs, { axis: { int: rank - axes.length }, epsilon: { float: epsilon } });
    },
  };
};

/**
 * batchNorm at inference: ((x − mean)·rsqrt(var + ε))·gamma + beta with the running
 * statistics and the affine params each [C] spread along axis 1.
 */
const batchNormalization: Pattern = (graph, node) => {
  if (node.op !== 'add') return undefined;
  const scaled = operand(graph, node, 0, 'mul');
  const standard = operand(graph, scaled, 0, 'mul');
  const deviation = operand(graph, standard, 0, 'sub');
  const shifted = operand(graph, operand(graph, standard, 1, 'rsqrt'), 0, 'add');
  const epsilon = scalarConstant(graph, shifted?.inputs[1]);
  if (!scaled || !deviation || !shifted || epsilon === undefined) return undefined;
  const x = graph.node(deviation.inputs[0]!);
  if (x.shape.length < 2 || x.dtype !== 'f32') return undefined;
  const channels = [x.shape[1]!];
  const alongChannels = (id: number): number | undefined => {
    const spread = graph.node(id);
    const inChannelLayout = spread.op === 'reshape' && spread.shape.every((d, a) => d === (a === 1 ? channels[0] : 1)) && spread.shape.length === x.shape.length;
    return inChannelLayout ? spreadOperand(graph, id, channels) : undefined;
  };
  const reads = [x.id, alongChannels(scaled.inputs[1]!), alongChannels(node.inputs[1]!), alongChannels(deviation.inputs[1]!), alongChannels(shifted.inputs[0]!)];
  if (reads.some((id) => id === undefined)) return undefined;
  return {
    reads: reads as number[],
    emit: (ctx) => ctx.op('BatchNormalization', [0, 1, 2, 3, 4].map((i) => ctx.input(i)), { epsilon: { float: epsilon } }),
  };
};

export const PATTERNS: readonly Pattern[] = [batchNormalization, layerNormalization];
