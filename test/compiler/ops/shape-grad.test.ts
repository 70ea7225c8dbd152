import { expect } from 'chai';
import { grad } from '../../../compiler/autodiff.js';
import { Graph } from '../../../compiler/graph.js';
import { mul } from '../../../compiler/ops/binary.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { broadcastTo, expand, permute, reshape, squeeze, transpose, unsqueeze } from '../../../compiler/ops/shape.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { checkGradients } from '../../gradcheck.js';
import { values } from '../../helpers.js';
import { gradientOf } from './second-order.js';

describe('shape op gradients', () => {
  it('reshape gives the cotangent back in the operand shape', () => {
    checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: ([x]) => reshape(x!, [4, -1]) });
    checkGradients({ inputs: [{ shape: [6] }], build: ([x]) => reshape(x!, [1, 2, 1, 3]) });
    checkGradients({ inputs: [{ shape: [1, 1] }], build: ([x]) => reshape(x!, []) });
  });

  it('transpose sends the cotangent back through the inverse permutation', () => {
    checkGradients({ inputs: [{ shape: [3, 4] }], build: ([x]) => transpose(x!) });
    // [2,0,1] is not its own inverse ([1,2,0]), so a rule that reused perm would fail here.
    checkGradients({ inputs: [{ shape: [2, 3, 4] }], build: ([x]) => transpose(x!, [2, 0, 1]) });
    checkGradients({ inputs: [{ shape: [2, 3, 4, 5] }], build: ([x]) => permute(x!, [-1, 1, -4, 2]) });
  });

  it('transpose builds the inverse permutation', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 3, 4]);
    const loss = sum(transpose(x, [2, 0, 1]));
    const forward = g.nodes.length;
    const [dx] = grad(loss, [x]);
    const transposes = g.nodes.slice(forward).filter((n) => n.op === 'transpose');
    expect(transposes.map((n) => n.attrs)).to.deep.equal([{ perm: [1, 2, 0] }]);
    expect(dx!.shape).to.deep.equal([2, 3, 4]);
  });

  it('broadcastTo sums the cotangent over new leading axes and grown size-1 axes', () => {
    checkGradients({ inputs: [{ shape: [3, 1] }], build: ([x]) => broadcastTo(x!, [2, 3, 4]) });
    checkGradients({ inputs: [{ shape: [] }], build: ([x]) => broadcastTo(x!, [2, 2]) });
    checkGradients({ inputs: [{ shape: [1, 4, 1] }], build: ([x]) => expand(x!, [3, -1, -1, 2]) });
  });

  it('broadcastTo counts each copy of an element once', () => {
    const g = new Graph('t');
    const x = g.input('x', [2, 1]);
    const [dx] = grad(sum(broadcastTo(x, [3, 2, 5])), [x]);
    expect(values(dx!, { feeds: { x: [1, 2] } })).to.deep.equal([15, 15]);
  });

  it('squeeze and unsqueeze, composites of reshape, are differentiable', () => {
    checkGradients({ inputs: [{ shape: [2, 1, 3, 1] }], build: ([x]) => squeeze(x!, [1, -1]) });
    checkGradients({ inputs: [{ shape: [3] }], build: ([x]) => unsqueeze(x!, [0, 2]) });
  });

  it('of second order', () => {
    const square = (x: Tensor): Tensor => mul(x, x);
    checkGradients({ inputs: [{ shape: [2, 3] }], build: gradientOf(([x]) => square(transpose(reshape(x!, [3, 2])))) });
    checkGradients({ inputs: [{ shape: [3, 1] }], build: gradientOf(([x]) => square(broadcastTo(x!, [2, 3, 2]))) });
  });
});
