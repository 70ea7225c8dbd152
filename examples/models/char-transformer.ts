/**
 * A small decoder-only transformer for character language modelling (GPT-style,
 * pre-norm): token embeddings plus sinusoidal positions, `layers` blocks of causal
 * multi-head self-attention and a GELU MLP (4·d), each with a residual connection, a
 * final layer norm and a linear head over the vocabulary. Trained with softmax
 * cross-entropy on next-character targets and Adam.
 */

import { Graph, adam, nn, sinusoidalPositions, trainingProgram } from '../../index.js';
import type { Tensor, TrainingProgram } from '../../index.js';

export interface CharTransformerOptions {
  vocab: number;
  /** Windows per step: a size, or a dim name (`'batch'`) for one plan that trains at one size and samples at another. */
  batch: number | string;
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
  const g = new Graph('char_transformer', { seed: options.seed ?? 0 });
  const tokens = g.input('tokens', [batch, context], 'i32');
  const embed = nn.embedding(g, 'embed', vocab, width, { std: 0.02 });
  // The residual stream as [batch·context, width]: the layers' matrix products stay 2-D.
  const rows = (x: Tensor): Tensor => x.reshape([-1, width]);
  let h = rows(embed(tokens).add(sinusoidalPositions(g, context, width)));
  for (let l = 0; l < layers; l++) {
    nn.scope(g, `block${l}`, () => {
      const norm1 = nn.layerNorm(g, 'norm1', width);
      const attn = nn.multiHeadAttention(g, 'attn', width, heads, { causal: true });
      const norm2 = nn.layerNorm(g, 'norm2', width);
      const mlp = nn.sequential(nn.linear(g, 'up', width, 4 * width), nn.gelu, nn.linear(g, 'down', 4 * width, width));
      h = h.add(rows(attn(norm1(h).reshape([-1, context, width]))));
      h = h.add(mlp(norm2(h)));
    });
  }
  const logits = nn.sequential(nn.layerNorm(g, 'final', width), nn.linear(g, 'head', width, vocab))(h);
  g.output('logits', logits);
  return { graph: g, logits };
}

/** The training program: next-character cross-entropy over every position, Adam. */
export function charTransformer(options: CharTransformerOptions): TrainingProgram {
  const { graph, logits } = charTransformerGraph(options);
  // Next characters per window, as [batch, context]: flattened like the logits' rows.
  const targets = graph.input('targets', [options.batch, options.context ?? 64], 'i32');
  return trainingProgram(graph, { loss: logits.softmaxCrossEntropy(targets.reshape([-1])), optimizer: adam({ lr: options.lr ?? 3e-3 }) });
}
