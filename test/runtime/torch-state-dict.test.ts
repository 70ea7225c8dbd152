import { expect } from 'chai';
import { CheckpointError, Graph, compile, decodeSafetensors, evaluate, fromTorchStateDict, nn, toTorchStateDict, torchName, trainingProgram, sgd } from '../../index.js';
import type { HostTensor, Tensor } from '../../index.js';
import { safetensorsF32, safetensorsHeader, torchSafetensors } from './torch-fixtures.js';

const range = (n: number, scale: number, shift = 0): number[] => Array.from({ length: n }, (_, i) => shift + scale * i);

/** PyTorch's state_dict of Linear(3, 2) `fc`, Conv2d(1, 2, 2) `conv`, BatchNorm2d(2) `bn`, Embedding(4, 3) `emb`, in its layouts. */
const STATE_DICT = {
  'fc.weight': { dtype: 'F32', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
  'fc.bias': { dtype: 'F32', shape: [2], values: [0.5, -0.5] },
  'conv.weight': { dtype: 'F32', shape: [2, 1, 2, 2], values: range(8, 0.25, -1) },
  'conv.bias': { dtype: 'F32', shape: [2], values: [0.1, 0.2] },
  'bn.weight': { dtype: 'F32', shape: [2], values: [2, 3] },
  'bn.bias': { dtype: 'F32', shape: [2], values: [-1, 1] },
  'bn.running_mean': { dtype: 'F32', shape: [2], values: [0.5, 1.5] },
  'bn.running_var': { dtype: 'F32', shape: [2], values: [4, 0.25] },
  'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [1234] },
  'emb.weight': { dtype: 'F32', shape: [4, 3], values: range(12, 1) },
} as const;

function model() {
  const g = new Graph('torch_interop');
  const layers = {
    fc: nn.linear(g, 'fc', 3, 2),
    conv: nn.conv2d(g, 'conv', 1, 2, 2),
    bn: nn.batchNorm(g, 'bn', 2),
    emb: nn.embedding(g, 'emb', 4, 3),
  };
  const x = g.input('x', [1, 3]);
  const image = g.input('image', [2, 1, 3, 3]);
  const ids = g.input('ids', [2], 'i32');
  const outputs = { fc: layers.fc(x), bn: layers.bn(layers.conv(image)), emb: layers.emb(ids) };
  for (const [name, t] of Object.entries(outputs)) g.output(name, t);
  return { g, layers, outputs };
}

const values = (t: { data: ArrayLike<number> }): number[] => Array.from(t.data);

describe('PyTorch state_dicts in safetensors', () => {
  it('names kiln params as PyTorch does, a linear kernel as the transposed weight, and leaves optimizer state out', () => {
    expect(torchName('block0.attn.q.kernel')).to.deep.equal({ name: 'block0.attn.q.weight', transpose: true });
    expect(torchName('bn.running_mean')).to.deep.equal({ name: 'bn.running_mean', transpose: false });
    for (const name of ['fc.kernel.momentum', 'fc.bias.adam.m', 'fc.bias.adam.v', 'optimizer.step']) expect(torchName(name)).to.equal(null);
  });

  it('loads a Linear, Conv2d, BatchNorm and Embedding into the right elements, transposing the linear weight', () => {
    const { g, outputs } = model();
    const params = fromTorchStateDict(torchSafetensors(STATE_DICT), compile(g));
    expect(Object.keys(params).sort()).to.deep.equal(['bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.weight', 'conv.bias', 'conv.weight', 'emb.weight', 'fc.bias', 'fc.kernel']);
    expect(params['fc.kernel']!.shape).to.deep.equal([3, 2]);
    expect(values(params['fc.kernel']!)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    expect(values(params['conv.weight']!)).to.deep.equal(STATE_DICT['conv.weight'].values);
    expect(params['conv.bias']!.shape, "kiln's conv bias broadcasts over NCHW").to.deep.equal([2, 1, 1]);
    expect(values(params['bn.running_var']!)).to.deep.equal([4, 0.25]);

    const image = range(18, 0.5, -4);
    const feeds = { x: [1, 10, 100], image, ids: [3, 1] };
    const [fc, bn, emb] = evaluate([outputs.fc, outputs.bn, outputs.emb], { feeds, params, mode: 'infer' }).map(values);
    // PyTorch's Linear: y = x·Wᵀ + b, with W as stored in the file.
    expect(fc).to.deep.equal([1 + 20 + 300 + 0.5, 4 + 50 + 600 - 0.5]);
    expect(emb).to.deep.equal([9, 10, 11, 3, 4, 5]);
    // The batch norm in inference: channel c of the conv's first output element, normalized by the running statistics.
    const w = STATE_DICT['conv.weight'].values;
    const conv00 = image[0]! * w[0]! + image[1]! * w[1]! + image[3]! * w[2]! + image[4]! * w[3]! + 0.1;
    expect(bn![0]).to.be.closeTo(((conv00 - 0.5) / Math.sqrt(4 + 1e-5)) * 2 - 1, 1e-5);
  });

  it('saves kiln params back in PyTorch names and layouts, without the optimizer state, and round-trips the file', () => {
    const { g, outputs } = model();
    const program = trainingProgram(g, { loss: (outputs.fc as Tensor).square().mean(), optimizer: sgd({ lr: 0.1, momentum: 0.9 }) });
    const loaded = fromTorchStateDict(torchSafetensors(STATE_DICT), compile(program.graph));
    const withOptimizerState: Record<string, HostTensor> = { ...loaded, 'fc.kernel.momentum': { shape: [3, 2], dtype: 'f32', data: new Float32Array(6) } };
    const file = toTorchStateDict(withOptimizerState);
    const header = safetensorsHeader(file);
    expect(header['__metadata__']).to.deep.equal({ format: 'pt' });
    expect(Object.keys(header).filter((k) => k !== '__metadata__').sort()).to.deep.equal(
      ['bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.weight', 'conv.bias', 'conv.weight', 'emb.weight', 'fc.bias', 'fc.weight'],
    );
    expect(header['fc.weight']!.shape).to.deep.equal([2, 3]);
    expect(header['conv.bias']!.shape).to.deep.equal([2]);
    expect(safetensorsF32(file, 'fc.weight')).to.deep.equal([1, 2, 3, 4, 5, 6]);
    for (const name of Object.keys(STATE_DICT).filter((n) => n !== 'bn.num_batches_tracked')) {
      expect(values(decodeSafetensors(file).tensors[name]!), name).to.deep.equal(STATE_DICT[name as keyof typeof STATE_DICT].values.map(Math.fround));
    }
  });

  it('maps names with a rule the user gives, e.g. a prefix and one layer renamed', () => {
    const { g } = model();
    const prefixed = Object.fromEntries(Object.entries(STATE_DICT).map(([name, t]) => [`model.${name.replace('emb.', 'tok_embeddings.')}`, t]));
    const rename = (kilnName: string): string | null => {
      const byDefault = torchName(kilnName);
      return byDefault && `model.${byDefault.name.replace('emb.', 'tok_embeddings.')}`;
    };
    const params = fromTorchStateDict(torchSafetensors(prefixed), compile(g), { rename });
    expect(values(params['fc.kernel']!)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    expect(values(params['emb.weight']!)).to.deep.equal(STATE_DICT['emb.weight'].values);
    expect(safetensorsHeader(toTorchStateDict(params, { rename }))).to.have.property('model.tok_embeddings.weight');
  });

  it('names the missing tensor, the one left over and a shape that does not fit', () => {
    const { g } = model();
    const plan = compile(g);
    const { 'bn.running_var': _, ...withoutVar } = STATE_DICT;
    expect(() => fromTorchStateDict(torchSafetensors(withoutVar), plan)).to.throw(CheckpointError, "fromTorchStateDict: the file has no 'bn.running_var'. Fix: map the names with rename");
    const extra = { ...STATE_DICT, 'head.weight': { dtype: 'F32', shape: [1], values: [0] } } as const;
    expect(() => fromTorchStateDict(torchSafetensors(extra), plan)).to.throw(CheckpointError, "no kiln param or state is named for 'head.weight' in the file. Fix: map them with rename, or load with strict: false");
    expect(Object.keys(fromTorchStateDict(torchSafetensors(extra), plan, { strict: false }))).to.have.length(9);
    const wrong = { ...STATE_DICT, 'fc.weight': { dtype: 'F32', shape: [3, 2], values: [1, 2, 3, 4, 5, 6] } } as const;
    expect(() => fromTorchStateDict(torchSafetensors(wrong), plan)).to.throw(
      CheckpointError,
      "fromTorchStateDict: 'fc.weight' is [3,2] in the file, transposed [2,3], but 'fc.kernel' is [3,2]; is it the same model?",
    );
  });

  it('leaves out the I64 num_batches_tracked only when asked to skip unsupported dtypes', () => {
    const file = torchSafetensors(STATE_DICT);
    expect(() => decodeSafetensors(file)).to.throw(CheckpointError, 'dtype I64 is not supported; kiln reads F32, I32 and BOOL (convert the tensor before saving, or decode with {skipUnsupported: true} to leave it out)');
    const decoded = decodeSafetensors(file, { skipUnsupported: true });
    expect(decoded.skipped).to.deep.equal({ 'bn.num_batches_tracked': 'I64' });
    expect(decoded.tensors).to.not.have.property('bn.num_batches_tracked');
  });
});
