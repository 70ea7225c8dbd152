import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { hashOfCode, readHash } from '../../playground/share.js';

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
});
