/**
 * scripts/playground-sizes.ts sorts a built site's files into code (raw and gzip), the rest
 * of the site, source maps and the dataset, and prints them as a table.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { siteSizes, sizesTable } from '../../scripts/playground-sizes.js';

describe('npm run playground:sizes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-sizes-test-'));
    await mkdir(join(dir, 'chunks'));
    await mkdir(join(dir, 'data', 'fashion-mnist'), { recursive: true });
    await writeFile(join(dir, 'main.js'), 'x'.repeat(3000));
    await writeFile(join(dir, 'main.js.map'), 'm'.repeat(500));
    await writeFile(join(dir, 'chunks', 'chunk-A.js'), 'y'.repeat(5000));
    await writeFile(join(dir, 'index.html'), '<!doctype html>');
    await writeFile(join(dir, 'data', 'fashion-mnist', 'train-labels-idx1-ubyte.gz'), Buffer.alloc(7000));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists scripts largest first with gzip sizes, and totals the site without maps and data', async () => {
    const sizes = await siteSizes(dir);
    const gz = (text: string): number => gzipSync(text).length;
    expect(sizes.code).to.deep.equal([
      { path: 'chunks/chunk-A.js', raw: 5000, gzip: gz('y'.repeat(5000)) },
      { path: 'main.js', raw: 3000, gzip: gz('x'.repeat(3000)) },
    ]);
    expect(sizes.site).to.deep.equal({ raw: 8000 + 15, gzip: gz('y'.repeat(5000)) + gz('x'.repeat(3000)) + gz('<!doctype html>') });
    expect(sizes.sourceMaps).to.equal(500);
    expect(sizes.data).to.equal(7000);
    const table = sizesTable(sizes);
    expect(table).to.contain('| `chunks/chunk-A.js` | 4.9 KB |');
    expect(table).to.contain('the dataset 0.01 MB');
  });
});
