/**
 * Randomness inside a graph: `randomUniform` draws fresh values each training step, and
 * `dropout` builds on it. Values come from Philox4x32-10 (compiler/random.ts), a
 * counter-based generator, so element i of a draw is a pure function of (key, counter):
 * the GPU kernel and the CPU reference compute the same bits, in any order.
 *
 * - key: [graph seed, hashName(stream)]: a stream is named (per layer), so two layers
 *   draw independent masks and adding a layer changes no other layer's draws.
 * - counter: (⌊i/4⌋, step, 1, 0), word i % 4 of the block. `step` is an i32 scalar
 *   tensor (by default the optimizer's step counter), so masks change every step and are
 *   reproducible from the seed. The third word 1 keeps these draws apart from the
 *   parameter initializers, which use counters (block, 0, 0, 0) under the same kind of key.
 *
 * The lowering is a kernel template, not an elementwise expression: the generic
 * elementwise emitter gives an expression its operands' values but not the element's
 * index, which the counter needs. The template accepts an epilogue, so dropout's
 * compare-and-scale still fuses into the kernel that draws the bits, and the uniform
 * values are never written to memory unless something else reads them.
 */

import { ArgumentError, DTypeError, ShapeError, opError } from '../errors.js';
import type { Graph } from '../graph.js';
import { hashName, philox4x32, toUnitFloat } from '../random.js';
import { checkKeys, checkNumber } from './args.js';
import { stepCounter } from './step-counter.js';
import type { Dim } from '../dims.js';
import type { DimLike, TensorType } from '../shape.js';
import { checkShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './binary.js';
import { requireTensor } from './lift.js';
import { modeSelect } from './mode.js';
import { defineOp, emptyLike, noGradient } from './op.js';
import { randomUniformKernel } from '../../shaders/random.js';

/** The counter word that separates per-step draws from parameter initializers (which use 0). */
const RANDOM_OP_DOMAIN = 1;

export type RandomUniformAttrs = { shape: Dim[]; stream: string; seed: number };

/** The Philox key of a stream: the graph's seed and the hash of the stream's name. */
function streamKey(attrs: { readonly stream: string; readonly seed: number }): [number, number] {
  return [attrs.seed >>> 0, hashName(attrs.stream)];
}

function checkCounter(op: string, operands: readonly TensorType[], counter: TensorType): void {
  if (counter.dtype !== 'i32') {
    throw opError(DTypeError, op, operands, `the counter must be i32, got ${counter.dtype}`, 'pass a step count (the step counter state, or an i32 input)');
  }
  if (counter.shape.length !== 0) {
    const problem = `the counter must be a scalar, got shape [${counter.shape.join(',')}]`;
    throw opError(ShapeError, op, operands, problem, 'pass one i32 step count (reshape it to [])');
  }
}

export const randomUniformOp = defineOp<RandomUniformAttrs>({
  name: 'randomUniform',
  arity: 1,
  // The only input is an i32 step count: nothing to differentiate.
  vjp: noGradient,
  infer(inputs, { shape, stream, seed }) {
    checkCounter('randomUniform', inputs, inputs[0]!);
    if (typeof stream !== 'string' || stream === '') {
      throw opError(ArgumentError, 'randomUniform', inputs, `the stream must be a non-empty name, got ${String(stream)}`, "name the draw, e.g. 'dropout.1'");
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw opError(ArgumentError, 'randomUniform', inputs, `the seed attribute must be an integer in [0, 2^32), got ${String(seed)}`, 'build the node with randomUniform(graph, ...), which takes the graph seed');
    }
    return { shape: checkShape('randomUniform', shape), dtype: 'f32' };
  },
  evaluate(inputs, attrs, out, ctx) {
    const result = emptyLike(out, ctx);
    const step = inputs[0]!.data[0]! >>> 0;
    const key = streamKey(attrs);
    const size = result.data.length;
    for (let block = 0; block * 4 < size; block++) {
      const words = philox4x32([block, step, RANDOM_OP_DOMAIN, 0], key);
      for (let w = 0; w < 4 && block * 4 + w < size; w++) result.data[block * 4 + w] = toUnitFloat(words[w]!);
    }
    return result;
  },
  lower: {
    kind: 'kernel',
    acceptsEpilogue: true,
    emit: (ctx) => randomUniformKernel(ctx, { name: ctx.attrs.stream, key: streamKey(ctx.attrs), domain: RANDOM_OP_DOMAIN }),
  },
});

export interface RandomUniformOptions {
  /** Names the stream: draws of different streams are independent, draws of one stream repeat. */
  stream: string;
  /** An i32 scalar (a step count) the draw depends on. Default: the graph's step counter (`optimizer.step`). */
  counter?: Tensor;
}

/**
 * f32 values uniform in [0, 1) (24 random bits each, exact in f32), of the given shape.
 * Each value is drawn from Philox4x32-10 keyed by the graph's seed and the stream's name,
 * at the counter's value: the same seed, stream and counter give the same values on the
 * CPU reference and on the GPU, bit for bit; another counter value gives fresh ones.
 */
export function randomUniform(graph: Graph, shape: readonly DimLike[], options: RandomUniformOptions): Tensor {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`randomUniform: options {stream, counter?} are required, got ${String(options)}.`);
  }
  checkKeys('randomUniform', options, ['stream', 'counter']);
  if (typeof options.stream !== 'string' || options.stream === '') {
    throw new ArgumentError(`randomUniform: stream must be a non-empty name, got ${String(options.stream)}. Name the draw, e.g. 'dropout.1'.`);
  }
  const checkedShape = checkShape('randomUniform', shape);
  if (options.counter !== undefined) requireTensor('randomUniform', options.counter, 'counter');
  if (options.counter !== undefined && options.counter.graph !== graph) {
    throw new ArgumentError(`randomUniform: the counter ${options.counter.toString()} belongs to graph '${options.counter.graph.name}', not '${graph.name}'.`);
  }
  // The step counter made for the draw goes with it if the draw is refused (a counter of the wrong type).
  return graph.atomically(() => {
    const counter = options.counter ?? stepCounter(graph);
    return graph.addNode(randomUniformOp, [counter], { shape: checkedShape, stream: options.stream, seed: graph.seed });
  });
}

