import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { expandOneHots } from '../../../compiler/passes/one-hot.js';
import { programOf } from '../../../compiler/passes/program.js';
import { evaluateNodes } from '../../../compiler/reference.js';
import { verify } from '../../../compiler/verify.js';

describe('expandOneHots', () => {
  for (const [dtype, axis] of [['bool', -1], ['f32', -1], ['i32', 0], ['f32', 1]] as const) {
    it(`turns oneHot (${dtype}, axis ${axis}) into an equal against the class indices, with the same values`, () => {
      const g = new Graph('h');
      const labels = g.input('labels', [2, 3], 'i32');
      g.output('y', labels.oneHot(4, { dtype, axis }));
      const before = programOf(g);
      const after = expandOneHots(before);
      verify(after.graph);
      expect(after.graph.nodes.map((n) => n.op)).to.not.include('oneHot');
      expect(after.graph.nodes.map((n) => n.op)).to.include('equal');
      // In range, out of range (4), negative: out-of-range rows are all zero either way.
      const feeds = { labels: [0, 3, 4, -1, 2, 1] };
      const [expected] = evaluateNodes(g, [before.entries['forward']!.outputs['y']!], { feeds });
      const [actual] = evaluateNodes(after.graph, [after.entries['forward']!.outputs['y']!], { feeds });
      expect(actual!.shape).to.deep.equal(expected!.shape);
      expect(actual!.dtype).to.equal(expected!.dtype);
      expect(Array.from(actual!.data)).to.deep.equal(Array.from(expected!.data));
    });
  }
});
