/** A module `kiln profile` loads by path in the CLI tests: a matmul with a bias and a ReLU, its batch symbolic. */

import { Graph } from '../../compiler/graph.js';

export default function symbolicLinear(): Graph {
  const g = new Graph('symbolic_linear');
  const x = g.input('x', [g.dim('batch'), 5]);
  const w = g.param('w', [5, 7], { init: 'ones' });
  const b = g.param('b', [7], { init: 'zeros' });
  g.output('y', x.matmul(w).add(b).relu().sum(1));
  return g;
}