export interface DropoutOptions {
  /**
   * Names the layer's random stream. Default: `dropout.k`, the first k no earlier draw of
   * the graph uses, so each dropout layer gets its own masks. Two layers given one name
   * draw the same mask.
   */
  name?: string;
}

/** The first `dropout.k` stream no randomUniform node of the graph uses yet. */
function unusedDropoutName(graph: Graph): string {
  const used = new Set(graph.nodes.filter((node) => node.op === 'randomUniform').map((node) => node.attrs['stream']));
  let k = 0;
  while (used.has(`dropout.${k}`)) k++;
  return `dropout.${k}`;
}

/**
 * Inverted dropout. In a training step: each element is kept with probability 1 − rate
 * and scaled by 1/(1 − rate), else zeroed (x·(u ≥ rate)/(1 − rate) with u uniform from
 * the layer's stream at the step counter, so the mask changes every step). At inference
 * (`forward`): x unchanged. `rate` is in [0, 1); rate 0 returns x itself. f32 only.
 */
export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  requireTensor('dropout', x);
  checkKeys('dropout', options, ['name']);
  checkNumber('dropout', 'rate', rate, { min: 0, max: 1, maxExclusive: true });
  if (x.dtype !== 'f32') {
    throw opError(DTypeError, 'dropout', [x.node], `the operand must be f32, got ${x.dtype}`, "cast it with .cast('f32')");
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new ArgumentError(`dropout: name must be a non-empty string, got ${String(options.name)}.`);
  }
  if (rate === 0) return x;
  const graph = x.graph;
  return graph.atomically(() => {
    const u = randomUniform(graph, x.shape, { stream: options.name ?? unusedDropoutName(graph) });
    const kept = where(u.greaterEqual(rate), x.mul(1 / (1 - rate)), 0);
    return modeSelect(kept, x);
  });
}
