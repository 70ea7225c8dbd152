import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { GOLDEN_DIR, GOLDEN_GRAPHS, goldenSnapshots, snapshotFilesOnDisk } from './golden-snapshots.js';

const UPDATE = 'If the change is intended, run `npm run golden` and review the diff (git diff -- test/golden).';
const MAX_BYTES = 200 * 1024;

/** Why a snapshot file does not match the compiled text (the file, the first differing line), or undefined. */
function mismatch(path: string, snapshot: string | undefined, compiled: string): string | undefined {
  const file = `test/golden/${path}`;
  if (snapshot === undefined) return `${file} is missing: the compiler now produces it. ${UPDATE}`;
  if (snapshot === compiled) return undefined;
  const old = snapshot.split('\n');
  const now = compiled.split('\n');
  let line = 0;
  while (line < old.length && line < now.length && old[line] === now[line]) line++;
  const show = (text: string | undefined) => (text === undefined ? '(end of file)' : JSON.stringify(text));
  return (
    `${file} differs from what the compiler produces now, first at line ${line + 1}:\n` +
    `  snapshot: ${show(old[line])}\n  compiled: ${show(now[line])}\n${UPDATE}`
  );
}

function readSnapshot(path: string): string | undefined {
  try {
    return readFileSync(join(GOLDEN_DIR, path), 'utf8');
  } catch {
    return undefined;
  }
}

describe('golden snapshots (test/golden)', () => {
  let compiled: Map<string, string>;
  before(() => {
    compiled = goldenSnapshots();
  });

  for (const { name } of GOLDEN_GRAPHS) {
    it(`the ${name} plan, its entry kernel lists and its WGSL equal the snapshots in test/golden/${name} byte for byte`, () => {
      const paths = [...compiled.keys()].filter((path) => path.startsWith(`${name}/`));
      expect(paths, `no snapshots generated for ${name}`).to.not.be.empty;
      const problems = paths.flatMap((path) => mismatch(path, readSnapshot(path), compiled.get(path)!) ?? []);
      if (problems.length > 0) expect.fail(problems.join('\n\n'));
    });
  }

  it('holds no snapshot file that the compiler no longer produces', () => {
    const stale = snapshotFilesOnDisk().filter((path) => !compiled.has(path));
    if (stale.length > 0) {
      expect.fail(`stale snapshots: ${stale.map((p) => `test/golden/${p}`).join(', ')}. Run \`npm run golden\` (it removes them) and review the diff.`);
    }
  });

  it('covers the seed MLP training step and its forward entry, kernel by kernel', () => {
    for (const path of ['seed-mlp/plan.txt', 'seed-mlp/trainStep.txt', 'seed-mlp/forward.txt']) expect(compiled.has(path), path).to.equal(true);
    const trainStep = compiled.get('seed-mlp/trainStep.txt')!;
    const listed = [...trainStep.matchAll(/^ {3}wgsl {8}(\S+)$/gm)].map((m) => `seed-mlp/${m[1]}`);
    expect(listed.length).to.be.greaterThan(0);
    for (const path of listed) expect(compiled.get(path), path).to.match(/^\/\/ kiln kernel /);
  });

  it('compiles to the same text every time, so the snapshots do not depend on the run', () => {
    const again = goldenSnapshots();
    expect([...again.keys()]).to.deep.equal([...compiled.keys()]);
    for (const [path, text] of again) expect(text, `test/golden/${path} changed between two compiles`).to.equal(compiled.get(path));
  });

  it('stays under 200 KB in all, so that a diff of it can be reviewed', () => {
    const bytes = [...compiled.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    expect(bytes).to.be.below(MAX_BYTES);
  });

  describe('a mismatch report', () => {
    it('names the file, the first differing line, and says to run npm run golden', () => {
      const report = mismatch('g/plan.txt', 'a\nb\nc\n', 'a\nB\nc\n')!;
      expect(report).to.contain('test/golden/g/plan.txt differs').and.contain('line 2').and.contain('"b"').and.contain('"B"');
      expect(report).to.contain('npm run golden').and.contain('review the diff');
    });

    it('names a missing file', () => {
      expect(mismatch('g/kernels/00-k1.wgsl', undefined, 'x')).to.contain('test/golden/g/kernels/00-k1.wgsl is missing');
    });

    it('points past the end of the shorter text when one is a prefix of the other', () => {
      expect(mismatch('g/a.txt', 'a', 'a\nb')).to.contain('line 2').and.contain('(end of file)');
    });

    it('is silent when the texts are equal', () => {
      expect(mismatch('g/a.txt', 'same\n', 'same\n')).to.equal(undefined);
    });
  });
});
