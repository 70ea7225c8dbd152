/**
 * Builder calls are all-or-nothing: a call that throws leaves the graph exactly as it was
 * (`toJSON()` before and after are equal), wherever in the call it fails: after the
 * backward pass, after some optimizer state, after a declared range or lifted constants.
 */

import { expect } from 'chai';
import { ArgumentError, DTypeError, GraphError, KilnError, ShapeError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { grad, vjp } from '../../compiler/autodiff.js';
import { pow, where } from '../../compiler/ops/binary.js';
import { embedding } from '../../compiler/ops/layers.js';
import { softmaxCrossEntropy } from '../../compiler/ops/nn.js';
import { batchNormLayer } from '../../compiler/ops/norm.js';
import { dropout, randomUniform } from '../../compiler/ops/random.js';
import { adam, clipGradNorm, sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { trainingProgram } from '../../compiler/train.js';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.js';

type ErrorClass = new (message: string) => KilnError;

/** x [2, 3] → matmul w [3, 2] → mean: a graph with one trainable param and an input. */
function model(): { g: Graph; loss: ReturnType<Graph['input']> } {
  const g = new Graph('model', { seed: 1 });
  const x = g.input('x', [2, 3]);
  const w = g.param('w', [3, 2], { init: 'glorotUniform' });
  return { g, loss: x.matmul(w).square().mean() };
}

interface FailingCall {
  readonly what: string;
  /** Builds the graph up to the call (what must survive it). */
  readonly setUp: () => { g: Graph; call: () => unknown };
  readonly error: ErrorClass;
  readonly message: string;
  /** The call is refused by a check before it adds any node or range: the graph is unchanged without any rollback. */
  readonly refusedBeforeBuilding?: true;
}

/** A setUp on a fresh graph named `name`: `build` adds what must survive and returns the failing call. */
const onGraph = (name: string, build: (g: Graph) => () => unknown) => (): { g: Graph; call: () => unknown } => {
  const g = new Graph(name);
  return { g, call: build(g) };
};

/** A setUp on `model()`: `build` adds what must survive and returns the failing call. */
const onModel = (build: (m: ReturnType<typeof model>) => () => unknown) => (): { g: Graph; call: () => unknown } => {
  const m = model();
  return { g: m.g, call: build(m) };
};

/** Counts, from now on, the nodes and ranges `g` gains (what a rollback has to undo), even those a rollback undoes later. */
function countBuilds(g: Graph): () => number {
  let built = 0;
  const addNode = g.addNode.bind(g);
  const declareRange = g.declareRange.bind(g);
  const counted = g as unknown as { addNode: typeof addNode; declareRange: typeof declareRange };
  counted.addNode = (...args) => {
    const added = addNode(...args);
    built++;
    return added;
  };
  counted.declareRange = (...args) => {
    declareRange(...args);
    built++;
  };
  return () => built;
}

const cases: readonly FailingCall[] = [
  {
    what: 'a second trainingProgram meeting the first one\'s optimizer state (after its backward pass)',
    setUp: onModel(({ g, loss }) => {
      trainingProgram(g, { loss, optimizer: adam() });
      return () => trainingProgram(g, { loss, optimizer: adam() });
    }),
    error: GraphError,
    message: "state 'w.adam.m': the name is already used by the state",
  },
  {
    what: 'a trainingProgram whose momentum state name is taken (after the gradients and the step counter)',
    setUp: onModel(({ g, loss }) => {
      g.state('w.momentum', [1]);
      return () => trainingProgram(g, { loss, optimizer: sgd({ lr: 0.1, momentum: 0.9, clipGradNorm: 1 }) });
    }),
    error: GraphError,
    message: "state 'w.momentum': the name is already used by the state",
  },
  {
    what: "adam's apply whose second moment name is taken (after the first moment and the schedule)",
    setUp: onModel(({ g, loss }) => {
      g.state('w.adam.v', [2]);
      const w = g.get('w');
      const [gw] = grad(loss, [w]);
      return () => adam({ lr: { kind: 'cosine', lr: 0.1, totalSteps: 10 } }).apply(g, [w], [gw!]);
    }),
    error: GraphError,
    message: "state 'w.adam.v': the name is already used by the state",
  },
  {
    what: 'grad with respect to an i32 tensor (after the seed cotangent)',
    setUp: onModel(({ g, loss }) => {
      const counts = g.input('counts', [3], 'i32');
      return () => grad(loss, [counts]);
    }),
    error: ArgumentError,
    message: 'grad: counts:i32[3] is i32 and cannot be differentiated',
  },
  {
    what: 'vjp whose wrt mixes graphs',
    setUp: onModel(({ g, loss }) => {
      const seed = g.constant(1);
      return () => vjp([loss], [seed], [new Graph('other').param('p', [1])]);
    }),
    error: GraphError,
    message: 'vjp: outputs, cotangents and wrt must come from one graph.',
    refusedBeforeBuilding: true,
  },
  {
    what: 'clipGradNorm of gradients of two graphs',
    setUp: onModel(({ g, loss }) => {
      const [gw] = grad(loss, [g.get('w')]);
      return () => clipGradNorm([gw!, new Graph('other').input('q', [2])], 1);
    }),
    error: ArgumentError,
    message: 'clipGradNorm: gradients must be f32 Tensors of one graph.',
    refusedBeforeBuilding: true,
  },
  {
    what: 'batchNormLayer whose running variance name is taken (after gamma, beta and the running mean)',
    setUp: onGraph('bn', (g) => {
      g.state('bn.runningVar', [4]);
      return () => batchNormLayer(g, 'bn', 4);
    }),
    error: GraphError,
    message: "state 'bn.runningVar': the name is already used by the state",
  },
  {
    what: 'embedding whose table belongs to another graph (after the ids\' range)',
    setUp: onGraph('tokens', (g) => {
      const ids = g.input('ids', [4], 'i32');
      return () => embedding(new Graph('other').param('table', [10, 3]), ids);
    }),
    error: GraphError,
    message: "gather: a tensor from graph 'tokens' was used in graph 'other'",
  },
  {
    what: 'softmaxCrossEntropy whose labels already hold an incompatible range',
    setUp: onGraph('labels', (g) => {
      const labels = g.input('labels', [2], 'i32');
      g.declareRange(labels, 20, 30, 'ids of another table');
      const logits = g.input('logits', [2, 10]);
      return () => softmaxCrossEntropy(logits, labels);
    }),
    error: GraphError,
    message: 'declareRange: labels:i32[2] cannot be in [0, 9]',
    refusedBeforeBuilding: true,
  },
  {
    what: 'a float-only op on an i32 tensor and a number (after the number became a constant)',
    setUp: onGraph('ints', (g) => {
      const n = g.input('n', [3], 'i32');
      return () => pow(n, 2);
    }),
    error: DTypeError,
    message: 'pow',
  },
  {
    what: 'where with a condition that is not a bool mask (after both branches became constants)',
    setUp: onGraph('masks', (g) => {
      const condition = g.input('c', [3]);
      return () => where(condition, 1, 2);
    }),
    error: DTypeError,
    message: 'where',
  },
  {
    what: 'randomUniform with a step counter of the wrong type',
    setUp: onGraph('draws', (g) => {
      g.state('optimizer.step', [], { dtype: 'f32' });
      return () => randomUniform(g, [4], { stream: 's' });
    }),
    error: GraphError,
    message: "the step counter 'optimizer.step' must be an i32 scalar state",
    refusedBeforeBuilding: true,
  },
  {
    what: 'dropout of a tensor from a graph whose step counter has the wrong type',
    setUp: onGraph('drop', (g) => {
      g.state('optimizer.step', [2], { dtype: 'i32' });
      const x = g.input('x', [4]);
      return () => dropout(x, 0.5);
    }),
    error: GraphError,
    message: "the step counter 'optimizer.step' must be an i32 scalar state",
    refusedBeforeBuilding: true,
  },
  {
    what: 'a layer built inside graph.atomically that fails halfway (a shape error after two nodes and an output)',
    setUp: onGraph('custom', (g) => {
      const x = g.input('x', [2, 3]);
      return () =>
        g.atomically(() => {
          g.output('hidden', x.relu().mul(2));
          return x.matmul(g.param('w', [4, 4]));
        });
    }),
    error: ShapeError,
    message: 'matmul',
  },
];

describe('builder calls that throw leave the graph as it was', () => {
  for (const { what, setUp, error, message, refusedBeforeBuilding } of cases) {
    it(`${refusedBeforeBuilding ? 'refuses, before building anything,' : 'rolls back'} ${what}`, () => {
      const { g, call } = setUp();
      const before = JSON.stringify(g.toJSON());
      const built = countBuilds(g);
      expect(call).to.throw(error, message);
      // A rollback case must build something before failing, or it would pass without the rollback.
      if (refusedBeforeBuilding) expect(built()).to.equal(0);
      else expect(built()).to.be.greaterThan(0);
      expect(JSON.stringify(g.toJSON())).to.equal(before);
      // The graph still takes new names and nodes where the failed call left off.
      expect(g.nodes.every((node, id) => node.id === id)).to.equal(true);
    });
  }

  it('keeps the first training program checkpoint-compatible after a second one fails', () => {
    const { g, loss } = model();
    const first = trainingProgram(g, { loss, optimizer: adam() });
    const persistentBefore = compile(first).buffers.filter((b) => b.role !== 'transient').map((b) => b.name);
    expect(() => trainingProgram(g, { loss, optimizer: adam() })).to.throw(GraphError);
    const plan = compile(first);
    expect(plan.buffers.filter((b) => b.role !== 'transient').map((b) => b.name)).to.deep.equal(persistentBefore);
    // Params and state are static: every size in their buffers' shapes is a number.
    const sizes = (shape: readonly (number | string)[]): number[] => shape.map((d) => (typeof d === 'number' ? d : Number.NaN));
    const saved = encodeSafetensors(Object.fromEntries(plan.buffers.filter((b) => b.role === 'param' || b.role === 'state').map((b) => [b.name, { shape: sizes(b.shape), dtype: b.dtype, data: b.dtype === 'f32' ? new Float32Array(sizes(b.shape).reduce((a, d) => a * d, 1)) : new Int32Array(1) }])));
    expect(Object.keys(decodeSafetensors(saved).tensors).sort()).to.deep.equal(['optimizer.step', 'w', 'w.adam.m', 'w.adam.v']);
  });

  it('rolls back a failed call nested inside a call that succeeds, keeping the outer call\'s nodes', () => {
    const g = new Graph('nested');
    const x = g.input('x', [2]);
    const y = g.atomically(() => {
      const doubled = x.mul(2);
      const before = g.nodes.length;
      expect(() => g.atomically(() => pow(g.input('n', [2], 'i32'), 2))).to.throw(DTypeError);
      expect(g.nodes.length).to.equal(before);
      return doubled.add(1);
    });
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['input', 'const', 'mul', 'const', 'add']);
    expect(() => g.input('n', [2], 'i32')).to.not.throw();
    expect(y.shape).to.deep.equal([2]);
  });
});
