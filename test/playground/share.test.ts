import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { hashOfCode, hashOfExample, readHash, withView } from '../../playground/share.js';

describe('playground/share', () => {
  it('round-trips code through the hash, whatever its characters', async () => {
    const code = `// π ≈ 3.14159 — “quotes”, emoji 🔥, tabs\t and\nnewlines\n${'x.add(y);\n'.repeat(200)}`;
    const hash = await hashOfCode(code);
    expect(hash).to.match(/^#code=[A-Za-z0-9_-]+$/);
    // Deflated: 200 repeated lines take far less than their length.
    expect(hash.length).to.be.lessThan(code.length / 4);
    expect(await readHash(hash)).to.deep.equal({ code });
  });

  it('reads links made by any raw-deflate implementation (here zlib), so a link can be made outside the page', async () => {
    const code = 'const g = new kiln.Graph("shared");';
    const encoded = deflateRawSync(Buffer.from(code, 'utf8')).toString('base64url');
    expect(await readHash(`#code=${encoded}`)).to.deep.equal({ code });
  });

  it('reads an example’s id, and nothing from an empty, foreign or damaged hash', async () => {
    expect(await readHash('#example=seed-mlp')).to.deep.equal({ example: 'seed-mlp' });
    expect(await readHash('')).to.equal(undefined);
    expect(await readHash('#section-2')).to.equal(undefined);
    const hash = await hashOfCode('const a = 1;');
    expect(await readHash(hash.slice(0, -4))).to.equal(undefined);
  });

  it('keeps the view beside the code or the example: entry, kernel, node, stage, fused', async () => {
    const code = 'const g = new kiln.Graph("viewed");';
    const view = { entry: 'trainStep', kernel: 3, node: 27, stage: 'fused', fused: false };
    const hash = await hashOfCode(code, view);
    expect(hash).to.match(/^#code=[A-Za-z0-9_-]+&entry=trainStep&kernel=3&node=27&stage=fused&fused=0$/);
    expect(await readHash(hash)).to.deep.equal({ code, view });
    expect(hashOfExample('small-cnn', { entry: 'forward', kernel: 0 })).to.equal('#example=small-cnn&entry=forward&kernel=0');
    expect(await readHash('#example=small-cnn&entry=forward&kernel=0')).to.deep.equal({ example: 'small-cnn', view: { entry: 'forward', kernel: 0 } });
    // Fused is the default: a link says so only when the unfused kernels are shown.
    expect(hashOfExample('seed-mlp', { fused: true })).to.equal('#example=seed-mlp');
  });

  it('replaces a hash’s view without touching its code, and ignores a view it cannot read', async () => {
    const hash = await hashOfCode('x.add(y);\n', { kernel: 1 });
    const moved = withView(hash, { entry: 'forward', node: 4 });
    expect(moved.split('&')[0]).to.equal(hash.split('&')[0]);
    expect(await readHash(moved)).to.deep.equal({ code: 'x.add(y);\n', view: { entry: 'forward', node: 4 } });
    expect(withView('#example=seed-mlp&kernel=2', {})).to.equal('#example=seed-mlp');
    expect(withView('#section-2', { kernel: 1 })).to.equal('#section-2');
    expect(await readHash('#example=seed-mlp&kernel=-1&node=x&fused=no')).to.deep.equal({ example: 'seed-mlp' });
  });
});
