/**
 * A small decoder-only transformer for character language modelling (GPT-style,
 * pre-norm): token embeddings plus sinusoidal positions, `layers` blocks of causal
 * multi-head self-attention and a GELU MLP (4·d), each with a residual connection, a
 * final layer norm and a linear head over the vocabulary. Trained with softmax
 * cross-entropy on next-character targets and Adam.
 */

import { Graph, adam, attention, embedding, layerNorm, sinusoidalPositions, trainingProgram } from '../../index.js';
import type { Tensor, TrainingProgram } from '../../index.js';

export interface CharTransformerOptions {
  vocab: number;
  batch: number;
  /** Context length (characters per window). Default 64. */
  context?: number;
  /** Model width. Default 64. */
  width?: number;
  heads?: number;
  layers?: number;
  lr?: number;
  seed?: number;
}

/** The model's graph: `tokens` [batch, context] i32 → `logits` [batch·context, vocab]. */
export function charTransformerGraph(options: CharTransformerOptions): { graph: Graph; logits: Tensor } {
  const { vocab, batch } = options;
  const [context, width, heads, layers] = [options.context ?? 64, options.width ?? 64, options.heads ?? 4, options.layers ?? 2];
  const headWidth = width / heads;
  const g = new Graph('char_transformer', { seed: options.seed ?? 0 });
  const tokens = g.input('tokens', [batch, context], 'i32');
  const linear = (name: string, x: Tensor, units: number): Tensor => {
    const fanIn = x.shape[x.rank - 1]!;
    const w = g.param(`${name}.w`, [fanIn, units], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [units], { init: { kind: 'linearDefault', fanIn } });
    return x.matmul(w).add(b);
  };
  const norm = (name: string, x: Tensor): Tensor =>
    layerNorm(x, {
      gamma: g.param(`${name}.gamma`, [width], { init: 'ones' }),
      beta: g.param(`${name}.beta`, [width], { init: 'zeros' }),
    });
  // [batch·context, width] ↔ [batch, heads, context, headWidth]
  const splitHeads = (x: Tensor): Tensor => x.reshape([batch, context, heads, headWidth]).transpose([0, 2, 1, 3]);
  const joinHeads = (x: Tensor): Tensor => x.transpose([0, 2, 1, 3]).reshape([batch * context, width]);

  const table = g.param('embed', [vocab, width], { init: { kind: 'normal', std: 0.02 } });
  const positions = sinusoidalPositions(g, context, width);
  let h = embedding(table, tokens).add(positions).reshape([batch * context, width]);
  for (let l = 0; l < layers; l++) {
    const x = norm(`block${l}.norm1`, h);
    const [q, k, v] = ['q', 'k', 'v'].map((part) => splitHeads(linear(`block${l}.${part}`, x, width)));
    h = h.add(linear(`block${l}.proj`, joinHeads(attention(q!, k!, v!, { causal: true })), width));
    const y = norm(`block${l}.norm2`, h);
    h = h.add(linear(`block${l}.down`, linear(`block${l}.up`, y, 4 * width).gelu(), width));
  }
  const logits = linear('head', norm('final', h), vocab);
  g.output('logits', logits);
  return { graph: g, logits };
}

/** The training program: next-character cross-entropy over every position, Adam. */
export function charTransformer(options: CharTransformerOptions): TrainingProgram {
  const { graph, logits } = charTransformerGraph(options);
  const targets = graph.input('targets', [options.batch * (options.context ?? 64)], 'i32');
  return trainingProgram(graph, { loss: logits.softmaxCrossEntropy(targets), optimizer: adam({ lr: options.lr ?? 3e-3 }) });
}
