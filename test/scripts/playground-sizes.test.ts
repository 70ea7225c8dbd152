/**
 * scripts/playground-sizes.ts sorts a built site's files into code (raw and gzip), the rest
 * of the site, source maps and the dataset, groups the scripts loaded together by their
 * imports, and prints them as tables.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { siteSizes, sizesTable } from '../../scripts/playground-sizes.js';

/** A page script: a static import of the shared chunk, a dynamic one of the late chunk, padded. */
const MAIN = `import{a}from"./chunks/chunk-A.js";const l=()=>import("./chunks/late.js");${'x'.repeat(3000)}`;

describe('npm run playground:sizes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-sizes-test-'));
    await mkdir(join(dir, 'chunks'));
    await mkdir(join(dir, 'data', 'fashion-mnist'), { recursive: true });
    await writeFile(join(dir, 'main.js'), MAIN);
    await writeFile(join(dir, 'worker.js'), 'import{b}from"./chunks/chunk-A.js";');
    await writeFile(join(dir, 'chunks', 'late.js'), 'import"./chunk-A.js";');
    await writeFile(join(dir, 'main.js.map'), 'm'.repeat(500));
    await writeFile(join(dir, 'chunks', 'chunk-A.js'), 'y'.repeat(5000));
    await writeFile(join(dir, 'index.html'), '<!doctype html>');
    await writeFile(join(dir, 'data', 'fashion-mnist', 'train-labels-idx1-ubyte.gz'), Buffer.alloc(7000));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists scripts largest first with gzip sizes, groups them by what loads together, and totals the site without maps and data', async () => {
    const sizes = await siteSizes(dir);
    const gz = (text: string): number => gzipSync(text).length;
    const [worker, late] = ['import{b}from"./chunks/chunk-A.js";', 'import"./chunk-A.js";'];
    expect(sizes.code).to.deep.equal([
      { path: 'chunks/chunk-A.js', raw: 5000, gzip: gz('y'.repeat(5000)) },
      { path: 'main.js', raw: MAIN.length, gzip: gz(MAIN) },
      { path: 'worker.js', raw: worker.length, gzip: gz(worker) },
      { path: 'chunks/late.js', raw: late.length, gzip: gz(late) },
    ]);
    expect(sizes.groups.map(({ files, raw }) => ({ files, raw }))).to.deep.equal([
      { files: ['main.js', 'chunks/chunk-A.js'], raw: MAIN.length + 5000 },
      { files: ['chunks/late.js'], raw: late.length },
      { files: ['worker.js', 'chunks/chunk-A.js'], raw: worker.length + 5000 },
    ]);
    expect(sizes.site.raw).to.equal(5000 + MAIN.length + worker.length + late.length + 15);
    expect(sizes.sourceMaps).to.equal(500);
    expect(sizes.data).to.equal(7000);
    const table = sizesTable(sizes);
    expect(table).to.contain('| `chunks/chunk-A.js` | 4.9 KB |');
    expect(table).to.contain('| the page before its first paint: main.js, its static imports and main.css | `main.js`, `chunks/chunk-A.js` |');
    expect(table).to.contain('the dataset 0.01 MB');
  });
});
