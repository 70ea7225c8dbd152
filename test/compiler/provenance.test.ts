/**
 * Provenance (compiler/origin.ts): every node records where it came from, its name scope
 * and, while a line source is set, its source line; what autodiff, optimizers and passes
 * build for a node inherits the node's origin, so the simplified graph the playground draws
 * still points at the user's code. Origins never change what is printed, serialized or compiled.
 */

import { expect } from 'chai';
import * as kiln from '../../index.js';
import { ArgumentError, Graph, bindDims, compile, compileStages, nn, printGraph, programOf, roleOf, sgd, adam, simplify, specializeModes, traceNodeLines, trainingProgram } from '../../index.js';
import type { Node } from '../../index.js';
import { openScopes } from '../../compiler/origin.js';
import { loadFashionMnist } from '../../examples/data/fashion-mnist.js';
import { playgroundData } from '../../playground/datasets.js';
import { EXAMPLES } from '../../playground/examples.js';
import { runUserCode } from '../../playground/user-code.js';
import { importOnnx } from '../../onnx.js';
import { mlpBytes } from '../onnx/model-builder.js';

const computed = (nodes: readonly Node[]): Node[] => nodes.filter((n) => roleOf(n) === 'computed');

/** Runs `build` with a line source that gives `line()`, then clears it. */
function withLines<T>(line: () => number | undefined, build: () => T): T {
  const previous = traceNodeLines(line);
  try {
    return build();
  } finally {
    traceNodeLines(previous);
  }
}

describe('provenance: name scopes', () => {
  it('records the open scopes, nested with /, and nothing outside any scope', () => {
    const g = new Graph('scopes');
    const x = g.input('x', [2, 3]);
    const outside = x.relu();
    const [inner, middle] = g.scope('block0', () => {
      const a = g.scope('attn', () => x.exp());
      return [a, a.neg()];
    });
    expect(inner!.node.origin).to.deep.equal({ scope: 'block0/attn' });
    expect(middle!.node.origin).to.deep.equal({ scope: 'block0' });
    expect(outside.node).to.not.have.property('origin');
    expect(x.neg().node).to.not.have.property('origin');
    expect(openScopes(g)).to.deep.equal([]);
  });

  it('is per graph: a scope open in one graph does not reach another built inside it', () => {
    const [outer, inner] = [new Graph('outer'), new Graph('inner')];
    const [mine, other] = outer.scope('s', () => [outer.input('x', [1]).exp(), inner.input('y', [1]).exp()]);
    expect(mine!.node.origin).to.deep.equal({ scope: 's' });
    expect(other!.node).to.not.have.property('origin');
  });

  it('is the scope nn layers name their params under, and a layer records its own path wherever it is applied', () => {
    const g = new Graph('layers');
    const x = g.input('x', [4, 8]);
    const fc = g.scope('block0', () => nn.linear(g, 'fc', 8, 8));
    expect(fc.kernel.name).to.equal('block0.fc.kernel');
    expect(fc.kernel.node.origin).to.deep.equal({ scope: 'block0/fc' });
    // Applied outside block0 and inside another scope: its nodes are still the layer's.
    const y = g.scope('elsewhere', () => fc(x));
    expect(y.node.op).to.equal('add');
    expect(y.node.origin).to.deep.equal({ scope: 'block0/fc' });
    expect(g.node(y.node.inputs[0]!).origin).to.deep.equal({ scope: 'block0/fc' });
    // nn.scope is the same scope as graph.scope.
    const z = nn.scope(g, 'head', () => g.scope('norm', () => nn.layerNorm(g, 'ln', 8)(y)));
    expect(g.get('head.norm.ln.weight').node.origin).to.deep.equal({ scope: 'head/norm/ln' });
    expect(z.node.origin).to.deep.equal({ scope: 'head/norm/ln' });
  });

  it('puts attention under its name and its projections under theirs', () => {
    const g = new Graph('attention');
    const x = g.input('x', [2, 4, 8]);
    const y = nn.multiHeadAttention(g, 'attn', 8, 2, { causal: true })(x);
    const scopes = new Set(computed(g.nodes).map((n) => n.origin?.scope));
    expect([...scopes].sort()).to.deep.equal(['attn', 'attn/k', 'attn/out', 'attn/q', 'attn/v']);
    expect(g.nodes.find((n) => n.op === 'attention')!.origin).to.deep.equal({ scope: 'attn' });
    expect(y.node.origin).to.deep.equal({ scope: 'attn' });
  });

  it('refuses a bad name or build with the fix, before building anything', () => {
    const g = new Graph('bad');
    const x = g.input('x', [2]);
    const cases: [() => unknown, string][] = [
      [() => g.scope('', () => x.exp()), 'scope: a name is required (a non-empty string).'],
      [() => g.scope(3 as unknown as string, () => x.exp()), 'scope: a name is required (a non-empty string).'],
      [() => g.scope('a/b', () => x.exp()), "scope: the name 'a/b' contains a slash, which joins scope names; nest a scope instead (graph.scope('a', () => ...))."],
      [() => g.scope('a.b', () => x.exp()), "scope: the name 'a.b' contains a dot, which joins scope names; nest a scope instead (graph.scope('a', () => ...))."],
      [() => g.scope('a', 'nodes' as unknown as () => void), 'scope: build must be a function that builds the scope\'s nodes, e.g. () => nn.linear(...); got string.'],
      [() => g.scope('a', async () => x.exp()), 'scope: build is an async function; a scope closes when build returns'],
      [() => nn.scope(g, 'a/b', () => x.exp()), "nn.scope: the name 'a/b' contains a slash, which joins scope names; nest a scope instead (nn.scope(graph, 'a', ...))."],
      [() => nn.linear(g, 'fc/1', 2, 2), "nn.linear: the name 'fc/1' contains a slash"],
    ];
    for (const [call, message] of cases) {
      expect(call, message).to.throw(ArgumentError, message);
      expect(g.nodes, message).to.have.length(1);
    }
  });

  it('refuses a build that returns a promise, and closes the scope', () => {
    const g = new Graph('promise');
    const x = g.input('x', [2]);
    expect(() => g.scope('a', () => Promise.resolve(x.exp()))).to.throw(ArgumentError, 'scope: build returned a promise; a scope closes when build returns');
    expect(openScopes(g)).to.deep.equal([]);
  });

  it('closes when build throws, and a rolled-back call takes its nodes (and their origins) with it', () => {
    const g = new Graph('rollback');
    const x = g.input('x', [2, 3]);
    const failing = (): unknown =>
      g.atomically(() =>
        g.scope('outer', () =>
          g.scope('inner', () => {
            x.exp();
            return x.matmul(x); // [2,3]·[2,3]: a shape error after one node
          }),
        ),
      );
    expect(failing).to.throw(/matmul/);
    expect(g.nodes).to.have.length(1);
    expect(openScopes(g)).to.deep.equal([]);
    expect(x.exp().node).to.not.have.property('origin');
  });
});

