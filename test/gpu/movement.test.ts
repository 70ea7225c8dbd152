import { expect } from 'chai';
import { DEFAULT_LIMITS } from '../../compiler/codegen/wgsl.js';
import type { DType } from '../../compiler/dtype.js';
import { Graph } from '../../compiler/graph.js';
import { concat, padWithInterior } from '../../compiler/ops/slice.js';
import { compile } from '../../compiler/plan.js';
import { interpret } from '../../compiler/reference.js';
import type { HostValue } from '../../compiler/reference.js';
import { sizeOf } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import { Session } from '../../runtime/session.js';
import { expectClose, testData } from '../helpers.js';
import { expectGpuMatchesReference, gpu } from './harness.js';

// Data movement is exact: every comparison below demands bit-equal values.
const EXACT = { rtol: 0, atol: 0 };

/** Distinct values for an input of `dtype`: floats with a sign, i32 around 0, bools mixed. */
function dataFor(shape: readonly number[], dtype: DType, seed = 1): number[] {
  const floats = testData(sizeOf(shape), seed, -100, 100);
  if (dtype === 'f32') return floats;
  if (dtype === 'i32') return floats.map((v) => Math.round(v * 1000));
  return floats.map((v) => (v > 0 ? 1 : 0));
}

/** A graph with one input `x` and one output `y = build(x)`, run on both sides. */
async function expectMovement(shape: readonly number[], build: (x: Tensor) => Tensor, dtype: DType = 'f32'): Promise<void> {
  const g = new Graph('movement');
  const x = g.input('x', shape, dtype);
  g.output('y', build(x));
  await expectGpuMatchesReference(g, { x: dataFor(shape, dtype) }, EXACT);
}

