/**
 * `npm run golden`: regenerates the golden snapshots under `test/golden/` (see
 * test/golden-snapshots.ts) and removes generated files that no longer exist, so
 * `git diff test/golden` shows exactly what a compiler change did to the reference plans.
 */

import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { GOLDEN_DIR, goldenSnapshots, snapshotFilesOnDisk } from '../test/golden-snapshots.js';

async function main(): Promise<void> {
  const snapshots = goldenSnapshots();
  await mkdir(GOLDEN_DIR, { recursive: true });
  let written = 0;
  let unchanged = 0;
  let removed = 0;
  for (const path of snapshotFilesOnDisk()) {
    if (snapshots.has(path)) continue;
    await rm(join(GOLDEN_DIR, path));
    removed++;
  }
  for (const [path, text] of snapshots) {
    const file = join(GOLDEN_DIR, path);
    const old = await readFile(file, 'utf8').catch(() => undefined);
    if (old === text) {
      unchanged++;
      continue;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    written++;
  }
  // Folders emptied by removed snapshots (a graph taken off the list) would otherwise linger.
  const removeEmpty = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      await removeEmpty(join(dir, e.name));
      if ((await readdir(join(dir, e.name))).length === 0) await rmdir(join(dir, e.name));
    }
  };
  await removeEmpty(GOLDEN_DIR);
  const bytes = [...snapshots.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  console.log(
    `golden: ${snapshots.size} snapshot files (${(bytes / 1024).toFixed(1)} KiB) in ${relative(process.cwd(), GOLDEN_DIR)}: ` +
      `${written} written, ${unchanged} unchanged, ${removed} removed. Review with: git diff -- test/golden`,
  );
}

await main();