describe('provenance: lines', () => {
  it('stamps each node with what the line source gives, costs nothing unset, and returns the source it replaced', () => {
    const g = new Graph('lines');
    const x = g.input('x', [2]);
    let line = 7;
    const source = (): number => line;
    const [a, b] = withLines(source, () => {
      const first = g.scope('s', () => x.exp());
      line = 9;
      return [first, first.neg()];
    });
    expect(a!.node.origin).to.deep.equal({ scope: 's', line: 7 });
    expect(b!.node.origin).to.deep.equal({ line: 9 });
    expect(x.node).to.not.have.property('origin');
    expect(x.relu().node).to.not.have.property('origin');
    expect(traceNodeLines(source)).to.equal(undefined);
    expect(traceNodeLines(undefined)).to.equal(source);
    expect(() => traceNodeLines(5 as unknown as () => number)).to.throw(ArgumentError, 'traceNodeLines: expected a function that returns the current line (or undefined to stop), got number.');
  });

  it('records the line of the innermost frame of the user code in the playground, and clears the source after', async () => {
    const code = [
      'const g = new kiln.Graph("lines");', // 1
      'const x = g.input("x", [2, 3]);', // 2
      'function helper(t) {', // 3
      '  return t.exp();', // 4
      '}', // 5
      'const y = helper(x).relu();', // 6
      'const fc = kiln.nn.linear(g, "fc", 3, 4);', // 7
      'await null;', // 8
      'g.output("y", fc(y));', // 9
      'return g;', // 10
    ].join('\n');
    const { model } = await runUserCode(code, { kiln });
    const g = model as Graph;
    const byOp = (op: string): Node => g.nodes.find((n) => n.op === op)!;
    expect(g.get('x').node.origin).to.deep.equal({ line: 2 });
    expect(byOp('exp').origin).to.deep.equal({ line: 4 });
    expect(byOp('relu').origin).to.deep.equal({ line: 6 });
    expect(g.get('fc.kernel').node.origin).to.deep.equal({ scope: 'fc', line: 7 });
    // After an await, the user's frame is still found.
    expect(byOp('matmul').origin).to.deep.equal({ scope: 'fc', line: 9 });
    expect(g.input('later', [1]).node).to.not.have.property('origin');
    expect(traceNodeLines(undefined)).to.equal(undefined);
  });

  it('clears the line source when the user code throws, and still marks the line', async () => {
    const error = await runUserCode('const g = new kiln.Graph("e");\nthrow new Error("no");', { kiln }).catch((e: unknown) => e);
    expect(error).to.have.property('line', 2);
    expect(traceNodeLines(undefined)).to.equal(undefined);
  });
});

