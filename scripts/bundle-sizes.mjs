/**
 * `npm run sizes`: what each entry of the package adds to a web app. Stages the package as
 * npm installs it (scripts/build.mjs), bundles a file that re-exports the entry with
 * esbuild for the browser, minified, as an app's build would (no flags), and prints the
 * minified and gzip sizes. `export *` keeps every export: an app importing less pays less.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { stagePackage } from './build.mjs';

/** The measured bundles: an app re-exporting these entries. */
export const MEASURED = [
  { name: 'kiln-webgpu', what: 'compiler and runtime, everything but ONNX', entries: ['kiln-webgpu'] },
  { name: 'kiln-webgpu/runtime', what: 'the plan runner only', entries: ['kiln-webgpu/runtime'] },
  { name: 'kiln-webgpu/onnx', what: 'importOnnx and the compiler parts it builds graphs with', entries: ['kiln-webgpu/onnx'] },
  { name: 'kiln-webgpu + kiln-webgpu/onnx', what: 'both, sharing their modules', entries: ['kiln-webgpu', 'kiln-webgpu/onnx'] },
];

/** An app's browser bundle of `source` (an ES module's text), resolved from `dir` where the package is staged. */
export async function appBundle(dir, source, { minify = true } = {}) {
  writeFileSync(join(dir, 'app.js'), source);
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: ['app.js'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify,
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

/** Minified and gzip bytes of each MEASURED bundle, with the package staged in `dir`. */
export async function measureEntries(dir) {
  const rows = [];
  for (const { name, what, entries } of MEASURED) {
    const text = await appBundle(dir, entries.map((entry) => `export * from '${entry}';`).join('\n'));
    rows.push({ name, what, minified: Buffer.byteLength(text), gzip: gzipSync(text).length });
  }
  return rows;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sizes-'));
  try {
    await stagePackage(dir);
    console.log('| entry | what | minified | gzip |\n|---|---|---:|---:|');
    for (const row of await measureEntries(dir)) console.log(`| \`${row.name}\` | ${row.what} | ${kb(row.minified)} | ${kb(row.gzip)} |`);
    console.log(`\nesbuild ${esbuild.version}, --bundle --minify --format=esm --platform=browser of \`export * from '<entry>'\`; gzip at zlib's default level.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
