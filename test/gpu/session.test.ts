import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { defineOp } from '../../compiler/ops/op.js';
import { inferElementwise, evaluateElementwise } from '../../compiler/ops/elementwise.js';
import type { Tensor } from '../../compiler/tensor.js';
import { expectGpuMatchesReference } from './harness.js';

// A test-only op, so the session is tested independently of the real ops' lowerings.
const testAxpy = defineOp<{ alpha: number }>({
  name: 'testGpuAxpy',
  arity: 2,
  infer: (inputs) => inferElementwise('testGpuAxpy', inputs, 'float'),
  evaluate: (inputs, { alpha }, out, ctx) => evaluateElementwise(inputs, out, ctx, ([a, b]) => alpha * a! + b!),
  lower: { kind: 'elementwise', expr: ([a, b], { alpha }) => `${alpha.toFixed(6)} * ${a} + ${b}` },
});
const axpy = (a: Tensor, b: Tensor, alpha: number) => a.graph.addNode(testAxpy, [a, b], { alpha });

describe('Session (GPU)', () => {
  it('runs an elementwise kernel with broadcasting and returns what the reference computes', async () => {
    const g = new Graph('axpy');
    const x = g.input('x', [3, 17]);
    const b = g.param('b', [17], { init: 'normal' });
    g.output('y', axpy(x, b, 2));
    const out = await expectGpuMatchesReference(g, { x: Array.from({ length: 51 }, (_, i) => i / 7) });
    expect(out['y']!.shape).to.deep.equal([3, 17]);
  });
});
