import { expect } from 'chai';
import { lowerGroup } from '../../../../compiler/codegen/lower.js';
import { kernelLimits } from '../../../../compiler/codegen/wgsl.js';
import { KernelError } from '../../../../compiler/errors.js';
import { Graph } from '../../../../compiler/graph.js';
import { seedMlp } from '../../../../examples/models/seed-mlp.js';
import { fuseGraph, fuseProgramEntry } from './harness.js';

/** p ← (p + x)·y: an update whose loop group reads its param elementwise. */
function update() {
  const g = new Graph('update');
  const p = g.param('p', [4], { init: 'normal' });
  const x = g.input('x', [4]);
  const y = g.input('y', [4]);
  const value = p.add(x).mul(y);
  return { g, p, x, y, value };
}

describe('fusion decisions (CPU)', () => {
  describe('in-place writes', () => {
    it('writes an update straight into its param when its kernel is the last to read the param, binding one buffer fewer', () => {
      const { g, p, value } = update();
      const { groups } = fuseGraph(g, { outputs: [], assignments: [[p.id, value.id]] });
      expect(groups).to.have.length(1);
      expect(groups[0]).to.deep.include({ kind: 'loop', inPlace: [{ value: value.id, target: p.id }], storageBuffers: 3 });
    });

    it('refuses when the entry also reads the value back (it needs its own buffer)', () => {
      const { g, p, value } = update();
      const { groups } = fuseGraph(g, { outputs: [value.id], assignments: [[p.id, value.id]] });
      expect(groups[0]).to.deep.include({ inPlace: [], storageBuffers: 4 });
    });

    it('refuses when a later kernel reads the param’s old value', () => {
      const g = new Graph('later reader');
      const p = g.param('p', [4], { init: 'normal' });
      const x = g.input('x', [4]);
      const u = p.mul(x);
      const value = u.add(1);
      // The sum needs u, so the product p·s runs after the update's kernel: it must see the old p.
      const out = p.mul(u.sum());
      const { groups, ops } = fuseGraph(g, { outputs: [out.id], assignments: [[p.id, value.id]] });
      expect(ops).to.deep.equal([['mul', 'add'], ['sum'], ['mul']]);
      expect(groups[0]!.inPlace).to.deep.equal([]);
    });

    it('refuses when the kernel reads the param through an alias (a view whose elements fusion does not track)', () => {
      const g = new Graph('alias');
      const p = g.param('p', [4], { init: 'normal' });
      const x = g.input('x', [4]);
      const value = p.reshape([2, 2]).reshape([4]).mul(x);
      const { groups } = fuseGraph(g, { outputs: [], assignments: [[p.id, value.id]] });
      expect(groups).to.have.length(1);
      expect(groups[0]!.inPlace).to.deep.equal([]);
    });
  });

  describe('the binding limit', () => {
    it('splits a group over the limit once its in-place writes are known into one single group per node, saying why', () => {
      // Counted as written in place (3 bindings), the update turns out to be read back: 4, over 3.
      const { g, p, value } = update();
      const { groups, ops } = fuseGraph(g, { outputs: [value.id], assignments: [[p.id, value.id]] }, { maxBindings: 3 });
      expect(ops).to.deep.equal([['add'], ['mul']]);
      for (const group of groups) {
        expect(group).to.deep.include({ kind: 'single', inPlace: [], storageBuffers: 3 });
        expect(group.reason).to.equal(
          'loop fusion: add, mul in one pass over [4]; split into one kernel per node: fused, it would bind 4 storage buffers, over maxStorageBuffersPerShaderStage of 3',
        );
      }
    });
  });

  describe('unfused ({fuse: false})', () => {
    it('makes one single group per node, and still writes an elementwise update in place', () => {
      const { g, p, value } = update();
      const { groups, ops } = fuseGraph(g, { outputs: [], assignments: [[p.id, value.id]] }, { fuse: false });
      expect(ops).to.deep.equal([['add'], ['mul']]);
      expect(groups.map((group) => group.reason)).to.deep.equal(['add: unfused', 'mul: unfused']);
      expect(groups.map((group) => group.kind)).to.deep.equal(['single', 'single']);
      expect(groups[1]!.inPlace).to.deep.equal([{ value: value.id, target: p.id }]);
    });

    it('leaves a kernel op alone to its template: no binding count of fusion’s', () => {
      const g = new Graph('matmul');
      const y = g.input('x', [2, 3]).matmul(g.input('w', [3, 4]));
      const { groups } = fuseGraph(g, { outputs: [y.id] }, { fuse: false });
      expect(groups).to.deep.equal([{ kind: 'single', reason: 'matmul: unfused', nodes: [y.id], outputs: [y.id], shape: [2, 4], inPlace: [] }]);
    });
  });

  describe('the seed MLP training step', () => {
    it('is 10 kernels: three forward layers, the loss rows, the mean, two masked input gradients and three sibling weight updates', () => {
      const { groups } = fuseProgramEntry(seedMlp({ batch: 8 }), 'trainStep');
      expect(groups.map((group) => group.kind)).to.deep.equal([
        'epilogue',
        'epilogue',
        'epilogue',
        'row',
        'single',
        'epilogue',
        'epilogue',
        'sibling',
        'sibling',
        'sibling',
      ]);
    });

    it('writes all 12 param and momentum updates in place, in the sibling kernels', () => {
      const { groups } = fuseProgramEntry(seedMlp({ batch: 8 }), 'trainStep');
      expect(groups.map((group) => group.inPlace.length)).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 4, 4, 4]);
    });

    it('is plain data: its groups survive a JSON round trip', () => {
      const { groups } = fuseProgramEntry(seedMlp({ batch: 8 }), 'trainStep');
      expect(JSON.parse(JSON.stringify(groups))).to.deep.equal(groups);
    });
  });
});

describe('the emitter’s check of fusion’s binding count', () => {
  it('is an internal error naming the kernel when the kernel binds another number of storage buffers than fusion counted', () => {
    const { g, p, x, y, value } = update();
    const { groups } = fuseGraph(g, { outputs: [], assignments: [[p.id, value.id]] });
    const wrong = { ...groups[0]!, storageBuffers: 4 };
    expect(() => lowerGroup(g, wrong, kernelLimits({}))).to.throw(
      KernelError,
      /^lowerGroup: kernel k\d+_fused \(loop fusion: add, mul in one pass over \[4\]\) binds 3 storage buffers, but fusion counted 4 \(a fusion bug/,
    );
    // Counted right, it binds p (read, and written in place), then x and y.
    expect(lowerGroup(g, groups[0]!, kernelLimits({}))[0]!.bindings).to.deep.equal([
      { node: p.id, access: 'read_write' },
      { node: x.id, access: 'read' },
      { node: y.id, access: 'read' },
    ]);
  });
});
