import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { entryCosts, nodeFlops } from '../../compiler/kernel-cost.js';
import { compileStages } from '../../compiler/plan.js';
import type { Tensor } from '../../compiler/tensor.js';
import { attention, conv2d, maxPool2d, relu, sum, transpose } from '../../index.js';
import { leNet } from '../../examples/models/lenet.js';
import { seedMlp } from '../../examples/models/seed-mlp.js';

/** The forward entry's kernels of `build`'s graph, unfused unless asked, with their costs at `dims`. */
function costs(build: (g: Graph) => Tensor, options: { fuse?: boolean; dims?: Record<string, number> } = {}) {
  const g = new Graph('cost');
  g.output('y', build(g));
  const { plan, simplified } = compileStages(g, { fuse: options.fuse ?? false });
  const forward = plan.entries.forward!;
  const found = entryCosts(plan, simplified.graph, 'forward', options.dims);
  return forward.dispatches.map((k, i) => ({ ops: plan.kernels[k]!.ops.join(' '), ...found[i]! }));
}

describe('kernel cost model', () => {
  it('a 3×5×7 matmul: 2·m·n·k = 210 FLOPs, and the bytes of its three bindings', () => {
    const [matmul] = costs((g) => g.input('a', [3, 5]).matmul(g.input('b', [5, 7])));
    expect(matmul).to.deep.equal({ ops: 'matmul', flops: 210, bytesRead: 4 * (15 + 35), bytesWritten: 4 * 21 });
  });

  it('counts a transposed operand’s inner dim, and batch dims', () => {
    const [t] = costs((g) => g.input('a', [2, 5, 3]).matmul(g.input('b', [2, 7, 5]), { transposeA: true, transposeB: true }));
    expect(t!.flops).to.equal(2 * 2 * 3 * 7 * 5);
  });

  it('adds one FLOP per element for each elementwise op fused into a kernel', () => {
    const fused = costs((g) => relu(g.input('a', [3, 5]).matmul(g.input('b', [5, 7])).add(g.input('c', [7]))), { fuse: true });
    expect(fused).to.have.length(1);
    expect(fused[0]!.ops).to.equal('matmul add relu');
    expect(fused[0]!.flops).to.equal(210 + 21 + 21);
    expect(fused[0]!.bytesRead).to.equal(4 * (15 + 35 + 7));
  });

  it('a reduction: one per input element; a transpose moves data: none', () => {
    expect(costs((g) => sum(g.input('x', [4, 6]), 1))[0]!.flops).to.equal(24);
    expect(costs((g) => transpose(g.input('x', [4, 6]), [1, 0]))[0]!.flops).to.equal(0);
  });

  it('a convolution: 2 per tap of each output element; pooling: one per window element', () => {
    // 2 output channels of 3×3 (valid 3×3 taps over one 5×5 channel): 18 outputs × 9 taps × 2.
    const [conv] = costs((g) => conv2d(g.input('x', [1, 1, 5, 5]), g.input('w', [2, 1, 3, 3])));
    expect(conv).to.deep.equal({ ops: 'conv2d', flops: 324, bytesRead: 4 * (25 + 18), bytesWritten: 4 * 18 });
    const [pool] = costs((g) => maxPool2d(g.input('x', [1, 2, 4, 4]), { kernelSize: 2 }));
    expect(pool!.flops).to.equal(2 * 2 * 2 * 4);
  });

  it('a convolution’s gradients are the same products: LeNet’s weight gradients cost what its convolutions do', () => {
    const { plan, simplified } = compileStages(leNet({ batch: 4 }));
    const byOp = new Map<string, number>();
    for (const k of plan.entries.trainStep!.dispatches) {
      for (const id of plan.kernels[k]!.nodes) {
        const op = simplified.graph.node(id).op;
        byOp.set(op, (byOp.get(op) ?? 0) + nodeFlops(simplified.graph, id));
      }
    }
    // conv1: 6 × 24² outputs of 25 taps; conv2: 16 × 8² outputs of 6·25 taps; per example, 2 FLOPs a tap.
    const conv1 = 2 * 4 * 6 * 24 * 24 * 25;
    const conv2 = 2 * 4 * 16 * 8 * 8 * 6 * 25;
    expect(byOp.get('conv2d')).to.equal(conv1 + conv2);
    expect(byOp.get('convWeightGrad2d')).to.equal(conv1 + conv2);
    // The image needs no gradient: only conv2's input gradient is computed.
    expect(byOp.get('convTranspose2d')).to.equal(conv2);
  });

  it('attention: q·kᵀ and the weighted sum of v, 2·Tq·Tk·(d + dv) per batch', () => {
    const [att] = costs((g) => attention(g.input('q', [2, 4, 8]), g.input('k', [2, 6, 8]), g.input('v', [2, 6, 3])));
    expect(att!.flops).to.equal(2 * 2 * 4 * 6 * (8 + 3));
  });

  it('evaluates symbolic sizes at the run’s dims: FLOPs and bytes', () => {
    const [matmul] = costs((g) => g.input('a', [g.dim('batch'), 5]).matmul(g.input('b', [5, 7])), { dims: { batch: 3 } });
    expect(matmul).to.deep.equal({ ops: 'matmul', flops: 210, bytesRead: 4 * (15 + 35), bytesWritten: 4 * 21 });
  });

  it('the seed MLP’s training step: its matmuls’ 2·m·n·k dominate, each node counted once', () => {
    const { plan, simplified } = compileStages(seedMlp({ batch: 128 }));
    const found = entryCosts(plan, simplified.graph, 'trainStep');
    const total = found.reduce((s, c) => s + c.flops, 0);
    // Forward 784·128 + 128·64 + 64·10 multiply-adds per example; backward twice that, less fc1's input gradient.
    const macs = 784 * 128 + 128 * 64 + 64 * 10;
    const matmuls = 2 * 128 * (3 * macs - 784 * 128);
    expect(total).to.be.greaterThan(matmuls);
    expect(total).to.be.lessThan(matmuls * 1.1);
    const graph = simplified.graph;
    const counted = plan.entries.trainStep!.dispatches.flatMap((k) => plan.kernels[k]!.nodes).reduce((s, id) => s + nodeFlops(graph, id), 0);
    expect(total).to.equal(counted);
  });
});
