import { expect } from 'chai';
import { ArgumentError, Graph, evaluate, initialParams, nn } from '../../../index.js';

const paramNames = (g: Graph): string[] => g.nodesOfRole('param').map((n) => n.name!);

describe('nn layers', () => {
  it('name their params under the open scopes, block0.attn.q.kernel-style', () => {
    const g = new Graph('scopes');
    nn.scope(g, 'block0', () => nn.multiHeadAttention(g, 'attn', 8, 2));
    nn.linear(g, 'head', 8, 3);
    expect(paramNames(g)).to.deep.equal([
      'block0.attn.q.kernel', 'block0.attn.q.bias', 'block0.attn.k.kernel', 'block0.attn.k.bias',
      'block0.attn.v.kernel', 'block0.attn.v.bias', 'block0.attn.out.kernel', 'block0.attn.out.bias',
      'head.kernel', 'head.bias',
    ]);
  });

  it('close a scope when its builder throws', () => {
    const g = new Graph('throws');
    expect(() => nn.scope(g, 'a', () => nn.linear(g, 'fc', 0, 1))).to.throw(ArgumentError, 'nn.linear: inFeatures must be');
    nn.linear(g, 'fc', 2, 1);
    expect(paramNames(g)).to.deep.equal(['fc.kernel', 'fc.bias']);
  });

  it("start as PyTorch's do: U(±1/√fanIn) weights and biases, norm scales ones, embeddings N(0, 1)", () => {
    const g = new Graph('init');
    nn.linear(g, 'fc', 16, 4);
    nn.conv2d(g, 'conv', 2, 3, 3);
    nn.layerNorm(g, 'ln', 4);
    nn.embedding(g, 'emb', 50, 40);
    const params = initialParams(g);
    const within = (name: string, bound: number): boolean => Array.from(params[name]!.data).every((v) => Math.abs(v) <= bound);
    expect(within('fc.kernel', 1 / 4) && within('fc.bias', 1 / 4)).to.equal(true);
    expect(within('conv.weight', 1 / Math.sqrt(18)) && within('conv.bias', 1 / Math.sqrt(18))).to.equal(true);
    expect(params['conv.bias']!.shape).to.deep.equal([3, 1, 1]);
    expect(Array.from(params['ln.weight']!.data)).to.deep.equal([1, 1, 1, 1]);
    const emb = Array.from(params['emb.weight']!.data);
    expect(Math.max(...emb.map(Math.abs))).to.be.greaterThan(2);
  });

  it('apply a linear layer over the last axis of a rank-3 input, as PyTorch does', () => {
    const g = new Graph('rank3');
    const x = g.input('x', [2, 3, 4]);
    const fc = nn.linear(g, 'fc', 4, 5);
    const y = fc(x);
    expect(y.shape).to.deep.equal([2, 3, 5]);
    const xs = Array.from({ length: 24 }, (_, i) => i / 10);
    const [out, kernel, bias] = evaluate([y, fc.kernel, fc.bias!], { feeds: { x: xs } }).map((t) => Array.from(t.data));
    const row = xs.slice(4, 8);
    const expected = [0, 1, 2, 3, 4].map((j) => row.reduce((acc, v, i) => acc + v * kernel![i * 5 + j]!, bias![j]!));
    out!.slice(5, 10).forEach((v, j) => expect(v).to.be.closeTo(expected[j]!, 1e-5));
  });

  it('compose in a sequential, with activations, flatten and dropout as layers', () => {
    const g = new Graph('sequential');
    const x = g.input('x', [4, 1, 6, 6]);
    const model = nn.sequential(nn.conv2d(g, 'conv', 1, 2, 3, { padding: 1 }), nn.batchNorm(g, 'bn', 2), nn.relu, nn.flatten, nn.dropout(0.5), nn.linear(g, 'fc', 72, 10), nn.gelu);
    expect(model(x).shape).to.deep.equal([4, 10]);
    expect(g.nodesOfRole('state').map((n) => n.name)).to.deep.equal(['bn.running_mean', 'bn.running_var', 'optimizer.step']);
  });

  it('attend across heads with multi-head attention, and refuse a dim the heads do not divide', () => {
    const g = new Graph('mha');
    const x = g.input('x', [2, 5, 8]);
    const attn = nn.multiHeadAttention(g, 'attn', 8, 4, { causal: true });
    expect(attn(x).shape).to.deep.equal([2, 5, 8]);
    expect(() => nn.multiHeadAttention(g, 'bad', 6, 4)).to.throw(ArgumentError, "nn.multiHeadAttention 'bad': dim 6 must be a multiple of heads 4");
  });

  it('refuse a layer name with a dot, pointing to scopes', () => {
    expect(() => nn.linear(new Graph('dots'), 'a.b', 2, 2)).to.throw(ArgumentError, "nn.linear: the name 'a.b' contains a dot, which joins scope names; nest a scope instead (nn.scope(graph, 'a', ...))");
  });
});
