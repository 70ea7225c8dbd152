import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { add, mul } from '../../compiler/ops/binary.js';
import { clip, relu } from '../../compiler/ops/unary.js';

describe('printGraph', () => {
  it('prints inputs, params with initializers, let-bound nodes with types, inline scalars and outputs', () => {
    const g = new Graph('tiny');
    const x = g.input('x', [2, 3]);
    const labels = g.input('labels', [2], 'i32');
    const w = g.param('w', [2, 3], { init: { kind: 'uniform', low: -1, high: 1 } });
    const y = clip(relu(mul(add(x, w), 0.5)), null, 6);
    g.output('y', y);
    g.output('labels', labels);
    expect(g.toString()).to.equal(
      [
        'graph tiny {',
        '  in    x:f32[2,3]  labels:i32[2]',
        '  param w:f32[2,3] ~ uniform[low=-1, high=1]',
        '  let   %3:f32[2,3] = add x w',
        '        %5:f32[2,3] = mul %3 0.5',
        '        %6:f32[2,3] = relu %5',
        '        %7:f32[2,3] = clip[min=null, max=6] %6',
        '  out   y = %7  labels = labels',
        '}',
      ].join('\n'),
    );
  });

  it('quotes names that are not identifiers and abbreviates long constants', () => {
    const g = new Graph('odd names');
    const x = g.input('input:0', [10]);
    g.output('out put', add(x, g.constant([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])));
    const text = g.toString();
    expect(text).to.contain('graph "odd names" {');
    expect(text).to.contain('"input:0":f32[10]');
    expect(text).to.contain('const [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, … 10 values]');
    expect(text).to.contain('"out put" = %2');
  });
});