/** A two-layer model with its own scopes and lines (the line is the id of the scope's layer). */
function scopedModel(optimizer = sgd({ lr: 0.1, momentum: 0.9 })) {
  let line = 0;
  return withLines(
    () => line,
    () => {
      const g = new Graph('scoped', { seed: 3 });
      line = 1;
      const x = g.input('x', [4, 8]);
      const labels = g.input('labels', [4], 'i32');
      line = 2;
      const fc1 = nn.linear(g, 'fc1', 8, 16);
      line = 3;
      const fc2 = nn.linear(g, 'fc2', 16, 3);
      line = 4;
      const logits = fc2(fc1(x).relu());
      g.output('logits', logits);
      line = 5;
      const loss = logits.softmaxCrossEntropy(labels);
      line = 6;
      return trainingProgram(g, { loss, optimizer });
    },
  );
}

describe('provenance: through autodiff, optimizers and passes', () => {
  it('gives a gradient node the origin of the forward node it differentiates, and an update its param', () => {
    const program = scopedModel();
    const g = program.graph;
    // fc1's kernel gradient is xᵀ·g, built while differentiating fc1's matmul.
    program.params.forEach((p, i) => {
      const gradient = program.gradients[i]!.node;
      expect(gradient.origin?.scope, p.name).to.equal(p.name!.split('.')[0]);
      expect(gradient.origin?.line, p.name).to.equal(4);
    });
    for (const [target, value] of g.assignments) {
      const param = g.node(target);
      if (param.op !== 'param') continue;
      expect(g.node(value).origin, param.name).to.deep.equal(param.origin);
      expect(g.get(`${param.name}.momentum`).node.origin, param.name).to.deep.equal(param.origin);
    }
    // The loss's seed cotangent (1.0) is the loss's; every gradient node has some origin.
    const forward = computed(g.nodes).filter((n) => n.id <= program.loss.id);
    expect(computed(g.nodes).filter((n) => n.id > program.loss.id && n.origin === undefined)).to.deep.equal([]);
    expect(forward.every((n) => n.origin?.line !== undefined)).to.equal(true);
  });

  it('keeps origins through adam, specializeModes, simplify and bindDims, and CSE keeps the first', () => {
    const program = scopedModel(adam({ lr: 1e-3 }));
    const stages = compileStages(program);
    for (const stage of [stages.specialized, stages.simplified]) {
      const nodes = computed(stage.graph.nodes);
      expect(nodes.filter((n) => n.origin?.line === undefined).map((n) => `%${n.id} ${n.op}`)).to.deep.equal([]);
    }
    // Two equal nodes in two scopes merge into the first one, which keeps its own origin.
    const g = new Graph('cse');
    const x = g.input('x', [3]);
    const a = g.scope('a', () => x.exp());
    const b = g.scope('b', () => x.exp());
    g.output('y', a.add(b));
    const merged = simplify(programOf(g)).graph;
    expect(merged.nodes.filter((n) => n.op === 'exp').map((n) => n.origin)).to.deep.equal([{ scope: 'a' }]);
    // A rewrite builds in a node's place with the node's origin: x·1 folds away, the transposed matmul becomes one matmul.
    const t = new Graph('rewrite');
    const m = t.input('m', [3, 4]);
    t.output('y', t.scope('mm', () => m.transpose([1, 0]).matmul(m)));
    const folded = simplify(programOf(t)).graph;
    const matmul = folded.nodes.find((n) => n.op === 'matmul')!;
    expect(matmul.attrs).to.have.property('transposeA', true);
    expect(matmul.origin).to.deep.equal({ scope: 'mm' });
  });

  it('compiles without asking the line source: every node a stage builds inherits an origin', () => {
    const program = scopedModel();
    let calls = 0;
    withLines(
      () => ++calls,
      () => [compileStages(program), compileStages(program, { fuse: false }), compile(program, { dims: {} })],
    );
    expect(calls).to.equal(0);
  });

  it('keeps a dropout under its scope in both modes, and a node bound to sizes keeps its origin', () => {
    const g = new Graph('modes');
    const x = g.input('x', ['batch', 4]);
    g.output('y', g.scope('drop', () => nn.dropout(0.5)(x)).mul(2));
    const specialized = specializeModes({ graph: g, entries: { forward: { outputs: Object.fromEntries(g.outputs), assignments: [] }, train: { outputs: Object.fromEntries(g.outputs), assignments: [], mode: 'train' } } });
    const scoped = computed(specialized.graph.nodes).filter((n) => n.op !== 'mul');
    expect(scoped.length).to.be.greaterThan(2);
    expect(scoped.map((n) => n.origin?.scope)).to.deep.equal(scoped.map(() => 'drop'));
    const bound = bindDims(g, { batch: 2 });
    expect(bound.nodes.map((n) => n.origin)).to.deep.equal(g.nodes.map((n) => n.origin));
  });

  it('changes no printed graph, graph JSON or plan', () => {
    const build = (): ReturnType<typeof trainingProgram> => {
      const g = new Graph('same', { seed: 5 });
      const x = g.input('x', [4, 8]);
      const labels = g.input('labels', [4], 'i32');
      const logits = g.scope('body', () => nn.linear(g, 'fc', 8, 3)(x));
      return trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: sgd({ lr: 0.1 }) });
    };
    const [plain, traced] = [build(), withLines(() => 12, build)];
    expect(traced.graph.nodes.every((n) => n.origin?.line === 12)).to.equal(true);
    expect(plain.graph.nodes.some((n) => n.origin?.line !== undefined)).to.equal(false);
    expect(printGraph(traced.graph)).to.equal(printGraph(plain.graph));
    expect(JSON.stringify(traced.graph.toJSON())).to.equal(JSON.stringify(plain.graph.toJSON()));
    expect(JSON.stringify(compile(traced))).to.equal(JSON.stringify(compile(plain)));
    // JSON carries no origin: a graph read back has none.
    expect(Graph.fromJSON(traced.graph.toJSON()).nodes.some((n) => n.origin !== undefined)).to.equal(false);
  });
});

