/**
 * The benchmark's transformer workload in kiln: one pre-norm decoder block, as in
 * examples/models/char-transformer.ts (layerNorm → causal multi-head self-attention with
 * q/k/v/proj linear layers → residual → layerNorm → GELU MLP of 4·d → residual), trained
 * on the mean of squares of its output by plain SGD. The peers (bench/systems/tfjs.ts,
 * jax.ts) write the same block by hand from BLOCK_LINEARS and BLOCK_NORMS.
 */

import { Graph, attention, layerNorm, sgd, trainingProgram } from '../index.js';
import type { Tensor, TrainingProgram } from '../index.js';
import { dimMul } from '../compiler/dims.js';
import { BLOCK, BLOCK_LINEARS, BLOCK_NORMS } from './workloads.js';

/**
 * The block's training program: input `x` [batch·context, width], output `y` of the same
 * shape, loss mean(y²). `batch` is BLOCK's size, or a dim name for a symbolic batch.
 */
export function transformerBlock(batch: number | string = BLOCK.batch): TrainingProgram {
  const { context, width, heads, lr } = BLOCK;
  const headWidth = width / heads;
  const g = new Graph('transformer_block', { seed: 0 });
  const x = g.input('x', [typeof batch === 'number' ? batch * context : dimMul(g.dim(batch), context), width]);
  const linearSize = Object.fromEntries(BLOCK_LINEARS.map((l) => [l.name, l]));
  const linear = (name: string, input: Tensor): Tensor => {
    const { in: fanIn, out } = linearSize[name]!;
    const w = g.param(`${name}.w`, [fanIn, out], { init: 'linearDefault' });
    const b = g.param(`${name}.b`, [out], { init: { kind: 'linearDefault', fanIn } });
    return input.matmul(w).add(b);
  };
  const [norm1, norm2] = BLOCK_NORMS.map((name) => (input: Tensor): Tensor =>
    layerNorm(input, {
      epsilon: BLOCK.epsilon,
      gamma: g.param(`${name}.gamma`, [width], { init: 'ones' }),
      beta: g.param(`${name}.beta`, [width], { init: 'zeros' }),
    }),
  );
  // [batch·context, width] ↔ [batch, heads, context, headWidth]
  const splitHeads = (t: Tensor): Tensor => t.reshape([-1, context, heads, headWidth]).transpose([0, 2, 1, 3]);
  const joinHeads = (t: Tensor): Tensor => t.transpose([0, 2, 1, 3]).reshape([-1, width]);

  const normed = norm1!(x);
  const [q, k, v] = ['q', 'k', 'v'].map((name) => splitHeads(linear(name, normed)));
  const h = x.add(linear('proj', joinHeads(attention(q!, k!, v!, { causal: true }))));
  const y = h.add(linear('down', linear('up', norm2!(h)).gelu()));
  g.output('y', y);
  return trainingProgram(g, { loss: y.square().mean(), optimizer: sgd({ lr }) });
}