describe('data movement on the GPU', () => {
  describe('transpose', () => {
    it('permutes the axes of tensors of rank 0 to 4 with odd sizes', async () => {
      await expectMovement([], (x) => x.transpose());
      await expectMovement([129], (x) => x.transpose());
      await expectMovement([129, 3], (x) => x.transpose());
      await expectMovement([3, 17, 5], (x) => x.transpose([2, 0, 1]));
      await expectMovement([3, 17, 5], (x) => x.transpose([1, 0, 2]));
      await expectMovement([2, 3, 1, 5], (x) => x.transpose([3, 1, 0, 2]));
    });

    it('moves NaN and infinities unchanged', async () => {
      const g = new Graph('special');
      const x = g.input('x', [2, 3]);
      g.output('y', x.transpose());
      await expectGpuMatchesReference(g, { x: [NaN, Infinity, -Infinity, 1e-40, -0, 3.5] }, EXACT);
    });

    it('moves i32 and bool values unchanged', async () => {
      await expectMovement([3, 17, 5], (x) => x.transpose([2, 0, 1]), 'i32');
      await expectMovement([17, 3], (x) => x.transpose(), 'bool');
    });
  });

  describe('broadcastTo', () => {
    it('repeats a [1], a [3,1], a [17] and a rank-0 operand', async () => {
      await expectMovement([1], (x) => x.broadcastTo([3, 17]));
      await expectMovement([3, 1], (x) => x.broadcastTo([2, 3, 17]));
      await expectMovement([17], (x) => x.broadcastTo([3, 17]));
      await expectMovement([], (x) => x.broadcastTo([129]));
    });

    it('repeats i32 and bool operands', async () => {
      await expectMovement([3, 1], (x) => x.broadcastTo([3, 5]), 'i32');
      await expectMovement([1, 5], (x) => x.broadcastTo([3, 5]), 'bool');
    });
  });

  describe('slice', () => {
    it('takes every 2nd and 3rd element with offsets', async () => {
      await expectMovement([17, 129], (x) => x.slice([[1, null, 2], [0, null, 3]]));
      await expectMovement([3, 17, 5], (x) => x.slice([null, [2, 15, 3], [1, 4]]));
    });

    it('walks axes backward with negative steps', async () => {
      await expectMovement([129], (x) => x.slice([[null, null, -1]]));
      await expectMovement([17, 129], (x) => x.slice([[null, null, -2], [100, 3, -7]]));
      await expectMovement([3, 17, 5], (x) => x.slice([[null, null, -1], [1, null, 3], [null, null, -2]]));
    });

    it('gives empty results for empty ranges', async () => {
      const g = new Graph('empty_slice');
      const x = g.input('x', [17, 5]);
      g.output('rows', x.slice([[5, 5]]));
      g.output('backward', x.slice([null, [1, 3, -1]]));
      const out = await expectGpuMatchesReference(g, { x: dataFor([17, 5], 'f32') }, EXACT);
      expect(out['rows']!.shape).to.deep.equal([0, 5]);
      expect(out['backward']!.shape).to.deep.equal([17, 0]);
    });

    it('moves i32 and bool values unchanged', async () => {
      await expectMovement([17, 5], (x) => x.slice([[null, null, -3], [1, null, 2]]), 'i32');
      await expectMovement([17, 5], (x) => x.slice([[2, null, 2], [null, null, -1]]), 'bool');
    });
  });

  describe('pad', () => {
    it('pads before and after with a fill value', async () => {
      await expectMovement([3, 17], (x) => x.pad([[1, 2], [0, 5]], 7.5));
      await expectMovement([], (x) => x.pad([], 1));
      // 1e39 is a finite pad value that rounds to +inf in f32, on both sides.
      await expectMovement([3, 5], (x) => x.pad([[1, 0], [0, 1]], 1e39));
    });

    it('spreads elements apart with interior padding', async () => {
      await expectMovement([3, 5], (x) => padWithInterior(x, { before: [1, 0], after: [2, 3], interior: [2, 1] }, -1.25));
      await expectMovement([4, 1, 3], (x) => padWithInterior(x, { before: [0, 2, 0], after: [0, 0, 0], interior: [3, 4, 1] }));
    });

    it('fills the whole result when the operand is empty', async () => {
      await expectMovement([0, 3], (x) => padWithInterior(x, { before: [2, 1], after: [1, 0], interior: [5, 1] }, 3));
    });

    it('pads i32 and bool with their own fill values', async () => {
      await expectMovement([3, 5], (x) => padWithInterior(x, { before: [1, 1], after: [0, 2], interior: [1, 0] }, -3), 'i32');
      await expectMovement([3, 5], (x) => x.pad([[2, 0], [1, 1]], 1), 'bool');
    });
  });

  describe('concat', () => {
    /** Operand k has size `sizes[k]` on `axis` and the other axes of `shape`. */
    async function expectConcat(shape: readonly number[], axis: number, sizes: readonly number[], dtype: DType = 'f32'): Promise<void> {
      const g = new Graph('concat');
      const feeds: Record<string, number[]> = {};
      const parts = sizes.map((size, k) => {
        const partShape = shape.map((d, a) => (a === axis ? size : d));
        feeds[`x${k}`] = dataFor(partShape, dtype, k + 1);
        return g.input(`x${k}`, partShape, dtype);
      });
      g.output('y', concat(parts, axis));
      await expectGpuMatchesReference(g, feeds, EXACT);
    }

    it('joins 1, 3 and 10 operands along axis 0', async () => {
      await expectConcat([5, 3], 0, [5]);
      await expectConcat([5, 3], 0, [1, 17, 4]);
      await expectConcat([5, 3], 0, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('joins 3 and 10 operands along a middle axis, empty operands included', async () => {
      await expectConcat([3, 0, 5], 1, [2, 0, 7]);
      await expectConcat([2, 0, 3], 1, [1, 3, 0, 2, 5, 1, 1, 4, 2, 3]);
    });

    it('joins i32 and bool operands', async () => {
      await expectConcat([3, 0, 2], 1, [2, 5, 1], 'i32');
      await expectConcat([0, 3], 0, [4, 1, 2], 'bool');
    });

    it('joins 10 operands within the default 8 storage buffers per stage, one kernel per operand', async () => {
      const g = new Graph('concat10');
      const shapes = Array.from({ length: 10 }, (_, k) => [3, k + 1]);
      const parts = shapes.map((s, k) => g.input(`x${k}`, s));
      g.output('y', concat(parts, 1));
      const plan = compile(g, { limits: DEFAULT_LIMITS });
      const concatKernels = plan.kernels.filter((k) => k.ops.includes('concat'));
      expect(concatKernels).to.have.length(10);
      for (const kernel of concatKernels) expect(kernel.bindings).to.have.length(2);

      const feeds = Object.fromEntries(shapes.map((s, k) => [`x${k}`, dataFor(s, 'f32', k + 1)]));
      const { device } = await gpu();
      const session = await Session.create(device, plan);
      try {
        const actual = await session.forward(feeds);
        const expected = interpret(g, { feeds: feeds as Record<string, HostValue> });
        expectClose(actual['y']!.data, expected['y']!.data, 0, 0);
      } finally {
        session.destroy();
      }
    });
  });

  describe('gather', () => {
    it('reads rows at 2-D indices, negative ones counting from the end and out-of-range ones giving 0', async () => {
      const g = new Graph('gather');
      const table = g.input('table', [5, 7]);
      const ids = g.input('ids', [2, 3], 'i32');
      g.output('rows', table.gather(ids, 0));
      g.output('columns', table.gather(ids, 1));
      const out = await expectGpuMatchesReference(g, { table: dataFor([5, 7], 'f32'), ids: [0, -1, 4, 5, -6, 2] }, EXACT);
      expect(out['rows']!.shape).to.deep.equal([2, 3, 7]);
      // Indices 5 and -6 are outside [-5, 5): their rows are 0.
      expect(Array.from(out['rows']!.data.slice(21, 35)).every((v) => v === 0)).to.equal(true);
    });

    it('gathers along a middle axis of a rank-3 tensor, i32 and bool too', async () => {
      const indices = [16, -17, 3, 3, 0, 17, -18, 8];
      for (const dtype of ['f32', 'i32', 'bool'] as const) {
        const g = new Graph('gather3');
        const x = g.input('x', [3, 17, 4], dtype);
        const ids = g.input('ids', [8], 'i32');
        g.output('y', x.gather(ids, 1));
        await expectGpuMatchesReference(g, { x: dataFor([3, 17, 4], dtype), ids: indices }, EXACT);
      }
    });

    it('reads with a rank-0 index and from a rank-1 table', async () => {
      const g = new Graph('gather_scalar');
      const x = g.input('x', [129]);
      const id = g.input('id', [], 'i32');
      g.output('y', x.gather(id));
      await expectGpuMatchesReference(g, { x: dataFor([129], 'f32'), id: [-2] }, EXACT);
    });
  });

  describe('scatterAdd', () => {
    it('adds updates at duplicate indices in the reference order, skipping out-of-range ones', async () => {
      const g = new Graph('scatter');
      const updates = g.input('updates', [2, 3, 7]);
      const ids = g.input('ids', [2, 3], 'i32');
      g.output('table', updates.scatterAdd(ids, 0, 5));
      const data = testData(42, 3, -1e3, 1e3);
      const out = await expectGpuMatchesReference(g, { updates: data, ids: [1, 1, -4, 4, 9, -6] }, EXACT);
      // Row 1 receives three slices (1, 1 and -4); the last row only index 4.
      const f = data.map(Math.fround);
      expect(out['table']!.data[7]).to.equal(Math.fround(Math.fround(f[0]! + f[7]!) + f[14]!));
    });

    it('accumulates along a middle axis, in f32 and in i32', async () => {
      const indices = [2, 0, 2, 2, -1, 16, 0, 2, 17];
      for (const dtype of ['f32', 'i32'] as const) {
        const g = new Graph('scatter3');
        const updates = g.input('updates', [3, 9, 5], dtype);
        const ids = g.input('ids', [9], 'i32');
        g.output('y', updates.scatterAdd(ids, 1, 17));
        await expectGpuMatchesReference(g, { updates: dataFor([3, 9, 5], dtype), ids: indices }, EXACT);
      }
    });

    it('gives zeros when there are no indices', async () => {
      const g = new Graph('scatter_none');
      const updates = g.input('updates', [0, 3]);
      const ids = g.input('ids', [0], 'i32');
      g.output('y', updates.scatterAdd(ids, 0, 4));
      const out = await expectGpuMatchesReference(g, { updates: [], ids: [] }, EXACT);
      expect(Array.from(out['y']!.data)).to.deep.equal(new Array(12).fill(0));
    });
  });

  describe('aliases', () => {
    it('feeds a chain of reshapes (an alias of an alias) into another kernel', async () => {
      await expectMovement([3, 17, 5], (x) => x.reshape([51, 5]).reshape([5, 51]).stopGradient().transpose());
    });

    it('returns an output that is a reshape of an input', async () => {
      const g = new Graph('reshape_output');
      const x = g.input('x', [3, 17]);
      g.output('y', x.reshape([17, 3]));
      g.output('z', x.stopGradient());
      const out = await expectGpuMatchesReference(g, { x: dataFor([3, 17], 'f32') }, EXACT);
      expect(out['y']!.shape).to.deep.equal([17, 3]);
    });

    it('reads splat and full constants through a reshape', async () => {
      const g = new Graph('const_alias');
      const x = g.input('x', [3, 4]);
      const ids = g.constant([2, -1, 0, 7], { dtype: 'i32' }).reshape([2, 2]);
      g.output('rows', x.gather(ids, 1));
      g.output('splat', g.constant(2.5, { shape: [4, 3] }).reshape([3, 4]).transpose());
      await expectGpuMatchesReference(g, { x: dataFor([3, 4], 'f32') }, EXACT);
    });

    it('runs no kernel for a reshape or stopGradient', () => {
      const g = new Graph('alias_plan');
      const x = g.input('x', [3, 17]);
      g.output('y', x.reshape([17, 3]).stopGradient().transpose());
      // Unsimplified, so stopGradient is still in the graph when it is lowered.
      const plan = compile(g, { simplify: false });
      expect(plan.kernels.flatMap((k) => k.ops)).to.deep.equal(['transpose']);
      expect(plan.kernels[0]!.bindings).to.deep.equal([
        { buffer: plan.entries['forward']!.inputs['x'], access: 'read' },
        { buffer: plan.entries['forward']!.outputs['y'], access: 'read_write' },
      ]);
    });
  });
});