describe('provenance: imported ONNX models', () => {
  it('scopes the nodes of an ONNX node by the module path in its name, as exporters write it', () => {
    const { graph } = importOnnx(mlpBytes(4, 8, 3), { dims: { batch: 2 } });
    const scopes = computed(graph.nodes).map((n) => `${n.op} ${n.origin?.scope ?? '-'}`);
    expect(scopes.filter((s) => s.startsWith('matmul') || s.startsWith('relu'))).to.deep.equal(['matmul fc1', 'relu relu', 'matmul fc2']);
    expect(computed(graph.nodes).every((n) => n.origin?.scope !== undefined)).to.equal(true);
  });
});

describe('provenance: the playground examples', function () {
  this.timeout(60000);
  const data = { ...playgroundData, fashionMnist: () => loadFashionMnist('test') };

  for (const example of EXAMPLES) {
    it(`${example.id}: at least 95% of the simplified graph's computed nodes have a line, and every layer's matmul a scope`, async () => {
      const { model } = await runUserCode(example.code, { kiln, data });
      const simplified = compileStages(model).simplified.graph;
      const nodes = computed(simplified.nodes);
      const lined = nodes.filter((n) => n.origin?.line !== undefined);
      expect(lined.length / nodes.length, `${nodes.length - lined.length} of ${nodes.length} without a line`).to.be.at.least(0.95);
      const lines = example.code.split('\n').length;
      expect(lined.every((n) => n.origin!.line! >= 1 && n.origin!.line! <= lines)).to.equal(true);
      if (example.code.includes('nn.linear')) {
        const matmuls = nodes.filter((n) => n.op === 'matmul');
        expect(matmuls.filter((n) => n.origin?.scope === undefined).map((n) => `%${n.id}`)).to.deep.equal([]);
      }
    });
  }
});
